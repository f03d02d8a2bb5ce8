/* json_out.h - what every JSON writer of vidgraph uses (internal, not part of the public API):
 * strings that may hold bytes which are not UTF-8 (file names, messages cut mid-character)
 * become JSON strings with each bad byte replaced by U+FFFD instead of making jansson fail, and
 * files are written whole or not at all (a temporary file in the same folder, then rename), and
 * JSON-lines files never end inside a line. */
#ifndef VIDGRAPH_CORE_JSON_OUT_H
#define VIDGRAPH_CORE_JSON_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "vidgraph/vg_core.h"

/* True when the n bytes at s are well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool vg_utf8_valid(const char *s, size_t n);
/* A malloc'd copy of s (NUL-terminated) with every byte that is not part of a well-formed UTF-8
 * sequence replaced by U+FFFD. NULL only when out of memory. */
char *vg_utf8_repair(const char *s);
/* Repairs s in place: a UTF-8 sequence cut by the end of the string (the usual
 * result of snprintf into a fixed buffer) is removed; other bad bytes become '?'. */
void vg_utf8_trim(char *s);
/* A JSON string of s, repaired when needed; json_null() for NULL. NULL only when out of memory. */
json_t *vg_json_text(const char *s);
/* json_dumps that never returns text for a broken document: NULL (with vg_set_error) instead. */
char *vg_json_dump_text(const json_t *o, size_t flags);
/* Writes o to path whole or not at all: a temporary file beside it, flushed, then renamed over
 * path. On failure path is untouched and the error names the path and the reason. */
vg_status vg_json_write_file(const json_t *o, const char *path, size_t flags);

/* A JSON-lines file (events.jsonl, json_sink) written by several threads: one compact line per
 * document, repaired like the rest, buffered (64 KiB) unless a write asks to flush. A failed write
 * (a full disk) cuts the file back to its last whole line and the error, naming the file and the
 * reason, is returned by that call and every later one. "-" is standard output (not cut back). */
typedef struct vg_jsonl vg_jsonl;
vg_status vg_jsonl_open(const char *path, bool append, vg_jsonl **out);
vg_status vg_jsonl_write(vg_jsonl *w, const json_t *o, size_t flags, bool flush);
vg_status vg_jsonl_flush(vg_jsonl *w);
/* Flushes and closes (NULL is fine); the first error of the file, if any. */
vg_status vg_jsonl_close(vg_jsonl *w);
const char *vg_jsonl_path(const vg_jsonl *w);

#endif
