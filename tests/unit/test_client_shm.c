/* test_client_shm.c - the C client library (vg_client.h): its shared-memory side against the
 * server's registry and reference validation (a frame and a tensor written by the client resolve
 * to the same pixels on the server side), and its HTTP side against a loopback peer in this test
 * that records each request and answers with a scripted response (Content-Length, chunked,
 * errors, garbage). */
#include "vg_test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/shm.h"
#include "vidgraph/vg_client.h"

/* ------------------------------------------------------------------ loopback peer */

#define MAX_EXCHANGES 8

typedef struct peer {
  int listen_fd;
  int port;
  int n;                              /* scripted exchanges */
  const char *answers[MAX_EXCHANGES]; /* raw HTTP answers */
  char requests[MAX_EXCHANGES][4096]; /* what came in */
  pthread_t thread;
} peer;

/* Reads one request: headers, then Content-Length bytes of body. */
static void read_request(int fd, char *buf, size_t cap) {
  size_t n = 0;
  long want = -1;
  while (n + 1 < cap) {
    ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
    if (r <= 0) break;
    n += (size_t)r;
    buf[n] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (end && want < 0) {
      char *cl = strcasestr(buf, "Content-Length:");
      want = (long)(end + 4 - buf) + (cl ? atol(cl + 15) : 0);
    }
    if (want >= 0 && (long)n >= want) break;
  }
  buf[n] = '\0';
}

static void *peer_main(void *arg) {
  peer *p = arg;
  for (int i = 0; i < p->n; i++) {
    int fd = accept(p->listen_fd, NULL, NULL);
    if (fd < 0) break;
    read_request(fd, p->requests[i], sizeof p->requests[i]);
    const char *a = p->answers[i];
    size_t len = strlen(a), off = 0;
    while (off < len) { /* in small pieces, as a real socket may deliver them */
      size_t piece = len - off < 7 ? len - off : 7;
      ssize_t w = send(fd, a + off, piece, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += (size_t)w;
    }
    close(fd);
  }
  return NULL;
}

static void peer_start(peer *p) {
  p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(p->listen_fd >= 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t al = sizeof a;
  assert_int_equal(getsockname(p->listen_fd, (struct sockaddr *)&a, &al), 0);
  p->port = ntohs(a.sin_port);
  assert_int_equal(listen(p->listen_fd, 8), 0);
  assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
}

static void peer_stop(peer *p) {
  pthread_join(p->thread, NULL);
  close(p->listen_fd);
}

static vg_client *client_for(const peer *p, const char *token) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", p->port);
  vg_client *c = NULL;
  VG_ASSERT_OK(vg_client_create(url, token, &c));
  return c;
}

/* ------------------------------------------------------------------ HTTP */

static void test_http_requests(void **state) {
  (void)state;
  peer p = {0};
  p.n = 4;
  p.answers[0] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"
                 "{\"status\":\"ok\"}";
  p.answers[1] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  p.answers[2] = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}";
  p.answers[3] = "HTTP/1.1 204 No Content\r\n\r\n";
  peer_start(&p);
  vg_client *c = client_for(&p, "s3cret");
  vg_client_response r;
  VG_ASSERT_OK(vg_client_request(c, "GET", "/api/health", NULL, &r));
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "{\"status\":\"ok\"}");
  assert_string_equal(r.content_type, "application/json");
  vg_client_response_free(&r);
  VG_ASSERT_OK(vg_client_request(c, "POST", "/api/runs", "{\"graph\":\"g\"}", &r));
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "hello, world");
  assert_int_equal(r.body_len, 12);
  vg_client_response_free(&r);

  vg_client_region *reg = NULL;
  VG_ASSERT_OK(vg_client_region_create(NULL, 4096, &reg));
  VG_ASSERT_OK(vg_client_register(c, reg));
  VG_ASSERT_OK(vg_client_release(c, vg_client_region_name(reg)));
  peer_stop(&p);

  assert_non_null(strstr(p.requests[0], "GET /api/health HTTP/1.1\r\n"));
  assert_non_null(strstr(p.requests[0], "Authorization: Bearer s3cret\r\n"));
  assert_non_null(strstr(p.requests[1], "POST /api/runs HTTP/1.1\r\n"));
  assert_non_null(strstr(p.requests[1], "Content-Length: 13\r\n"));
  assert_non_null(strstr(p.requests[1], "\r\n\r\n{\"graph\":\"g\"}"));
  char want[160];
  snprintf(want, sizeof want, "\r\n\r\n{\"name\":\"%s\",\"bytes\":4096}",
           vg_client_region_name(reg));
  assert_non_null(strstr(p.requests[2], "POST /api/shm HTTP/1.1\r\n"));
  assert_non_null(strstr(p.requests[2], want));
  snprintf(want, sizeof want, "DELETE /api/shm/%s HTTP/1.1", vg_client_region_name(reg) + 1);
  assert_non_null(strstr(p.requests[3], want));
  vg_client_region_destroy(reg);
  vg_client_destroy(c);
}

static void test_http_errors(void **state) {
  (void)state;
  peer p = {0};
  p.n = 4;
  p.answers[0] =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
      "{\"error\":\"bad_request\",\"detail\":\"shm field 'bytes': 0 outside 1..1073741824\"}";
  p.answers[1] = "SSH-2.0-OpenSSH_9.2\r\n";
  p.answers[2] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
  p.answers[3] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n";
  peer_start(&p);
  vg_client *c = client_for(&p, NULL);
  vg_client_region *reg = NULL;
  VG_ASSERT_OK(vg_client_region_create(NULL, 64, &reg));
  assert_int_equal(vg_client_register(c, reg), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("HTTP 400");
  VG_ASSERT_MSG_HAS("'bytes'");
  vg_client_response r;
  assert_int_equal(vg_client_request(c, "GET", "/api/health", NULL, &r), VG_ERR_PARSE);
  assert_int_equal(vg_client_request(c, "GET", "/api/health", NULL, &r), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("Content-Length");
  assert_int_equal(vg_client_request(c, "GET", "/api/health", NULL, &r), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("chunked");
  peer_stop(&p);
  assert_null(strstr(p.requests[0], "Authorization"));
  /* nothing listens there any more */
  assert_int_equal(vg_client_request(c, "GET", "/api/health", NULL, &r), VG_ERR_IO);
  VG_ASSERT_MSG_HAS("cannot connect");
  /* requests that are refused before anything is sent */
  assert_int_equal(vg_client_request(c, "GET", "no-slash", NULL, &r), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_client_request(c, "GET", "/a b", NULL, &r), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_client_request(c, "GET\r\nX: y", "/", NULL, &r), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_client_release(c, "../etc"), VG_ERR_INVALID_ARG);
  vg_client_region_destroy(reg);
  vg_client_destroy(c);

  vg_client *bad = NULL;
  assert_int_equal(vg_client_create("https://127.0.0.1:1", NULL, &bad), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_client_create("http://127.0.0.1", NULL, &bad), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_client_create("http://127.0.0.1:0", NULL, &bad), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_client_create("http://127.0.0.1:99999", NULL, &bad), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_client_create("http://:80", NULL, &bad), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_client_create(NULL, NULL, &bad), VG_ERR_INVALID_ARG);
  assert_null(bad);
}

/* ------------------------------------------------------------------ shared memory */

/* The client writes an NV12 frame (padded source pitch) and an RGB frame; the server side
 * resolves the references it built and reads the same pixels. */
static void test_frames_round_trip(void **state) {
  (void)state;
  vg_client_region *reg = NULL;
  VG_ASSERT_OK(vg_client_region_create(NULL, 1 << 16, &reg));
  vg_shm_registry *srv = NULL;
  VG_ASSERT_OK(vg_shm_registry_create(NULL, &srv));
  VG_ASSERT_OK(vg_shm_register(srv, vg_client_region_name(reg), vg_client_region_size(reg)));

  enum { W = 10, H = 6, PITCH = 16 };
  uint8_t y[PITCH * H], uv[PITCH * H / 2];
  for (int i = 0; i < PITCH * H; i++)
    y[i] = (uint8_t)(i * 3);
  for (int i = 0; i < PITCH * H / 2; i++)
    uv[i] = (uint8_t)(200 - i);
  const uint8_t *planes[2] = {y, uv};
  const int pitches[2] = {PITCH, PITCH};
  char ref[512];
  VG_ASSERT_OK(
      vg_client_write_frame(reg, 128, VG_PIX_NV12, W, H, planes, pitches, 3, ref, sizeof ref));
  vg_shm_view v;
  json_t *obj = json_loads(ref, 0, NULL);
  assert_non_null(obj);
  VG_ASSERT_OK(vg_shm_ref_resolve(srv, obj, &v));
  json_decref(obj);
  assert_int_equal(v.frame.format, VG_PIX_NV12);
  assert_int_equal(v.frame.width, W);
  assert_int_equal(v.frame.height, H);
  assert_int_equal(v.frame.frame_no, 3);
  for (int r = 0; r < H; r++)
    assert_memory_equal(vg_frame_plane(&v.frame, 0) + r * v.frame.pitch[0], y + r * PITCH, W);
  for (int r = 0; r < H / 2; r++)
    assert_memory_equal(vg_frame_plane(&v.frame, 1) + r * v.frame.pitch[1], uv + r * PITCH, W);
  vg_shm_view_release(&v);

  uint8_t rgb[4 * 5 * 3];
  for (int i = 0; i < (int)sizeof rgb; i++)
    rgb[i] = (uint8_t)(i + 1);
  const uint8_t *rp[2] = {rgb, NULL};
  const int rpitch[2] = {15, 0};
  VG_ASSERT_OK(vg_client_write_frame(reg, 0, VG_PIX_BGR24, 5, 4, rp, rpitch, 0, ref, sizeof ref));
  obj = json_loads(ref, 0, NULL);
  VG_ASSERT_OK(vg_shm_ref_resolve(srv, obj, &v));
  json_decref(obj);
  assert_int_equal(v.frame.format, VG_PIX_BGR24);
  assert_memory_equal(vg_frame_plane(&v.frame, 0), rgb, sizeof rgb);
  vg_shm_view_release(&v);

  /* a frame that does not fit is refused on the client side */
  assert_int_equal(vg_client_write_frame(reg, (1 << 16) - 10, VG_PIX_BGR24, 5, 4, rp, rpitch, 0,
                                         ref, sizeof ref),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("does not fit");
  assert_int_equal(
      vg_client_write_frame(reg, 0, VG_PIX_NV12, 5, 4, planes, pitches, 0, ref, sizeof ref),
      VG_ERR_INVALID_ARG);
  vg_shm_registry_destroy(srv);
  vg_client_region_destroy(reg);
}

static void test_tensor_and_outputs(void **state) {
  (void)state;
  char name[64];
  snprintf(name, sizeof name, "/vg-client-test-%ld", (long)getpid());
  vg_client_region *reg = NULL;
  VG_ASSERT_OK(vg_client_region_create(name, 4096, &reg));
  /* the name is taken now: a second create fails instead of sharing someone else's memory */
  vg_client_region *dup = NULL;
  assert_int_equal(vg_client_region_create(name, 64, &dup), VG_ERR_IO);
  assert_int_equal(vg_client_region_create("no-slash", 64, &dup), VG_ERR_INVALID_ARG);
  vg_shm_registry *srv = NULL;
  VG_ASSERT_OK(vg_shm_registry_create(NULL, &srv));
  VG_ASSERT_OK(vg_shm_register(srv, name, 4096));
  float data[2 * 3 * 4];
  for (int i = 0; i < 24; i++)
    data[i] = (float)i / 4.0f;
  int64_t shape[3] = {2, 3, 4};
  char ref[512];
  VG_ASSERT_OK(vg_client_write_tensor(reg, 64, VG_DTYPE_F32, 3, shape, data, 11, ref, sizeof ref));
  assert_int_equal(vg_client_write_tensor(reg, 2, VG_DTYPE_F32, 3, shape, data, 0, ref, sizeof ref),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_OK(vg_client_write_tensor(reg, 64, VG_DTYPE_F32, 3, shape, data, 11, ref, sizeof ref));
  json_t *obj = json_loads(ref, 0, NULL);
  vg_shm_view v;
  VG_ASSERT_OK(vg_shm_ref_resolve(srv, obj, &v));
  json_decref(obj);
  assert_int_equal(v.tensor.ndim, 3);
  assert_memory_equal(vg_tensor_data(&v.tensor), data, sizeof data);
  /* the server exports the tensor as an output; the client maps that region read-only */
  json_t *out = NULL;
  VG_ASSERT_OK(vg_shm_export_tensor(srv, &v.tensor, 11, &out));
  vg_shm_view_release(&v);
  const char *oname = json_string_value(json_object_get(out, "shm_name"));
  vg_client_region *o = NULL;
  VG_ASSERT_OK(vg_client_region_open(oname, &o));
  assert_int_equal(vg_client_region_size(o), sizeof data);
  assert_memory_equal(vg_client_region_data(o), data, sizeof data);
  vg_client_region_destroy(o);
  assert_int_equal(vg_client_region_open("/vg-client-test-nothing", &o), VG_ERR_NOT_FOUND);
  json_decref(out);
  vg_shm_registry_destroy(srv);
  vg_client_region_destroy(reg);
  /* destroy unlinked it */
  assert_int_equal(shm_open(name, O_RDONLY, 0), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_requests),
      cmocka_unit_test(test_http_errors),
      cmocka_unit_test(test_frames_round_trip),
      cmocka_unit_test(test_tensor_and_outputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
