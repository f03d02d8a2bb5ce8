/* json_out.c - safe JSON output: UTF-8 repair of untrusted strings (file names, error messages,
 * texts read by models) and all-or-nothing JSON files (temporary file + rename). See json_out.h. */
#include "json_out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t seq_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned cp, min;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4, cp = c & 0x07, min = 0x10000;
  else
    return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool vg_utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t k = seq_len(p + i, n - i);
    if (!k) return false;
    i += k;
  }
  return true;
}

char *vg_utf8_repair(const char *s) {
  size_t n = strlen(s);
  char *out = malloc(n * 3 + 1); /* each bad byte grows to 3 bytes at most */
  if (!out) return NULL;
  const unsigned char *p = (const unsigned char *)s;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t k = seq_len(p + i, n - i);
    if (k) {
      memcpy(out + o, p + i, k);
      o += k;
      i += k;
    } else {
      memcpy(out + o, "\xEF\xBF\xBD", 3);
      o += 3;
      i++;
    }
  }
  out[o] = '\0';
  return out;
}

void vg_utf8_trim(char *s) {
  unsigned char *p = (unsigned char *)s;
  size_t n = strlen(s);
  for (size_t i = 0; i < n;) {
    size_t k = seq_len(p + i, n - i);
    if (k) {
      i += k;
      continue;
    }
    /* a lead byte whose sequence runs into the end of the string: cut there */
    size_t want = p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : p[i] >= 0xC2 ? 2 : 0;
    bool cut = want > n - i;
    for (size_t j = i + 1; cut && j < n; j++)
      cut = (p[j] & 0xC0) == 0x80;
    if (cut) {
      p[i] = '\0';
      return;
    }
    p[i++] = '?';
  }
}

json_t *vg_json_text(const char *s) {
  if (!s) return json_null();
  size_t n = strlen(s);
  if (vg_utf8_valid(s, n)) return json_stringn(s, n);
  char *fixed = vg_utf8_repair(s);
  if (!fixed) return NULL;
  json_t *j = json_string(fixed);
  free(fixed);
  return j;
}

char *vg_json_dump_text(const json_t *o, size_t flags) {
  if (!o) {
    vg_set_error(VG_ERR_NO_MEMORY, "cannot build the JSON document (out of memory)");
    return NULL;
  }
  char *t = json_dumps(o, flags);
  if (!t) vg_set_error(VG_ERR_NO_MEMORY, "cannot serialise the JSON document");
  return t;
}

vg_status vg_json_write_file(const json_t *o, const char *path, size_t flags) {
  char *text = vg_json_dump_text(o, flags);
  if (!text) return vg_last_status();
  size_t len = strlen(text);
  char tmp[4096];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= sizeof tmp) {
    free(text);
    return vg_set_error(VG_ERR_INVALID_ARG, "cannot write '%s': path too long", path);
  }
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int e = errno;
    free(text);
    return vg_set_error(VG_ERR_IO, "cannot write '%s': %s", path, strerror(e));
  }
  size_t done = 0;
  int err = 0;
  while (done < len && !err) {
    ssize_t w = write(fd, text + done, len - done);
    if (w > 0)
      done += (size_t)w;
    else if (w < 0 && errno != EINTR)
      err = errno;
  }
  if (!err && write(fd, "\n", 1) != 1) err = errno ? errno : EIO;
  if (!err && fsync(fd) != 0 && errno != EINVAL) err = errno;
  if (!err && fchmod(fd, 0644) != 0) err = errno; /* mkstemp made it 0600 */
  if (close(fd) != 0 && !err) err = errno;
  if (!err && rename(tmp, path) != 0) err = errno;
  free(text);
  if (err) {
    unlink(tmp);
    return vg_set_error(VG_ERR_IO, "cannot write '%s': %s", path, strerror(err));
  }
  return VG_OK;
}
