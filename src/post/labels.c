/* labels.c - line-per-entry UTF-8 text files: class-name lists and CTC dictionaries. A parser of
 * untrusted files: every malformed input is an error naming file and line. */
#include "post_internal.h"

#include <stdio.h>

struct vg_labels {
  size_t count;
  char **items;
  char *storage; /* all entries, NUL-separated */
};

/* Length of the valid UTF-8 sequence at s (of at most n bytes), 0 when invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0)
    len = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0)
    len = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0)
    len = 4, cp = c & 0x07;
  else
    return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  /* overlong forms, surrogates, beyond U+10FFFF */
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return len;
}

static vg_status check_line(const char *name, size_t lineno, const char *s, size_t n) {
  if (n == 0) return vg_set_error(VG_ERR_PARSE, "%s:%zu: empty line", name, lineno);
  if (n > VG_LABELS_LINE_MAX)
    return vg_set_error(VG_ERR_PARSE, "%s:%zu: line of %zu bytes is longer than %d", name, lineno,
                        n, VG_LABELS_LINE_MAX);
  for (size_t i = 0; i < n;) {
    if (s[i] == '\0')
      return vg_set_error(VG_ERR_PARSE, "%s:%zu: NUL byte in a text file", name, lineno);
    size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
    if (l == 0)
      return vg_set_error(VG_ERR_PARSE, "%s:%zu: invalid UTF-8 at byte %zu of the line", name,
                          lineno, i + 1);
    i += l;
  }
  return VG_OK;
}

vg_status vg_labels_parse(const char *data, size_t len, const char *name, vg_labels **out) {
  *out = NULL;
  if (!name) name = "labels";
  if (!data && len) return vg_set_error(VG_ERR_INVALID_ARG, "%s: no data", name);
  if (len > VG_LABELS_MAX_FILE_BYTES)
    return vg_set_error(VG_ERR_PARSE, "%s: %zu bytes is more than the %u allowed", name, len,
                        VG_LABELS_MAX_FILE_BYTES);
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) data += 3, len -= 3; /* UTF-8 BOM */
  /* first pass: count and check lines */
  size_t count = 0, lineno = 0;
  for (size_t i = 0; i < len;) {
    const char *nl = memchr(data + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - data) : len, n = end - i;
    if (n && data[i + n - 1] == '\r') n--;
    lineno++;
    VG_TRY(check_line(name, lineno, data + i, n));
    if (++count > VG_LABELS_MAX_COUNT)
      return vg_set_error(VG_ERR_PARSE, "%s: more than %d entries", name, VG_LABELS_MAX_COUNT);
    i = end + 1;
  }
  if (count == 0) return vg_set_error(VG_ERR_PARSE, "%s: the file has no entries", name);
  vg_labels *l = calloc(1, sizeof *l);
  if (l) l->items = calloc(count, sizeof *l->items);
  if (l) l->storage = malloc(len + 1);
  if (!l || !l->items || !l->storage) {
    vg_labels_free(l);
    return vg_set_error(VG_ERR_NO_MEMORY, "%s: out of memory for %zu entries", name, count);
  }
  char *w = l->storage;
  for (size_t i = 0; i < len;) {
    const char *nl = memchr(data + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - data) : len, n = end - i;
    if (n && data[i + n - 1] == '\r') n--;
    memcpy(w, data + i, n);
    w[n] = '\0';
    l->items[l->count++] = w;
    w += n + 1;
    i = end + 1;
  }
  *out = l;
  return VG_OK;
}

vg_status vg_labels_load(const char *path, vg_labels **out) {
  *out = NULL;
  char *data;
  size_t size;
  VG_TRY(vg_read_file(path, VG_LABELS_MAX_FILE_BYTES, &data, &size));
  vg_status s = vg_labels_parse(data, size, path, out);
  free(data);
  return s;
}

void vg_labels_free(vg_labels *l) {
  if (!l) return;
  free(l->items);
  free(l->storage);
  free(l);
}

size_t vg_labels_count(const vg_labels *l) {
  return l ? l->count : 0;
}

const char *vg_labels_get(const vg_labels *l, size_t i) {
  return l && i < l->count ? l->items[i] : NULL;
}

void post_set_label(vg_object *o, const vg_labels *labels, int class_id) {
  const char *s = class_id >= 0 ? vg_labels_get(labels, (size_t)class_id) : NULL;
  if (!s) return;
  size_t n = strlen(s);
  if (n >= VG_LABEL_MAX) { /* truncate at a character boundary */
    n = VG_LABEL_MAX - 1;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--;
  }
  memcpy(o->label, s, n);
  o->label[n] = '\0';
}

vg_status post_check_host(const vg_tensor *t, const char *what, bool float_only) {
  char buf[96];
  if (!t || !t->buffer) return vg_set_error(VG_ERR_INVALID_ARG, "%s: empty tensor", what);
  if (vg_tensor_device(t).kind != VG_DEVICE_CPU)
    return vg_set_error(VG_ERR_INVALID_ARG, "%s: tensor %s is not in host memory", what,
                        vg_tensor_str(t, buf, sizeof buf));
  bool isf = t->dtype == VG_DTYPE_F32 || t->dtype == VG_DTYPE_F16;
  if (float_only ? !isf : !(isf || t->dtype == VG_DTYPE_I32 || t->dtype == VG_DTYPE_I64))
    return vg_set_error(VG_ERR_INVALID_ARG, "%s: tensor %s has an unsupported dtype", what,
                        vg_tensor_str(t, buf, sizeof buf));
  return VG_OK;
}

const char *post_shape_str(const vg_tensor *t, char *buf, size_t cap) {
  size_t o = 0;
  o += (size_t)snprintf(buf + o, cap - o, "[");
  for (int i = 0; i < t->ndim && o < cap; i++)
    o += (size_t)snprintf(buf + o, cap - o, i ? ",%lld" : "%lld", (long long)t->shape[i]);
  if (o < cap) snprintf(buf + o, cap - o, "]");
  return buf;
}
