/* json_out.c - safe JSON output: UTF-8 repair of untrusted strings (file names, error messages,
 * texts read by models), all-or-nothing JSON files (temporary file + rename) and JSON-lines files
 * that never end inside a line (vg_jsonl). See json_out.h. */
#include "json_out.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* ------------------------------------------------------------------ JSON lines */

#define JSONL_BUFFER (64 * 1024)

struct vg_jsonl {
  pthread_mutex_t mu;
  int fd;
  bool own;   /* a file we opened (not standard output): it can be cut back */
  off_t good; /* file size after the last line written whole */
  char *buf;  /* whole lines not written yet */
  size_t len, cap;
  vg_status failed; /* sticky: the first write error */
  char error[600];
  char path[];
};

vg_status vg_jsonl_open(const char *path, bool append, vg_jsonl **out) {
  *out = NULL;
  if (!path || !*path) return vg_set_error(VG_ERR_INVALID_ARG, "JSON lines: empty file name");
  size_t n = strlen(path);
  vg_jsonl *w = calloc(1, sizeof *w + n + 1);
  if (!w) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory opening '%s'", path);
  memcpy(w->path, path, n + 1);
  if (strcmp(path, "-") == 0) {
    fflush(stdout); /* lines go straight to the descriptor, after what stdio holds */
    w->fd = STDOUT_FILENO;
  } else {
    w->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
    if (w->fd < 0) {
      vg_status st =
          vg_set_error(VG_ERR_IO, "cannot open '%s' for writing: %s", path, strerror(errno));
      free(w);
      return st;
    }
    w->own = true;
    struct stat sb;
    w->good = fstat(w->fd, &sb) == 0 ? sb.st_size : 0;
  }
  pthread_mutex_init(&w->mu, NULL);
  *out = w;
  return VG_OK;
}

/* Writes the buffered lines. On failure (a full disk) the file is cut back to its last whole
 * line, so that a reader never sees half a line, and the error sticks. */
static vg_status jsonl_flush_locked(vg_jsonl *w) {
  if (w->failed != VG_OK) return vg_set_error(w->failed, "%s", w->error);
  size_t off = 0;
  while (off < w->len) {
    ssize_t r = write(w->fd, w->buf + off, w->len - off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int err = r < 0 ? errno : EIO;
      if (w->own && ftruncate(w->fd, w->good) == 0) lseek(w->fd, w->good, SEEK_SET);
      w->failed = VG_ERR_IO;
      snprintf(w->error, sizeof w->error, "cannot write to '%s': %s%s", w->path, strerror(err),
               w->own ? " (the file ends at its last whole line)" : "");
      w->len = 0;
      return vg_set_error(w->failed, "%s", w->error);
    }
    off += (size_t)r;
  }
  w->good += (off_t)w->len;
  w->len = 0;
  return VG_OK;
}

vg_status vg_jsonl_write(vg_jsonl *w, const json_t *o, size_t flags, bool flush) {
  char *t = vg_json_dump_text(o, (flags | JSON_COMPACT) & ~(size_t)JSON_INDENT(0x1F));
  if (!t) return vg_wrap_error(vg_last_status(), "a line for '%s'", w->path);
  size_t n = strlen(t);
  pthread_mutex_lock(&w->mu);
  vg_status st = w->failed;
  if (st == VG_OK && w->len + n + 1 > w->cap) {
    size_t cap = w->len + n + 1 > JSONL_BUFFER ? w->len + n + 1 : JSONL_BUFFER;
    char *nb = realloc(w->buf, cap);
    if (!nb)
      st = vg_set_error(VG_ERR_NO_MEMORY, "out of memory writing '%s'", w->path);
    else
      w->buf = nb, w->cap = cap;
  }
  if (st == VG_OK) {
    memcpy(w->buf + w->len, t, n);
    w->buf[w->len + n] = '\n';
    w->len += n + 1;
    if (flush || w->len >= JSONL_BUFFER) st = jsonl_flush_locked(w);
  } else if (st == w->failed) {
    st = vg_set_error(w->failed, "%s", w->error);
  }
  pthread_mutex_unlock(&w->mu);
  free(t);
  return st;
}

vg_status vg_jsonl_flush(vg_jsonl *w) {
  pthread_mutex_lock(&w->mu);
  vg_status st = jsonl_flush_locked(w);
  pthread_mutex_unlock(&w->mu);
  return st;
}

vg_status vg_jsonl_close(vg_jsonl *w) {
  if (!w) return VG_OK;
  vg_status st = vg_jsonl_flush(w);
  if (w->own && close(w->fd) != 0 && st == VG_OK)
    st = vg_set_error(VG_ERR_IO, "cannot write to '%s': %s", w->path, strerror(errno));
  pthread_mutex_destroy(&w->mu);
  free(w->buf);
  free(w);
  return st;
}

const char *vg_jsonl_path(const vg_jsonl *w) {
  return w->path;
}
