/* vg_client.c - the C client of `vidgraph serve` (include/vidgraph/vg_client.h): a minimal
 * HTTP/1.1 client (one request per connection, Content-Length or chunked answers) and the client
 * side of the shared-memory data plane (regions, frame/tensor writes, reference JSON). It sits
 * beside the CLI and uses only libc and vg_core.h. */
#include "vidgraph/vg_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_BODY ((size_t)64 << 20)
#define NAME_MAX_LEN 64

struct vg_client {
  char host[256];
  char port[16];
  char token[512];
};

struct vg_client_region {
  char name[NAME_MAX_LEN + 1];
  void *data;
  size_t size;
  bool owner;
};

/* ===================================================================== HTTP */

vg_status vg_client_create(const char *base_url, const char *token, vg_client **out) {
  *out = NULL;
  const char *p = base_url ? base_url : "";
  if (strncmp(p, "http://", 7) != 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "client: url '%s' must start with http://", p);
  p += 7;
  const char *colon = strchr(p, ':');
  const char *end = p + strcspn(p, "/");
  if (!colon || colon > end || colon == p || (size_t)(colon - p) >= 256)
    return vg_set_error(VG_ERR_INVALID_ARG, "client: url '%s' needs http://HOST:PORT", base_url);
  char *stop = NULL;
  long port = strtol(colon + 1, &stop, 10);
  if (stop != end || port <= 0 || port > 65535)
    return vg_set_error(VG_ERR_INVALID_ARG, "client: bad port in url '%s'", base_url);
  if (token && strlen(token) >= 512)
    return vg_set_error(VG_ERR_INVALID_ARG, "client: token longer than 511 characters");
  vg_client *c = calloc(1, sizeof *c);
  if (!c) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  memcpy(c->host, p, (size_t)(colon - p));
  snprintf(c->port, sizeof c->port, "%ld", port);
  snprintf(c->token, sizeof c->token, "%s", token ? token : "");
  *out = c;
  return VG_OK;
}

void vg_client_destroy(vg_client *c) {
  free(c);
}

void vg_client_response_free(vg_client_response *r) {
  if (!r) return;
  free(r->body);
  memset(r, 0, sizeof *r);
}

static vg_status connect_to(const vg_client *c, int *fd_out) {
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(c->host, c->port, &hints, &res);
  if (rc != 0)
    return vg_set_error(VG_ERR_IO, "client: cannot resolve %s: %s", c->host, gai_strerror(rc));
  int fd = -1, err = 0;
  for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0)
    return vg_set_error(VG_ERR_IO,
                        "client: cannot connect to %s:%s: %s (is `vidgraph serve` "
                        "running?)",
                        c->host, c->port, strerror(err));
  *fd_out = fd;
  return VG_OK;
}

static vg_status send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return vg_set_error(VG_ERR_IO, "client: send failed: %s", strerror(errno));
    p += w;
    n -= (size_t)w;
  }
  return VG_OK;
}

/* Reads until EOF (the server closes after the answer), at most MAX_BODY + 64 KiB. */
static vg_status read_all(int fd, char **out, size_t *len) {
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  for (;;) {
    if (n == cap) {
      if (cap > MAX_BODY + 65536) {
        free(buf);
        return vg_set_error(VG_ERR_IO, "client: answer larger than %zu bytes", MAX_BODY);
      }
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        free(buf);
        return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = recv(fd, buf + n, cap - n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      free(buf);
      return vg_set_error(VG_ERR_IO, "client: receive failed: %s", strerror(errno));
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return VG_OK;
}

/* Undoes chunked transfer encoding in place; returns the body length or -1 when malformed. */
static long dechunk(char *body, size_t len) {
  size_t in = 0, outp = 0;
  for (;;) {
    char *stop = NULL;
    if (in >= len) return -1;
    unsigned long sz = strtoul(body + in, &stop, 16);
    if (stop == body + in) return -1;
    char *crlf = strstr(stop, "\r\n");
    if (!crlf) return -1;
    in = (size_t)(crlf - body) + 2;
    if (sz == 0) break;
    if (sz > len - in || len - in - sz < 2) return -1;
    memmove(body + outp, body + in, sz);
    outp += sz;
    in += sz + 2;
  }
  body[outp] = '\0';
  return (long)outp;
}

/* Finds header `name` (case-insensitive) in the header block; copies its value. */
static bool header_value(const char *headers, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  for (const char *line = headers; line && *line;) {
    if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
      const char *v = line + nl + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      size_t vl = strcspn(v, "\r\n");
      snprintf(out, cap, "%.*s", (int)vl, v);
      return true;
    }
    line = strstr(line, "\r\n");
    if (line) line += 2;
  }
  return false;
}

static vg_status parse_response(char *raw, size_t len, vg_client_response *out) {
  int status = 0;
  if (sscanf(raw, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100 || status > 599)
    return vg_set_error(VG_ERR_PARSE, "client: not an HTTP/1.x answer: '%.40s'", raw);
  char *sep = strstr(raw, "\r\n\r\n");
  if (!sep) return vg_set_error(VG_ERR_PARSE, "client: answer without the end of its headers");
  *sep = '\0';
  char *body = sep + 4;
  size_t blen = len - (size_t)(body - raw);
  char value[128];
  if (header_value(raw, "Transfer-Encoding", value, sizeof value) && strstr(value, "chunked")) {
    long n = dechunk(body, blen);
    if (n < 0) return vg_set_error(VG_ERR_PARSE, "client: malformed chunked answer");
    blen = (size_t)n;
  } else if (header_value(raw, "Content-Length", value, sizeof value)) {
    char *stop = NULL;
    unsigned long long cl = strtoull(value, &stop, 10);
    if (*stop || cl > blen)
      return vg_set_error(VG_ERR_PARSE, "client: Content-Length %s but %zu bytes came", value,
                          blen);
    blen = (size_t)cl;
  }
  out->status = status;
  header_value(raw, "Content-Type", out->content_type, sizeof out->content_type);
  out->body = malloc(blen + 1);
  if (!out->body) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  memcpy(out->body, body, blen);
  out->body[blen] = '\0';
  out->body_len = blen;
  return VG_OK;
}

vg_status vg_client_request(vg_client *c, const char *method, const char *path, const char *body,
                            vg_client_response *out) {
  memset(out, 0, sizeof *out);
  if (!method || !path || path[0] != '/' || strpbrk(path, " \r\n") || strpbrk(method, " \r\n/"))
    return vg_set_error(VG_ERR_INVALID_ARG, "client: bad method or path");
  size_t blen = body ? strlen(body) : 0;
  char head[1400];
  int hn = snprintf(head, sizeof head,
                    "%s %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: vidgraph-client/%s\r\n"
                    "Accept: application/json\r\nConnection: close\r\n%s%s%s"
                    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                    method, path, c->host, c->port, VG_VERSION_STRING,
                    c->token[0] ? "Authorization: Bearer " : "", c->token,
                    c->token[0] ? "\r\n" : "", blen);
  if (hn < 0 || (size_t)hn >= sizeof head)
    return vg_set_error(VG_ERR_INVALID_ARG, "client: request line too long");
  int fd = -1;
  VG_TRY(connect_to(c, &fd));
  vg_status s = send_all(fd, head, (size_t)hn);
  if (s == VG_OK && blen) s = send_all(fd, body, blen);
  char *raw = NULL;
  size_t rlen = 0;
  if (s == VG_OK) s = read_all(fd, &raw, &rlen);
  close(fd);
  if (s == VG_OK) s = parse_response(raw, rlen, out);
  free(raw);
  return s;
}

/* ===================================================================== shared memory */

static vg_status check_name(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n < 2 || n > NAME_MAX_LEN || name[0] != '/' ||
      strspn(name + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          n - 1 ||
      strcmp(name, "/.") == 0 || strcmp(name, "/..") == 0)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "client: shm name '%s' must be '/' then 1..%d of [A-Za-z0-9._-]",
                        name ? name : "(null)", NAME_MAX_LEN - 1);
  return VG_OK;
}

vg_status vg_client_region_create(const char *name, size_t bytes, vg_client_region **out) {
  *out = NULL;
  static _Atomic unsigned long seq;
  char auto_name[NAME_MAX_LEN + 1];
  if (!name) {
    snprintf(auto_name, sizeof auto_name, "/vg-client-%ld-%lu", (long)getpid(), ++seq);
    name = auto_name;
  }
  VG_TRY(check_name(name));
  if (bytes == 0) return vg_set_error(VG_ERR_INVALID_ARG, "client: region of 0 bytes");
  vg_client_region *r = calloc(1, sizeof *r);
  if (!r) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  snprintf(r->name, sizeof r->name, "%s", name);
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    free(r);
    return vg_set_error(VG_ERR_IO, "client: cannot create shm region '%s': %s", name,
                        strerror(errno));
  }
  vg_status s = VG_OK;
  if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)bytes) != 0)
    s = vg_set_error(VG_ERR_IO, "client: cannot size shm region '%s' to %zu bytes: %s", name, bytes,
                     strerror(errno));
  if (s == VG_OK) {
    r->data = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (r->data == MAP_FAILED)
      s = vg_set_error(VG_ERR_IO, "client: mmap of '%s' failed: %s", name, strerror(errno));
  }
  close(fd);
  if (s != VG_OK) {
    shm_unlink(name);
    free(r);
    return s;
  }
  r->size = bytes;
  r->owner = true;
  *out = r;
  return VG_OK;
}

vg_status vg_client_region_open(const char *name, vg_client_region **out) {
  *out = NULL;
  VG_TRY(check_name(name));
  int fd = shm_open(name, O_RDONLY, 0);
  if (fd < 0)
    return vg_set_error(errno == ENOENT ? VG_ERR_NOT_FOUND : VG_ERR_IO,
                        "client: cannot open shm region '%s': %s", name, strerror(errno));
  struct stat st;
  vg_status s = VG_OK;
  void *data = MAP_FAILED;
  if (fstat(fd, &st) != 0 || st.st_size <= 0)
    s = vg_set_error(VG_ERR_IO, "client: shm region '%s' is empty or unreadable", name);
  if (s == VG_OK) {
    data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED)
      s = vg_set_error(VG_ERR_IO, "client: mmap of '%s' failed: %s", name, strerror(errno));
  }
  close(fd);
  if (s != VG_OK) return s;
  vg_client_region *r = calloc(1, sizeof *r);
  if (!r) {
    munmap(data, (size_t)st.st_size);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  }
  snprintf(r->name, sizeof r->name, "%s", name);
  r->data = data;
  r->size = (size_t)st.st_size;
  *out = r;
  return VG_OK;
}

void vg_client_region_destroy(vg_client_region *r) {
  if (!r) return;
  munmap(r->data, r->size);
  if (r->owner) shm_unlink(r->name);
  free(r);
}

void *vg_client_region_data(const vg_client_region *r) {
  return r->data;
}

size_t vg_client_region_size(const vg_client_region *r) {
  return r->size;
}

const char *vg_client_region_name(const vg_client_region *r) {
  return r->name;
}

/* A non-expected status becomes an error carrying the server's answer. */
static vg_status expect_status(vg_client_response *rsp, int want, const char *what) {
  if (rsp->status == want) return VG_OK;
  vg_status s =
      vg_set_error(rsp->status == 404   ? VG_ERR_NOT_FOUND
                   : rsp->status == 401 ? VG_ERR_INVALID_ARG
                   : rsp->status < 500  ? VG_ERR_INVALID_ARG
                                        : VG_ERR_BACKEND,
                   "client: %s: HTTP %d: %.300s", what, rsp->status, rsp->body ? rsp->body : "");
  return s;
}

vg_status vg_client_register(vg_client *c, const vg_client_region *r) {
  char body[160];
  snprintf(body, sizeof body, "{\"name\":\"%s\",\"bytes\":%zu}", r->name, r->size);
  vg_client_response rsp;
  VG_TRY(vg_client_request(c, "POST", "/api/shm", body, &rsp));
  vg_status s = expect_status(&rsp, 201, "registering a shm region");
  vg_client_response_free(&rsp);
  return s;
}

vg_status vg_client_release(vg_client *c, const char *name) {
  const char *bare = name && name[0] == '/' ? name + 1 : name;
  char full[NAME_MAX_LEN + 2];
  snprintf(full, sizeof full, "/%s", bare ? bare : "");
  VG_TRY(check_name(full));
  char path[128];
  snprintf(path, sizeof path, "/api/shm/%s", bare);
  vg_client_response rsp;
  VG_TRY(vg_client_request(c, "DELETE", path, NULL, &rsp));
  vg_status s = expect_status(&rsp, 204, "releasing a shm region");
  vg_client_response_free(&rsp);
  return s;
}

static const char *wire_dtype(vg_dtype t) {
  static const char *const names[VG_DTYPE_COUNT_] = {"float32", "float16", "uint8", "int32",
                                                     "int64"};
  return (int)t >= 0 && t < VG_DTYPE_COUNT_ ? names[t] : NULL;
}

vg_status vg_client_write_frame(vg_client_region *r, size_t offset, vg_pixfmt fmt, int width,
                                int height, const uint8_t *const planes[2], const int pitches[2],
                                int64_t frame_id, char *ref_json, size_t cap) {
  if (width <= 0 || height <= 0 || width > 32768 || height > 32768 || !planes || !planes[0] ||
      !pitches)
    return vg_set_error(VG_ERR_INVALID_ARG, "client: bad frame %dx%d", width, height);
  size_t cpp = fmt == VG_PIX_RGB24 || fmt == VG_PIX_BGR24 ? 3 : 1;
  const char *name = fmt == VG_PIX_NV12    ? "nv12"
                     : fmt == VG_PIX_RGB24 ? "rgb24"
                     : fmt == VG_PIX_BGR24 ? "bgr24"
                     : fmt == VG_PIX_GRAY8 ? "gray8"
                                           : NULL;
  if (!name) return vg_set_error(VG_ERR_INVALID_ARG, "client: unknown pixel format %d", fmt);
  if (fmt == VG_PIX_NV12 && (width % 2 || height % 2 || !planes[1]))
    return vg_set_error(VG_ERR_INVALID_ARG, "client: nv12 needs even sides and two planes");
  size_t wb = (size_t)width * cpp;
  size_t rows = fmt == VG_PIX_NV12 ? (size_t)height * 3 / 2 : (size_t)height;
  size_t bytes = wb * rows;
  if (offset > r->size || bytes > r->size - offset)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "client: a %zu-byte frame at offset %zu does not fit in region '%s' "
                        "(%zu bytes)",
                        bytes, offset, r->name, r->size);
  if (pitches[0] < (int)wb || (fmt == VG_PIX_NV12 && pitches[1] < (int)wb))
    return vg_set_error(VG_ERR_INVALID_ARG, "client: pitch smaller than a row");
  uint8_t *dst = (uint8_t *)r->data + offset;
  for (size_t y = 0; y < (size_t)height; y++)
    memcpy(dst + y * wb, planes[0] + y * (size_t)pitches[0], wb);
  if (fmt == VG_PIX_NV12)
    for (size_t y = 0; y < (size_t)height / 2; y++)
      memcpy(dst + ((size_t)height + y) * wb, planes[1] + y * (size_t)pitches[1], wb);
  int n;
  if (cpp == 3)
    n = snprintf(ref_json, cap,
                 "{\"shm_name\":\"%s\",\"offset\":%zu,\"bytes\":%zu,\"dtype\":\"uint8\","
                 "\"shape\":[%d,%d,3],\"strides\":[%zu,3,1],\"format\":\"%s\",\"frame_id\":%lld}",
                 r->name, offset, bytes, height, width, wb, name, (long long)frame_id);
  else
    n = snprintf(ref_json, cap,
                 "{\"shm_name\":\"%s\",\"offset\":%zu,\"bytes\":%zu,\"dtype\":\"uint8\","
                 "\"shape\":[%zu,%d],\"strides\":[%zu,1],\"format\":\"%s\",\"frame_id\":%lld}",
                 r->name, offset, bytes, rows, width, wb, name, (long long)frame_id);
  if (n < 0 || (size_t)n >= cap)
    return vg_set_error(VG_ERR_INVALID_ARG, "client: reference buffer too small");
  return VG_OK;
}

vg_status vg_client_write_tensor(vg_client_region *r, size_t offset, vg_dtype dtype, int ndim,
                                 const int64_t *shape, const void *data, int64_t frame_id,
                                 char *ref_json, size_t cap) {
  const char *dt = wire_dtype(dtype);
  if (!dt || ndim < 1 || ndim > VG_MAX_DIMS || !shape || !data)
    return vg_set_error(VG_ERR_INVALID_ARG, "client: bad tensor (dtype %d, rank %d)", dtype, ndim);
  size_t elem = vg_dtype_size(dtype), bytes = elem;
  char dims[256] = "";
  size_t dl = 0;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] <= 0 || __builtin_mul_overflow(bytes, (size_t)shape[i], &bytes))
      return vg_set_error(VG_ERR_INVALID_ARG, "client: bad tensor dim %d", i);
    dl +=
        (size_t)snprintf(dims + dl, sizeof dims - dl, "%s%lld", i ? "," : "", (long long)shape[i]);
  }
  if (offset % elem || offset > r->size || bytes > r->size - offset)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "client: a %zu-byte tensor at offset %zu does not fit in region '%s' "
                        "(%zu bytes) or is misaligned",
                        bytes, offset, r->name, r->size);
  memcpy((uint8_t *)r->data + offset, data, bytes);
  int n = snprintf(ref_json, cap,
                   "{\"shm_name\":\"%s\",\"offset\":%zu,\"bytes\":%zu,\"dtype\":\"%s\","
                   "\"shape\":[%s],\"format\":\"tensor\",\"frame_id\":%lld}",
                   r->name, offset, bytes, dt, dims, (long long)frame_id);
  if (n < 0 || (size_t)n >= cap)
    return vg_set_error(VG_ERR_INVALID_ARG, "client: reference buffer too small");
  return VG_OK;
}
