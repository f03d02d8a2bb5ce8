/* fuzz_http.c - libFuzzer target: HTTP request handling of `vidgraph serve` (src/server/http.c and
 * the route files). One server runs in the process for the whole fuzzing run, on a loopback port,
 * with the small test models as its model root, the source tree's web/ as its web root and a
 * bearer token; every input becomes one request on its own connection, so libmicrohttpd's parser,
 * our body collection, bearer check, router, static files, JSON bodies and every route's
 * validation see it exactly as they would from a client.
 *
 * Input: byte 0 picks the method (low 3 bits) and whether the token is sent (bit 3) and whether
 * it goes as a query parameter (bit 4); then the path up to the first '\n' (bytes that cannot
 * appear in a request line are percent-encoded, so the server's unescaping is fuzzed too); the
 * rest is the body, sent with its Content-Length.
 *
 * What is checked (the API's promises, docs/API.md): the server answers every request with a
 * well-formed status line (a status in 100..599, never a dropped connection), and an error
 * answered as JSON is an object with "error" and "detail" strings. Streaming replies (SSE,
 * MJPEG: no Content-Length) are cut after their headers. */
#include "fuzz_util.h"
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#define FUZZ_TOKEN "fuzz-token"
#define MAX_PATH 1024
#define MAX_REPLY (4 << 20)

static vg_server *g_srv;
static int g_port;

static void setup(void) {
  if (g_srv) return;
  fuzz_quiet();
  /* runs write under out/, and their sources may only come from the empty media/ */
  static char out[256], media[300];
  const char *dir = getenv("TMPDIR");
  snprintf(out, sizeof out, "%s/vg_fuzz_http_%ld", dir && *dir ? dir : "/tmp", (long)getpid());
  snprintf(media, sizeof media, "%s/media", out);
  mkdir(out, 0700);
  mkdir(media, 0700);
  vg_server_config cfg = {.listen = "127.0.0.1:0",
                          .token = FUZZ_TOKEN,
                          .model_roots = {"models/test"},
                          .nmodel_roots = 1,
                          .media_roots = {media},
                          .nmedia_roots = 1,
                          .web_root = "web",
                          .output_root = out,
                          .max_body_bytes = 64 * 1024};
  if (vg_server_create(&cfg, &g_srv) != VG_OK || vg_server_start(g_srv) != VG_OK) {
    fprintf(stderr, "fuzz_http: cannot start the server (run from the repository root): %s\n",
            vg_last_error());
    abort();
  }
  g_port = vg_server_port(g_srv);
}

static const char *const k_methods[8] = {"GET", "POST", "DELETE", "PUT",
                                         "GET", "POST", "HEAD",   "OPTIONS"};

/* Appends the path, percent-encoding what a request line cannot carry. */
static size_t encode_path(const uint8_t *p, size_t n, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  if (n == 0 || p[0] != '/') out[o++] = '/';
  for (size_t i = 0; i < n && o + 4 < cap; i++) {
    uint8_t c = p[i];
    if (c <= 0x20 || c >= 0x7f || c == '#') {
      out[o++] = '%';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = '\0';
  return o;
}

static bool send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Reads the reply: headers, then the body when it has a Content-Length (cut at MAX_REPLY). */
static size_t read_reply(int fd, char *buf, size_t cap, char **body, size_t *body_len) {
  size_t len = 0;
  char *end = NULL;
  *body = NULL;
  *body_len = 0;
  buf[0] = '\0';
  while (len + 1 < cap) {
    ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
    /* a slow answer (a loaded machine) is waited for; a real hang ends in libFuzzer's -timeout */
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (r <= 0) break;
    len += (size_t)r;
    buf[len] = '\0';
    if (!end && (end = strstr(buf, "\r\n\r\n"))) {
      const char *cl = strcasestr(buf, "\r\nContent-Length:");
      if (!cl || cl > end) break; /* streamed or chunked: the headers are enough */
      size_t want = strtoul(cl + 17, NULL, 10);
      *body = end + 4;
      if (want > cap - 1 - (size_t)(*body - buf)) want = cap - 1 - (size_t)(*body - buf);
      while (len - (size_t)(*body - buf) < want) {
        r = recv(fd, buf + len, want - (len - (size_t)(*body - buf)), 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (r <= 0) break;
        len += (size_t)r;
      }
      buf[len] = '\0';
      *body_len = len - (size_t)(*body - buf);
      break;
    }
  }
  return len;
}

static void check_reply(const char *method, const char *reply, size_t len, const char *body,
                        size_t body_len) {
  int status = 0;
  if (len < 12 || sscanf(reply, "HTTP/1.%*d %d", &status) != 1 || status < 100 || status > 599) {
    fprintf(stderr,
            "fuzz_http: the connection closed without a valid status line (%zu bytes): %.80s\n",
            len, reply);
    abort();
  }
  const char *ctype = strcasestr(reply, "\r\nContent-Type: application/json");
  if (status < 400 || !ctype || (body && ctype > body) || !body || strcmp(method, "HEAD") == 0)
    return;
  json_t *j = json_loadb(body, body_len, 0, NULL);
  if (!j || !json_is_object(j) || !json_is_string(json_object_get(j, "error")) ||
      !json_is_string(json_object_get(j, "detail"))) {
    fprintf(stderr, "fuzz_http: error %d without an {error, detail} JSON object: %.200s\n", status,
            body);
    abort();
  }
  json_decref(j);
}

/* A connection to the server. The client's local ports can run out on a long run (each request
 * is a connection; at ~600 a second the sockets waiting in TIME_WAIT for 60 s outnumber the
 * 28k ports of the default range: a 1M-execution run stopped at 844,729 with connect() failing,
 * and the input replayed fine alone): the client closes with a reset (SO_LINGER 0), so no
 * TIME_WAIT is left on its side, and EADDRNOTAVAIL is waited out for up to 10 s. A connect()
 * interrupted by a signal (libFuzzer's once-a-second SIGALRM, while a busy server's accept
 * backlog is full: a 1M run stopped at 33,878 on EINTR) is tried again. Any other failure is
 * the server's: abort, naming the error. -1 only when no socket can be made. */
static int connect_server(void) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int tries = 0;; tries++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) return fd;
    int e = errno;
    close(fd);
    if (e == EINTR && tries < 100) continue;
    if ((e == EADDRNOTAVAIL || e == EAGAIN) && tries < 100) {
      usleep(100 * 1000);
      continue;
    }
    fprintf(stderr, "fuzz_http: the server stopped accepting connections: %s\n", strerror(e));
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size < 1) return 0;
  const char *method = k_methods[data[0] & 7];
  bool auth = data[0] & 8, in_query = data[0] & 16;
  data++;
  size--;
  const uint8_t *nl = memchr(data, '\n', size);
  size_t plen = nl ? (size_t)(nl - data) : size;
  if (plen > MAX_PATH) plen = MAX_PATH;
  const uint8_t *body = nl ? nl + 1 : data + size;
  size_t blen = (size_t)(data + size - body);

  char path[3 * MAX_PATH + 64];
  size_t n = encode_path(data, plen, path, sizeof path - 32);
  if (auth && in_query)
    snprintf(path + n, sizeof path - n, "%saccess_token=" FUZZ_TOKEN,
             strchr(path, '?') ? "&" : "?");
  char head[sizeof path + 256];
  int hn = snprintf(head, sizeof head,
                    "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
                    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                    method, path,
                    auth && !in_query ? "Authorization: Bearer " FUZZ_TOKEN "\r\n" : "", blen);

  int fd = connect_server();
  if (fd < 0) return 0;
  static char reply[MAX_REPLY + 1];
  /* one segment, no Nagle: otherwise every request waits for a delayed ACK */
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char *req = malloc((size_t)hn + blen);
  if (!req) {
    close(fd);
    return 0;
  }
  memcpy(req, head, (size_t)hn);
  if (blen) memcpy(req + hn, body, blen);
  bool sent = send_all(fd, req, (size_t)hn + blen);
  free(req);
  if (sent) {
    char *rbody;
    size_t rblen, len = read_reply(fd, reply, sizeof reply, &rbody, &rblen);
    check_reply(method, reply, len, rbody, rblen);
  }
  close(fd);
  return 0;
}
