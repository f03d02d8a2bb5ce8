/* textnorm.c - normalisation of recognised text before it is judged (min/max length, pattern).
 * A general recogniser such as PP-OCR's (Chinese + Latin dictionary) reads the hyphen of a plate
 * like "12-XKB-3" as any of several dash-like glyphs (U+4E00 "one", the katakana long vowel mark,
 * em/en dashes, minus, full-width hyphen), and may read letters in lower case or full width. The
 * plate form folds all of those into upper-case ASCII with '-' and single spaces, so that one
 * pattern can judge every reading. */
#include "vidgraph/vg_post.h"

#include <string.h>

/* Decodes one UTF-8 code point at s (advances *len bytes); malformed bytes decode as themselves
 * (one byte), so nothing is ever lost or read past the terminator. */
static unsigned decode(const unsigned char *s, int *len) {
  unsigned c = s[0];
  int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n <= 1) {
    *len = 1;
    return c;
  }
  unsigned cp = c & (0x7Fu >> n);
  for (int k = 1; k < n; k++) {
    if ((s[k] & 0xC0) != 0x80) {
      *len = 1;
      return c;
    }
    cp = (cp << 6) | (s[k] & 0x3Fu);
  }
  *len = n;
  return cp;
}

static bool is_dash(unsigned cp) {
  return cp == '-' || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0x2500 ||
         cp == 0x2501 || cp == 0x30FC || cp == 0x4E00 || cp == 0xFE58 || cp == 0xFE63 ||
         cp == 0xFF0D || cp == 0x00AD;
}

static bool is_blank(unsigned cp) {
  return cp == ' ' || cp == '\t' || cp == 0x3000 || cp == 0x00A0;
}

/* Plate form of one code point: an ASCII byte, or 0 when it is kept as it was. */
static char plate_char(unsigned cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0; /* full-width ASCII */
  if (is_dash(cp)) return '-';
  if (is_blank(cp)) return ' ';
  if (cp >= 'a' && cp <= 'z') return (char)(cp - 'a' + 'A');
  if (cp > 0x20 && cp < 0x7F) return (char)cp;
  return 0;
}

static void normalize_plate(char *text) {
  const unsigned char *in = (const unsigned char *)text;
  char *out = text; /* never ahead of `in`: every output is at most as long as its input */
  char sep = 0;     /* pending separator: ' ' or '-' ('-' wins over spaces around it) */
  bool any = false;
  while (*in) {
    int len;
    unsigned cp = decode(in, &len);
    char a = plate_char(cp);
    if (a == ' ' || a == '-') {
      if (a == '-' || sep == 0) sep = a;
      in += len;
      continue;
    }
    if (sep && any) *out++ = sep; /* separators at the start or the end are dropped */
    sep = 0;
    any = true;
    if (a) {
      *out++ = a;
    } else {
      memmove(out, in, (size_t)len);
      out += len;
    }
    in += len;
  }
  *out = '\0';
}

size_t vg_text_distinct_lower(const char *text) {
  size_t n = 0;
  for (const char *p = text; p && *p; p++)
    if (*p >= 'a' && *p <= 'z' && !strchr("cosuvwxz", *p)) n++;
  return n;
}

void vg_text_normalize(char *text, vg_text_norm mode) {
  if (!text || mode == VG_TEXT_NORM_NONE) return;
  normalize_plate(text);
}

vg_status vg_text_norm_from_name(const char *name, vg_text_norm *out) {
  if (name && strcmp(name, "none") == 0) {
    *out = VG_TEXT_NORM_NONE;
    return VG_OK;
  }
  if (name && strcmp(name, "plate") == 0) {
    *out = VG_TEXT_NORM_PLATE;
    return VG_OK;
  }
  return vg_set_error(VG_ERR_INVALID_ARG, "unknown text normalisation '%s' (none, plate)",
                      name ? name : "(null)");
}

size_t vg_text_plate_length(const char *text) {
  size_t n = 0;
  const unsigned char *s = (const unsigned char *)text;
  while (s && *s) {
    int len;
    unsigned cp = decode(s, &len);
    n += !(is_dash(cp) || is_blank(cp));
    s += len;
  }
  return n;
}
