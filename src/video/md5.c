/* md5.c - MD5 (RFC 1321) of frames and bytes, so that decoded pictures can be compared with
 * `ffmpeg -f framemd5` lists on any machine, including the GPU machine build that has no
 * FFmpeg (and so no libavutil MD5). */
#include "vidgraph/vg_video.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct md5_ctx {
  uint32_t h[4];
  uint64_t len;
  uint8_t buf[64];
  size_t fill;
} md5_ctx;

static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const uint8_t R[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                              5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                              4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                              6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static uint32_t rotl(uint32_t x, int c) {
  return (x << c) | (x >> (32 - c));
}

static void block(md5_ctx *c, const uint8_t *p) {
  uint32_t m[16];
  for (int i = 0; i < 16; i++)
    m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
           (uint32_t)p[4 * i + 3] << 24;
  uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
  for (int i = 0; i < 64; i++) {
    uint32_t f;
    int g;
    if (i < 16) {
      f = (b & cc) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & cc);
      g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ cc ^ d;
      g = (3 * i + 5) % 16;
    } else {
      f = cc ^ (b | ~d);
      g = (7 * i) % 16;
    }
    uint32_t t = d;
    d = cc;
    cc = b;
    b = b + rotl(a + f + K[i] + m[g], R[i]);
    a = t;
  }
  c->h[0] += a;
  c->h[1] += b;
  c->h[2] += cc;
  c->h[3] += d;
}

static void md5_init(md5_ctx *c) {
  memset(c, 0, sizeof *c);
  c->h[0] = 0x67452301;
  c->h[1] = 0xefcdab89;
  c->h[2] = 0x98badcfe;
  c->h[3] = 0x10325476;
}

static void md5_update(md5_ctx *c, const uint8_t *p, size_t n) {
  c->len += n;
  while (n) {
    size_t take = 64 - c->fill < n ? 64 - c->fill : n;
    memcpy(c->buf + c->fill, p, take);
    c->fill += take;
    p += take;
    n -= take;
    if (c->fill == 64) {
      block(c, c->buf);
      c->fill = 0;
    }
  }
}

static void md5_final(md5_ctx *c, char hex[33]) {
  uint64_t bits = c->len * 8;
  uint8_t pad = 0x80, zero = 0, lenb[8];
  md5_update(c, &pad, 1);
  while (c->fill != 56)
    md5_update(c, &zero, 1);
  for (int i = 0; i < 8; i++)
    lenb[i] = (uint8_t)(bits >> (8 * i));
  md5_update(c, lenb, 8);
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", (c->h[i / 4] >> (8 * (i % 4))) & 0xff);
}

void vg_md5_hex(const void *data, size_t len, char hex[33]) {
  md5_ctx c;
  md5_init(&c);
  md5_update(&c, data, len);
  md5_final(&c, hex);
}

vg_status vg_frame_md5(const vg_frame *f, char hex[33]) {
  hex[0] = 0;
  if (!f || !f->buffer) return vg_set_error(VG_ERR_INVALID_ARG, "vg_frame_md5: empty frame");
  vg_frame host;
  const vg_frame *src;
  VG_TRY(vg_frame_host_view(f, &host, &src));
  md5_ctx c;
  md5_init(&c);
  for (int p = 0; p < src->nplanes; p++) {
    size_t wb = vg_frame_plane_width_bytes(src, p);
    const uint8_t *base = vg_frame_plane(src, p);
    for (int r = 0; r < vg_frame_plane_rows(src, p); r++)
      md5_update(&c, base + (size_t)r * src->pitch[p], wb);
  }
  md5_final(&c, hex);
  if (src == &host) vg_frame_release(&host);
  return VG_OK;
}
