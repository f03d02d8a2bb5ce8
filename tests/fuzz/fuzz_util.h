/* fuzz_util.h - helpers shared by the libFuzzer targets of tests/fuzz: writing an input to a
 * per-process temporary file for the parsers that read files, and quieting the logger so that a
 * fuzzing run prints only libFuzzer's own lines. */
#ifndef VIDGRAPH_FUZZ_UTIL_H
#define VIDGRAPH_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vidgraph/vg_core.h"

/* Writes data to $TMPDIR/vg_fuzz_<pid><suffix> (the same file on every call of one process) and
 * returns its path; NULL when it cannot be written (the input is then skipped). */
static inline const char *fuzz_write_temp(const uint8_t *data, size_t size, const char *suffix) {
  static char path[512];
  const char *dir = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/vg_fuzz_%ld%s", dir && *dir ? dir : "/tmp", (long)getpid(),
           suffix);
  FILE *f = fopen(path, "wb");
  if (!f) return NULL;
  size_t n = size ? fwrite(data, 1, size, f) : 0;
  if (fclose(f) != 0 || n != size) return NULL;
  return path;
}

/* Nul-terminated copy of the input (the parsers take C strings); NULL when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return NULL;
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* Logs only errors, on stderr, so that a run of millions of inputs stays readable. */
static inline void fuzz_quiet(void) {
  static int done;
  if (done) return;
  done = 1;
  vg_log_set_level(NULL, VG_LOG_OFF);
}

#endif
