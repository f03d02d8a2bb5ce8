/* bench_shm.c - benchmark (not a test) of the shared-memory data plane against JSON/base64 for
 * one 1080p RGB frame (6.2 MB), the two ways a client can hand a frame to `vidgraph serve`:
 *  - shm:    the client copies the frame into its registered region (vg_client_write_frame,
 *            which also builds the reference JSON), the reference crosses a loopback TCP socket,
 *            the server side parses and resolves it (vg_shm_ref_resolve) and reads the pixels;
 *  - base64: the client base64-encodes the frame into a JSON body (jansson), the body crosses
 *            the same loopback socket, the server side parses it and decodes the pixels.
 * Both end with the same pass over the pixels (a checksum), so both "deliver" the frame. Prints
 * the mean and p50 per frame of each path and their ratio, measured in one run, then one line
 * "RESULT: {json}". Usage: bench_shm [--iters N]. Needs FFmpeg's libavutil for base64. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "server/shm.h"
#include "vidgraph/vg_client.h"

#ifdef VG_HAVE_FFMPEG
#include <libavutil/base64.h>

enum { W = 1920, H = 1080 };

#define CHECK(expr)                                                                                \
  do {                                                                                             \
    if ((expr) != VG_OK) {                                                                         \
      fprintf(stderr, "bench_shm: %s failed: %s\n", #expr, vg_last_error());                       \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

/* ------------------------------------------------------------------ loopback transport */

/* Length-prefixed messages over a loopback TCP connection; the peer thread reads each message
 * whole into a buffer and hands it back through a pipe-like handshake (one at a time). */
typedef struct lo_link {
  int tx, rx;
} lo_link;

static void link_open(lo_link *l) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1) ||
      getsockname(ls, (struct sockaddr *)&a, &al)) {
    perror("bench_shm: loopback socket");
    exit(1);
  }
  l->tx = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(l->tx, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("bench_shm: connect");
    exit(1);
  }
  l->rx = accept(ls, NULL, NULL);
  close(ls);
}

static void send_all(int fd, const void *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, 0);
    if (w <= 0) {
      perror("bench_shm: send");
      exit(1);
    }
    p = (const char *)p + w;
    n -= (size_t)w;
  }
}

static void recv_all(int fd, void *p, size_t n) {
  while (n) {
    ssize_t r = recv(fd, p, n, 0);
    if (r <= 0) {
      perror("bench_shm: recv");
      exit(1);
    }
    p = (char *)p + r;
    n -= (size_t)r;
  }
}

typedef struct xfer {
  lo_link *l;
  const char *msg;
  size_t len;
} xfer;

static void *sender(void *arg) {
  xfer *x = arg;
  uint64_t n = x->len;
  send_all(x->l->tx, &n, sizeof n);
  send_all(x->l->tx, x->msg, x->len);
  return NULL;
}

/* Sends msg from the client end and returns it as received at the server end (malloc'd). */
static char *carry(lo_link *l, const char *msg, size_t len, size_t *out_len) {
  xfer x = {l, msg, len};
  pthread_t t;
  pthread_create(&t, NULL, sender, &x);
  uint64_t n = 0;
  recv_all(l->rx, &n, sizeof n);
  char *buf = malloc(n + 1);
  recv_all(l->rx, buf, n);
  buf[n] = '\0';
  pthread_join(t, NULL);
  *out_len = n;
  return buf;
}

/* ------------------------------------------------------------------ the two paths */

static uint64_t checksum(const uint8_t *p, size_t pitch, int w, int h) {
  uint64_t s = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w * 3; x += 61)
      s += p[(size_t)y * pitch + x];
  return s;
}

static size_t g_ref_len; /* bytes of the reference JSON that cross the socket */

static uint64_t via_shm(lo_link *l, vg_shm_registry *reg, vg_client_region *cr,
                        const uint8_t *rgb) {
  const uint8_t *planes[2] = {rgb, NULL};
  const int pitches[2] = {W * 3, 0};
  char ref[512];
  CHECK(vg_client_write_frame(cr, 0, VG_PIX_RGB24, W, H, planes, pitches, 1, ref, sizeof ref));
  size_t n;
  g_ref_len = strlen(ref);
  char *got = carry(l, ref, g_ref_len, &n);
  json_t *obj = json_loadb(got, n, 0, NULL);
  vg_shm_view v;
  CHECK(vg_shm_ref_resolve(reg, obj, &v));
  uint64_t s = checksum(vg_frame_plane(&v.frame, 0), (size_t)v.frame.pitch[0], W, H);
  vg_shm_view_release(&v);
  json_decref(obj);
  free(got);
  return s;
}

static uint64_t via_base64(lo_link *l, const uint8_t *rgb, uint8_t *decoded) {
  size_t bytes = (size_t)W * H * 3;
  size_t b64cap = AV_BASE64_SIZE(bytes);
  char *b64 = malloc(b64cap);
  av_base64_encode(b64, (int)b64cap, rgb, (int)bytes);
  json_t *body =
      json_pack("{s:s,s:i,s:i,s:s}", "format", "rgb24", "width", W, "height", H, "data", b64);
  free(b64);
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  size_t n;
  char *got = carry(l, text, strlen(text), &n);
  free(text);
  json_t *obj = json_loadb(got, n, 0, NULL);
  free(got);
  const char *data = json_string_value(json_object_get(obj, "data"));
  int dn = av_base64_decode(decoded, data, (int)bytes);
  json_decref(obj);
  if (dn != (int)bytes) {
    fprintf(stderr, "bench_shm: base64 round trip lost bytes (%d of %zu)\n", dn, bytes);
    exit(1);
  }
  return checksum(decoded, (size_t)W * 3, W, H);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int iters = 30;
  for (int i = 1; i + 1 < argc; i += 2)
    if (!strcmp(argv[i], "--iters")) iters = atoi(argv[i + 1]);
  if (iters < 1) iters = 1;
  size_t bytes = (size_t)W * H * 3;
  uint8_t *rgb = malloc(bytes), *decoded = malloc(bytes);
  for (size_t i = 0; i < bytes; i++)
    rgb[i] = (uint8_t)(i * 2654435761u >> 24);
  vg_client_region *cr = NULL;
  CHECK(vg_client_region_create(NULL, bytes, &cr));
  vg_shm_registry *reg = NULL;
  CHECK(vg_shm_registry_create(NULL, &reg));
  CHECK(vg_shm_register(reg, vg_client_region_name(cr), bytes));
  lo_link l;
  link_open(&l);
  double *ts = calloc((size_t)iters, sizeof *ts), *tb = calloc((size_t)iters, sizeof *tb);
  uint64_t want = checksum(rgb, (size_t)W * 3, W, H);
  for (int i = -3; i < iters; i++) { /* 3 warm-up rounds */
    int64_t t0 = vg_now_ns();
    uint64_t a = via_shm(&l, reg, cr, rgb);
    int64_t t1 = vg_now_ns();
    uint64_t b = via_base64(&l, rgb, decoded);
    int64_t t2 = vg_now_ns();
    if (a != want || b != want) {
      fprintf(stderr, "bench_shm: a path delivered other pixels\n");
      return 1;
    }
    if (i >= 0) {
      ts[i] = (double)(t1 - t0) / 1e6;
      tb[i] = (double)(t2 - t1) / 1e6;
    }
  }
  double ms = 0, mb = 0;
  for (int i = 0; i < iters; i++)
    ms += ts[i], mb += tb[i];
  ms /= iters;
  mb /= iters;
  qsort(ts, (size_t)iters, sizeof *ts, cmp_double);
  qsort(tb, (size_t)iters, sizeof *tb, cmp_double);
  printf("1080p rgb24 frame (%zu bytes), %d iterations, one process, loopback TCP\n", bytes, iters);
  printf("%-8s %10s %10s %12s\n", "path", "mean ms", "p50 ms", "wire bytes");
  printf("%-8s %10.3f %10.3f %12zu\n", "shm", ms, ts[iters / 2], g_ref_len);
  printf("%-8s %10.3f %10.3f %12zu\n", "base64", mb, tb[iters / 2], (size_t)AV_BASE64_SIZE(bytes));
  printf("base64 / shm: %.1fx\n", mb / ms);
  printf("RESULT: {\"frame_bytes\":%zu,\"iters\":%d,\"shm_mean_ms\":%.4f,\"shm_p50_ms\":%.4f,"
         "\"base64_mean_ms\":%.4f,\"base64_p50_ms\":%.4f,\"ratio\":%.2f}\n",
         bytes, iters, ms, ts[iters / 2], mb, tb[iters / 2], mb / ms);
  vg_shm_registry_destroy(reg);
  vg_client_region_destroy(cr);
  free(rgb);
  free(decoded);
  free(ts);
  free(tb);
  return 0;
}

#else
int main(void) {
  fprintf(stderr, "bench_shm: needs FFmpeg's libavutil (base64); this build has no FFmpeg\n");
  return 77;
}
#endif
