/* shm.c - the shared-memory data plane: a registry of POSIX shared-memory regions, reference-
 * counted mappings, and the validation of references into frame/tensor views (see shm.h and
 * docs/SHM.md). Every number that comes from a client is checked before it is used in pointer or
 * size arithmetic; sums and products go through the overflow-checked helpers below. */
#include "server/shm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct vg_shm_region {
  atomic_int refs;
  char name[VG_SHM_NAME_MAX + 1];
  int fd;
  void *data;
  size_t size;
  bool server_owned;
  bool registered; /* guarded by the registry's mutex */
  vg_shm_region *next;
};

struct vg_shm_registry {
  pthread_mutex_t mu;
  vg_shm_limits lim;
  vg_shm_region *head;
  size_t count, total;
  unsigned long next_id;
};

/* ===================================================================== helpers */

static bool add_u64(uint64_t a, uint64_t b, uint64_t *out) {
  return !__builtin_add_overflow(a, b, out);
}

static bool mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}

static vg_status field_error(const char *field, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets "shm reference field 'F': <message>". */
static vg_status field_error(const char *field, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return vg_set_error(VG_ERR_INVALID_ARG, "shm reference field '%s': %s", field, msg);
}

/* ===================================================================== names */

vg_status vg_shm_name_check(const char *name) {
  if (!name || name[0] != '/')
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "shm name '%s' must start with '/' (e.g. \"/vg-client-123\")",
                        name ? name : "(null)");
  size_t n = strlen(name);
  if (n < 2 || n > VG_SHM_NAME_MAX)
    return vg_set_error(VG_ERR_INVALID_ARG, "shm name must be 2..%d characters long (got %zu)",
                        VG_SHM_NAME_MAX, n);
  for (size_t i = 1; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok)
      return vg_set_error(VG_ERR_INVALID_ARG,
                          "shm name has character 0x%02x at %zu; only [A-Za-z0-9._-] may follow "
                          "the leading '/'",
                          c, i);
  }
  if (strcmp(name, "/.") == 0 || strcmp(name, "/..") == 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "shm name '%s' is not a region name", name);
  return VG_OK;
}

vg_status vg_shm_name_from_path(const char *segment, char *out, size_t cap) {
  if (!segment || cap < VG_SHM_NAME_MAX + 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "shm name: no name in the path");
  const char *rest = segment;
  if (rest[0] == '/')
    rest += 1;
  else if (rest[0] == '%' && rest[1] == '2' && (rest[2] == 'F' || rest[2] == 'f'))
    rest += 3;
  if (strlen(rest) + 1 > VG_SHM_NAME_MAX)
    return vg_set_error(VG_ERR_INVALID_ARG, "shm name must be 2..%d characters long",
                        VG_SHM_NAME_MAX);
  snprintf(out, cap, "/%s", rest);
  return vg_shm_name_check(out);
}

/* ===================================================================== registry */

vg_status vg_shm_registry_create(const vg_shm_limits *limits, vg_shm_registry **out) {
  *out = NULL;
  vg_shm_registry *reg = calloc(1, sizeof *reg);
  if (!reg) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating the shm registry");
  if (limits) reg->lim = *limits;
  if (!reg->lim.max_regions) reg->lim.max_regions = 64;
  if (!reg->lim.max_region_bytes) reg->lim.max_region_bytes = (size_t)1 << 30;
  if (!reg->lim.max_total_bytes) reg->lim.max_total_bytes = (size_t)4 << 30;
  pthread_mutex_init(&reg->mu, NULL);
  *out = reg;
  return VG_OK;
}

static void region_free(vg_shm_region *rg) {
  if (rg->data && rg->data != MAP_FAILED) munmap(rg->data, rg->size);
  if (rg->fd >= 0) close(rg->fd);
  free(rg);
}

vg_shm_region *vg_shm_region_ref(vg_shm_region *rg) {
  if (rg) atomic_fetch_add(&rg->refs, 1);
  return rg;
}

void vg_shm_release(vg_shm_region *rg) {
  if (!rg) return;
  int old = atomic_fetch_sub(&rg->refs, 1);
  VG_ASSERT(old > 0);
  if (old == 1) region_free(rg);
}

/* Takes the region out of the list; the caller holds the mutex. */
static void unlink_locked(vg_shm_registry *reg, vg_shm_region *rg) {
  for (vg_shm_region **p = &reg->head; *p; p = &(*p)->next) {
    if (*p == rg) {
      *p = rg->next;
      break;
    }
  }
  rg->registered = false;
  rg->next = NULL;
  reg->count--;
  reg->total -= rg->size;
  if (rg->server_owned) shm_unlink(rg->name);
}

void vg_shm_registry_destroy(vg_shm_registry *reg) {
  if (!reg) return;
  pthread_mutex_lock(&reg->mu);
  while (reg->head) {
    vg_shm_region *rg = reg->head;
    unlink_locked(reg, rg);
    vg_shm_release(rg);
  }
  pthread_mutex_unlock(&reg->mu);
  pthread_mutex_destroy(&reg->mu);
  free(reg);
}

static vg_shm_region *find_locked(vg_shm_registry *reg, const char *name) {
  for (vg_shm_region *rg = reg->head; rg; rg = rg->next)
    if (strcmp(rg->name, name) == 0) return rg;
  return NULL;
}

/* Checks the limits and the name's uniqueness; the caller holds the mutex. */
static vg_status admit_locked(vg_shm_registry *reg, const char *name, size_t bytes) {
  if (find_locked(reg, name))
    return vg_set_error(VG_ERR_STATE, "shm region '%s' is already registered", name);
  if (reg->count >= reg->lim.max_regions)
    return vg_set_error(VG_ERR_NO_MEMORY,
                        "shm: %zu regions are registered already (the limit); release some with "
                        "DELETE /api/shm/{name}",
                        reg->count);
  if (reg->total + bytes > reg->lim.max_total_bytes)
    return vg_set_error(VG_ERR_NO_MEMORY,
                        "shm: registering %zu bytes would pass the limit of %zu bytes for all "
                        "regions together",
                        bytes, reg->lim.max_total_bytes);
  return VG_OK;
}

static vg_status check_bytes(const vg_shm_registry *reg, size_t bytes) {
  if (bytes == 0 || bytes > reg->lim.max_region_bytes)
    return vg_set_error(VG_ERR_INVALID_ARG, "shm field 'bytes': %zu outside 1..%zu", bytes,
                        reg->lim.max_region_bytes);
  return VG_OK;
}

/* Verifies what fstat says about an opened client region. */
static vg_status check_fd(int fd, const char *name, size_t bytes) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return vg_set_error(VG_ERR_IO, "shm region '%s': fstat failed: %s", name, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return vg_set_error(VG_ERR_INVALID_ARG, "shm region '%s' is not a shared-memory object", name);
  if (st.st_uid != geteuid())
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "shm region '%s' belongs to uid %u, not to the server's uid %u", name,
                        (unsigned)st.st_uid, (unsigned)geteuid());
  if ((st.st_mode & 077) != 0)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "shm region '%s' has mode %04o; create it with mode 0600 (no group or "
                        "other access)",
                        name, (unsigned)(st.st_mode & 07777));
  if (st.st_size < 0 || (uint64_t)st.st_size < bytes)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "shm field 'bytes': %zu is more than the region's size %lld (ftruncate "
                        "it first)",
                        bytes, (long long)st.st_size);
  return VG_OK;
}

static vg_status map_region(int fd, const char *name, size_t bytes, bool server_owned,
                            vg_shm_region **out) {
  void *data = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED)
    return vg_set_error(VG_ERR_IO, "shm region '%s': mmap of %zu bytes failed: %s", name, bytes,
                        strerror(errno));
  vg_shm_region *rg = calloc(1, sizeof *rg);
  if (!rg) {
    munmap(data, bytes);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory registering shm region");
  }
  atomic_init(&rg->refs, 1);
  snprintf(rg->name, sizeof rg->name, "%s", name);
  rg->fd = fd;
  rg->data = data;
  rg->size = bytes;
  rg->server_owned = server_owned;
  *out = rg;
  return VG_OK;
}

static void insert_locked(vg_shm_registry *reg, vg_shm_region *rg) {
  rg->registered = true;
  rg->next = reg->head;
  reg->head = rg;
  reg->count++;
  reg->total += rg->size;
}

vg_status vg_shm_register(vg_shm_registry *reg, const char *name, size_t bytes) {
  VG_TRY(vg_shm_name_check(name));
  VG_TRY(check_bytes(reg, bytes));
  pthread_mutex_lock(&reg->mu);
  vg_status s = admit_locked(reg, name, bytes);
  int fd = -1;
  vg_shm_region *rg = NULL;
  if (s == VG_OK) {
    fd = shm_open(name, O_RDWR, 0);
    if (fd < 0)
      s = vg_set_error(errno == ENOENT ? VG_ERR_NOT_FOUND : VG_ERR_INVALID_ARG,
                       "shm region '%s' cannot be opened: %s (create it with shm_open, mode "
                       "0600, before registering)",
                       name, strerror(errno));
  }
  if (s == VG_OK) s = check_fd(fd, name, bytes);
  if (s == VG_OK) s = map_region(fd, name, bytes, false, &rg);
  if (s == VG_OK)
    insert_locked(reg, rg);
  else if (fd >= 0)
    close(fd);
  pthread_mutex_unlock(&reg->mu);
  return s;
}

vg_status vg_shm_create(vg_shm_registry *reg, size_t bytes, char *name_out, size_t cap) {
  VG_TRY(check_bytes(reg, bytes));
  if (cap < VG_SHM_NAME_MAX + 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_shm_create: name buffer too small");
  pthread_mutex_lock(&reg->mu);
  char name[VG_SHM_NAME_MAX + 1];
  snprintf(name, sizeof name, "/vg-out-%ld-%lu", (long)getpid(), ++reg->next_id);
  vg_status s = admit_locked(reg, name, bytes);
  int fd = -1;
  vg_shm_region *rg = NULL;
  if (s == VG_OK) {
    fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
      s = vg_set_error(VG_ERR_IO, "shm: cannot create output region '%s': %s", name,
                       strerror(errno));
  }
  if (s == VG_OK && ftruncate(fd, (off_t)bytes) != 0)
    s = vg_set_error(VG_ERR_IO, "shm: cannot size output region '%s' to %zu bytes: %s", name, bytes,
                     strerror(errno));
  if (s == VG_OK) s = map_region(fd, name, bytes, true, &rg);
  if (s == VG_OK) {
    insert_locked(reg, rg);
    snprintf(name_out, cap, "%s", name);
  } else if (fd >= 0) {
    close(fd);
    shm_unlink(name);
  }
  pthread_mutex_unlock(&reg->mu);
  return s;
}

vg_status vg_shm_unregister(vg_shm_registry *reg, const char *name) {
  VG_TRY(vg_shm_name_check(name));
  pthread_mutex_lock(&reg->mu);
  vg_shm_region *rg = find_locked(reg, name);
  if (rg) unlink_locked(reg, rg);
  pthread_mutex_unlock(&reg->mu);
  if (!rg) return vg_set_error(VG_ERR_NOT_FOUND, "shm region '%s' is not registered", name);
  vg_shm_release(rg);
  return VG_OK;
}

void vg_shm_registry_stats(vg_shm_registry *reg, size_t *regions, size_t *bytes) {
  pthread_mutex_lock(&reg->mu);
  if (regions) *regions = reg->count;
  if (bytes) *bytes = reg->total;
  pthread_mutex_unlock(&reg->mu);
}

json_t *vg_shm_registry_json(vg_shm_registry *reg) {
  json_t *arr = json_array();
  pthread_mutex_lock(&reg->mu);
  for (vg_shm_region *rg = reg->head; rg; rg = rg->next) {
    json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:i}", "name", rg->name, "bytes",
                                         (json_int_t)rg->size, "owner",
                                         rg->server_owned ? "server" : "client", "refs",
                                         atomic_load(&rg->refs)));
  }
  pthread_mutex_unlock(&reg->mu);
  return json_pack("{s:o}", "regions", arr);
}

/* ===================================================================== regions */

vg_status vg_shm_acquire(vg_shm_registry *reg, const char *name, vg_shm_region **out) {
  *out = NULL;
  VG_TRY(vg_shm_name_check(name));
  pthread_mutex_lock(&reg->mu);
  vg_shm_region *rg = find_locked(reg, name);
  if (rg) vg_shm_region_ref(rg);
  pthread_mutex_unlock(&reg->mu);
  if (!rg)
    return vg_set_error(VG_ERR_NOT_FOUND,
                        "shm reference field 'shm_name': region '%s' is not registered (POST "
                        "/api/shm first)",
                        name);
  *out = rg;
  return VG_OK;
}

void *vg_shm_region_data(const vg_shm_region *rg) {
  return rg->data;
}

size_t vg_shm_region_size(const vg_shm_region *rg) {
  return rg->size;
}

const char *vg_shm_region_name(const vg_shm_region *rg) {
  return rg->name;
}

static void buffer_release(void *ctx, void *data, size_t bytes, vg_device dev) {
  (void)data, (void)bytes, (void)dev;
  vg_shm_release(ctx);
}

vg_status vg_shm_region_buffer(vg_shm_region *rg, size_t offset, size_t bytes, vg_buffer **out) {
  *out = NULL;
  uint64_t end;
  if (!add_u64(offset, bytes, &end) || end > rg->size)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "shm reference field 'bytes': offset %zu + bytes %zu is past the end of "
                        "region '%s' (%zu bytes)",
                        offset, bytes, rg->name, rg->size);
  vg_shm_region_ref(rg);
  vg_status s = vg_buffer_wrap(vg_cpu(), (char *)rg->data + offset, bytes, buffer_release, rg, out);
  if (s != VG_OK) vg_shm_release(rg);
  return s;
}

/* ===================================================================== names of things */

static const char *const format_names[VG_SHM_FMT_COUNT_] = {"tensor", "nv12", "rgb24", "bgr24",
                                                            "gray8"};

const char *vg_shm_format_name(vg_shm_format f) {
  return (int)f >= 0 && f < VG_SHM_FMT_COUNT_ ? format_names[f] : "?";
}

static const char *const dtype_wire[VG_DTYPE_COUNT_] = {"float32", "float16", "uint8", "int32",
                                                        "int64"};

const char *vg_shm_dtype_name(vg_dtype t) {
  return (int)t >= 0 && t < VG_DTYPE_COUNT_ ? dtype_wire[t] : "?";
}

static bool dtype_from_wire(const char *s, vg_dtype *out) {
  for (int i = 0; i < VG_DTYPE_COUNT_; i++) {
    if (strcmp(s, dtype_wire[i]) == 0 || strcmp(s, vg_dtype_name((vg_dtype)i)) == 0) {
      *out = (vg_dtype)i;
      return true;
    }
  }
  return false;
}

/* ===================================================================== reference parsing */

/* A non-negative JSON integer field (required unless dflt >= 0, then the default). */
static vg_status get_uint(const json_t *obj, const char *key, int64_t dflt, uint64_t *out) {
  const json_t *v = json_object_get(obj, key);
  if (!v) {
    if (dflt >= 0) return (*out = (uint64_t)dflt), VG_OK;
    return field_error(key, "missing (a non-negative integer is required)");
  }
  if (!json_is_integer(v)) return field_error(key, "must be a non-negative integer");
  json_int_t x = json_integer_value(v);
  if (x < 0) return field_error(key, "must be a non-negative integer (got %lld)", (long long)x);
  *out = (uint64_t)x;
  return VG_OK;
}

static vg_status parse_dims(const json_t *obj, vg_shm_ref *r) {
  const json_t *shape = json_object_get(obj, "shape");
  if (!shape)
    return field_error("shape", "missing (an array of 1..%d positive integers)", VG_MAX_DIMS);
  if (!json_is_array(shape) || json_array_size(shape) < 1 || json_array_size(shape) > VG_MAX_DIMS)
    return field_error("shape", "must be an array of 1..%d positive integers", VG_MAX_DIMS);
  r->ndim = (int)json_array_size(shape);
  for (int i = 0; i < r->ndim; i++) {
    const json_t *d = json_array_get(shape, (size_t)i);
    char f[16];
    snprintf(f, sizeof f, "shape[%d]", i);
    if (!json_is_integer(d)) return field_error(f, "must be an integer");
    if (json_integer_value(d) <= 0)
      return field_error(f, "must be > 0 (got %lld)", (long long)json_integer_value(d));
    r->shape[i] = json_integer_value(d);
  }
  const json_t *strides = json_object_get(obj, "strides");
  r->has_strides = strides && !json_is_null(strides);
  if (!r->has_strides) return VG_OK;
  if (!json_is_array(strides) || json_array_size(strides) != (size_t)r->ndim)
    return field_error("strides", "must be an array of %d byte strides, one per dim of 'shape'",
                       r->ndim);
  for (int i = 0; i < r->ndim; i++) {
    const json_t *d = json_array_get(strides, (size_t)i);
    char f[16];
    snprintf(f, sizeof f, "strides[%d]", i);
    if (!json_is_integer(d) || json_integer_value(d) <= 0)
      return field_error(f, "must be a positive integer (bytes)");
    r->strides[i] = json_integer_value(d);
  }
  return VG_OK;
}

/* Fills default strides, checks given ones, and computes the extent without overflow. */
static vg_status check_layout(vg_shm_ref *r) {
  uint64_t elem = vg_dtype_size(r->dtype);
  if (!r->has_strides) {
    uint64_t s = elem;
    for (int i = r->ndim - 1; i >= 0; i--) {
      if (s > INT64_MAX) return field_error("shape", "the tensor is too large (size overflows)");
      r->strides[i] = (int64_t)s;
      if (!mul_u64(s, (uint64_t)r->shape[i], &s))
        return field_error("shape", "the tensor is too large (size overflows)");
    }
  }
  for (int i = 0; i < r->ndim; i++) {
    char f[16];
    snprintf(f, sizeof f, "strides[%d]", i);
    if ((uint64_t)r->strides[i] % elem != 0)
      return field_error(f, "%lld is not a multiple of the %s element size %llu",
                         (long long)r->strides[i], vg_shm_dtype_name(r->dtype),
                         (unsigned long long)elem);
    uint64_t inner = elem; /* bytes spanned by one step of dim i+1's whole range */
    if (i + 1 < r->ndim && !mul_u64((uint64_t)r->strides[i + 1], (uint64_t)r->shape[i + 1], &inner))
      return field_error(f, "stride arithmetic overflows");
    if ((uint64_t)r->strides[i] < inner)
      return field_error(f, "%lld overlaps the next dimension (needs >= %llu bytes)",
                         (long long)r->strides[i], (unsigned long long)inner);
  }
  uint64_t ext = elem;
  for (int i = 0; i < r->ndim; i++) {
    uint64_t span;
    if (!mul_u64((uint64_t)(r->shape[i] - 1), (uint64_t)r->strides[i], &span) ||
        !add_u64(ext, span, &ext))
      return field_error("shape", "shape x strides overflows the size arithmetic");
  }
  r->extent = ext;
  if (ext > r->bytes)
    return field_error("bytes",
                       "%llu is smaller than the %llu bytes that 'shape' and 'strides' span",
                       (unsigned long long)r->bytes, (unsigned long long)ext);
  if (r->offset % elem != 0)
    return field_error("offset", "%llu is not a multiple of the %s element size %llu",
                       (unsigned long long)r->offset, vg_shm_dtype_name(r->dtype),
                       (unsigned long long)elem);
  return VG_OK;
}

/* The frame formats' layouts (uint8, packed pixels within a row). */
static vg_status check_frame_layout(const vg_shm_ref *r) {
  const char *fmt = vg_shm_format_name(r->format);
  if (r->dtype != VG_DTYPE_U8) return field_error("dtype", "must be uint8 for format '%s'", fmt);
  int64_t h = r->shape[0], w = r->ndim > 1 ? r->shape[1] : 0;
  switch (r->format) {
  case VG_SHM_FMT_RGB24:
  case VG_SHM_FMT_BGR24:
    if (r->ndim != 3 || r->shape[2] != 3)
      return field_error("shape", "format '%s' needs [height, width, 3]", fmt);
    if (r->strides[2] != 1 || r->strides[1] != 3)
      return field_error("strides", "format '%s' needs packed pixels: [pitch, 3, 1]", fmt);
    break;
  case VG_SHM_FMT_GRAY8:
    if (!(r->ndim == 2 || (r->ndim == 3 && r->shape[2] == 1)))
      return field_error("shape", "format 'gray8' needs [height, width] or [height, width, 1]");
    if (r->strides[1] != 1) return field_error("strides", "format 'gray8' needs [pitch, 1]");
    break;
  case VG_SHM_FMT_NV12:
    if (r->ndim != 2 || h % 3 != 0 || w % 2 != 0)
      return field_error("shape",
                         "format 'nv12' needs [height*3/2, width] with even height and width "
                         "(the Y plane then the interleaved UV plane, same pitch)");
    if (r->strides[1] != 1) return field_error("strides", "format 'nv12' needs [pitch, 1]");
    h = h / 3 * 2;
    break;
  default:
    return VG_OK;
  }
  if (h > VG_SHM_MAX_SIDE || w > VG_SHM_MAX_SIDE)
    return field_error("shape", "frame %lldx%lld is larger than %dx%d", (long long)w, (long long)h,
                       VG_SHM_MAX_SIDE, VG_SHM_MAX_SIDE);
  if (r->strides[0] > INT_MAX) return field_error("strides[0]", "pitch too large");
  return VG_OK;
}

static vg_status parse_kind(const json_t *obj, vg_shm_ref *r) {
  const json_t *fmt = json_object_get(obj, "format");
  if (!fmt) return field_error("format", "missing (tensor, nv12, rgb24, bgr24 or gray8)");
  if (!json_is_string(fmt)) return field_error("format", "must be a string");
  r->format = VG_SHM_FMT_COUNT_;
  for (int i = 0; i < VG_SHM_FMT_COUNT_; i++)
    if (strcmp(json_string_value(fmt), format_names[i]) == 0) r->format = (vg_shm_format)i;
  if (r->format == VG_SHM_FMT_COUNT_)
    return field_error("format", "unknown format (use tensor, nv12, rgb24, bgr24 or gray8)");
  const json_t *dt = json_object_get(obj, "dtype");
  if (!dt) {
    if (r->format == VG_SHM_FMT_TENSOR)
      return field_error("dtype", "missing (uint8, float32, float16, int32 or int64)");
    r->dtype = VG_DTYPE_U8;
    return VG_OK;
  }
  if (!json_is_string(dt) || !dtype_from_wire(json_string_value(dt), &r->dtype))
    return field_error("dtype", "must be one of uint8, float32, float16, int32, int64");
  return VG_OK;
}

vg_status vg_shm_ref_parse(const json_t *obj, vg_shm_ref *out) {
  memset(out, 0, sizeof *out);
  if (!json_is_object(obj))
    return vg_set_error(VG_ERR_INVALID_ARG, "shm reference: must be a JSON object");
  const json_t *name = json_object_get(obj, "shm_name");
  if (!name) return field_error("shm_name", "missing");
  if (!json_is_string(name)) return field_error("shm_name", "must be a string");
  if (vg_shm_name_check(json_string_value(name)) != VG_OK)
    return vg_wrap_error(VG_ERR_INVALID_ARG, "shm reference field 'shm_name'");
  snprintf(out->shm_name, sizeof out->shm_name, "%s", json_string_value(name));
  uint64_t fid = 0, end;
  VG_TRY(get_uint(obj, "offset", -1, &out->offset));
  VG_TRY(get_uint(obj, "bytes", -1, &out->bytes));
  VG_TRY(get_uint(obj, "frame_id", 0, &fid));
  if (out->bytes == 0) return field_error("bytes", "must be > 0");
  if (!add_u64(out->offset, out->bytes, &end) || end > INT64_MAX)
    return field_error("offset", "offset + bytes overflows");
  out->frame_id = (int64_t)(fid > INT64_MAX ? INT64_MAX : fid);
  VG_TRY(parse_kind(obj, out));
  VG_TRY(parse_dims(obj, out));
  VG_TRY(check_layout(out));
  if (out->format != VG_SHM_FMT_TENSOR) VG_TRY(check_frame_layout(out));
  return VG_OK;
}

vg_status vg_shm_ref_parse_text(const char *text, size_t len, vg_shm_ref *out) {
  memset(out, 0, sizeof *out);
  json_error_t err;
  json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
  if (!obj)
    return vg_set_error(VG_ERR_PARSE, "shm reference: malformed JSON at line %d column %d: %s",
                        err.line, err.column, err.text);
  vg_status s = vg_shm_ref_parse(obj, out);
  json_decref(obj);
  return s;
}

/* ===================================================================== resolve */

static vg_pixfmt pixfmt_of(vg_shm_format f) {
  switch (f) {
  case VG_SHM_FMT_NV12:
    return VG_PIX_NV12;
  case VG_SHM_FMT_RGB24:
    return VG_PIX_RGB24;
  case VG_SHM_FMT_BGR24:
    return VG_PIX_BGR24;
  default:
    return VG_PIX_GRAY8;
  }
}

static void frame_view(const vg_shm_ref *r, vg_buffer *buf, vg_frame *f) {
  memset(f, 0, sizeof *f);
  f->format = pixfmt_of(r->format);
  f->height = (int)(r->format == VG_SHM_FMT_NV12 ? r->shape[0] / 3 * 2 : r->shape[0]);
  f->width = (int)r->shape[1];
  f->nplanes = r->format == VG_SHM_FMT_NV12 ? 2 : 1;
  f->pitch[0] = (int)r->strides[0];
  if (f->nplanes == 2) {
    f->pitch[1] = f->pitch[0];
    f->plane_offset[1] = (size_t)r->strides[0] * (size_t)f->height;
  }
  f->buffer = buf;
  f->colorspace = VG_CS_BT601;
  f->frame_no = r->frame_id;
  f->pts = INT64_MIN;
  f->tb_num = 1;
  f->tb_den = 1;
  f->t_capture_ns = vg_now_ns();
  f->t_decode_ns = f->t_capture_ns;
}

static void tensor_view(const vg_shm_ref *r, vg_buffer *buf, vg_tensor *t) {
  memset(t, 0, sizeof *t);
  int64_t elem = (int64_t)vg_dtype_size(r->dtype);
  t->dtype = r->dtype;
  t->ndim = r->ndim;
  for (int i = 0; i < r->ndim; i++) {
    t->shape[i] = r->shape[i];
    t->strides[i] = r->strides[i] / elem;
  }
  t->buffer = buf;
}

/* The region may have been shrunk by its owner since it was registered: touching pages past its
 * end would raise SIGBUS, so the current size is checked at every resolve. */
static vg_status check_still_sized(const vg_shm_region *rg) {
  struct stat st;
  if (fstat(rg->fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size < rg->size)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "shm reference field 'shm_name': region '%s' was truncated below its "
                        "registered %zu bytes",
                        rg->name, rg->size);
  return VG_OK;
}

vg_status vg_shm_ref_resolve(vg_shm_registry *reg, const json_t *obj, vg_shm_view *out) {
  memset(out, 0, sizeof *out);
  VG_TRY(vg_shm_ref_parse(obj, &out->ref));
  const vg_shm_ref *r = &out->ref;
  vg_shm_region *rg = NULL;
  VG_TRY(vg_shm_acquire(reg, r->shm_name, &rg));
  vg_status s = check_still_sized(rg);
  if (s == VG_OK && r->offset + r->bytes > rg->size)
    s = field_error("bytes", "offset %llu + bytes %llu is past the end of region '%s' (%zu bytes)",
                    (unsigned long long)r->offset, (unsigned long long)r->bytes, rg->name,
                    rg->size);
  vg_buffer *buf = NULL;
  if (s == VG_OK) s = vg_shm_region_buffer(rg, (size_t)r->offset, (size_t)r->bytes, &buf);
  if (s == VG_OK) {
    out->data = vg_buffer_data(buf);
    out->is_frame = r->format != VG_SHM_FMT_TENSOR;
    if (out->is_frame)
      frame_view(r, buf, &out->frame);
    else
      tensor_view(r, buf, &out->tensor);
  }
  vg_shm_release(rg); /* the buffer holds its own reference */
  return s;
}

void vg_shm_view_release(vg_shm_view *v) {
  if (!v) return;
  vg_frame_release(&v->frame);
  vg_tensor_release(&v->tensor);
  v->data = NULL;
}

json_t *vg_shm_ref_to_json(const vg_shm_ref *r) {
  json_t *shape = json_array(), *strides = json_array();
  for (int i = 0; i < r->ndim; i++) {
    json_array_append_new(shape, json_integer(r->shape[i]));
    json_array_append_new(strides, json_integer(r->strides[i]));
  }
  return json_pack("{s:s, s:I, s:I, s:s, s:o, s:o, s:s, s:I}", "shm_name", r->shm_name, "offset",
                   (json_int_t)r->offset, "bytes", (json_int_t)r->bytes, "dtype",
                   vg_shm_dtype_name(r->dtype), "shape", shape, "strides", strides, "format",
                   vg_shm_format_name(r->format), "frame_id", (json_int_t)r->frame_id);
}

/* ===================================================================== outputs */

/* Creates a server region of `bytes` and returns a reference to it (for the caller to fill). */
static vg_status new_output(vg_shm_registry *reg, vg_shm_ref *r, vg_shm_region **rg) {
  char name[VG_SHM_NAME_MAX + 1];
  VG_TRY(vg_shm_create(reg, (size_t)r->bytes, name, sizeof name));
  snprintf(r->shm_name, sizeof r->shm_name, "%s", name);
  vg_status s = vg_shm_acquire(reg, name, rg);
  if (s != VG_OK) vg_shm_unregister(reg, name);
  return s;
}

static vg_shm_format format_of(vg_pixfmt p) {
  switch (p) {
  case VG_PIX_NV12:
    return VG_SHM_FMT_NV12;
  case VG_PIX_RGB24:
    return VG_SHM_FMT_RGB24;
  case VG_PIX_BGR24:
    return VG_SHM_FMT_BGR24;
  default:
    return VG_SHM_FMT_GRAY8;
  }
}

vg_status vg_shm_export_frame(vg_shm_registry *reg, const vg_frame *f, int64_t frame_id,
                              json_t **ref_out) {
  *ref_out = NULL;
  if (!f || !f->buffer || f->width <= 0 || f->height <= 0 || (int)f->format < 0 ||
      f->format >= VG_PIX_COUNT_)
    return vg_set_error(VG_ERR_INVALID_ARG, "shm export: not a valid frame");
  if (f->format == VG_PIX_NV12 && (f->width % 2 || f->height % 2))
    return vg_set_error(VG_ERR_UNSUPPORTED, "shm export: nv12 frames need even sides (%dx%d)",
                        f->width, f->height);
  vg_shm_ref r;
  memset(&r, 0, sizeof r);
  r.format = format_of(f->format);
  r.dtype = VG_DTYPE_U8;
  r.frame_id = frame_id;
  size_t wb = vg_frame_plane_width_bytes(f, 0);
  r.ndim = r.format == VG_SHM_FMT_RGB24 || r.format == VG_SHM_FMT_BGR24 ? 3 : 2;
  r.shape[0] = r.format == VG_SHM_FMT_NV12 ? f->height / 2 * 3 : f->height;
  r.shape[1] = f->width;
  r.shape[2] = 3;
  r.strides[0] = (int64_t)wb;
  r.strides[1] = r.ndim == 3 ? 3 : 1;
  r.strides[2] = 1;
  r.has_strides = true;
  r.bytes = r.extent = (uint64_t)wb * (uint64_t)r.shape[0];
  vg_shm_region *rg = NULL;
  VG_TRY(new_output(reg, &r, &rg));
  vg_status s = VG_OK;
  size_t off = 0;
  for (int p = 0; p < f->nplanes && s == VG_OK; p++) {
    size_t rows = (size_t)vg_frame_plane_rows(f, p);
    s = vg_memcpy2d_async((char *)rg->data + off, wb, vg_cpu(), vg_frame_plane(f, p),
                          (size_t)f->pitch[p], vg_frame_device(f), wb, rows, NULL);
    off += wb * rows;
  }
  if (s == VG_OK) s = vg_default_stream_sync(); /* that copy only, not the whole device */
  vg_shm_release(rg);
  if (s != VG_OK) {
    vg_shm_unregister(reg, r.shm_name);
    return s;
  }
  *ref_out = vg_shm_ref_to_json(&r);
  return VG_OK;
}

vg_status vg_shm_export_tensor(vg_shm_registry *reg, const vg_tensor *t, int64_t frame_id,
                               json_t **ref_out) {
  *ref_out = NULL;
  if (!t || !t->buffer || t->ndim < 1 || t->ndim > VG_MAX_DIMS || !vg_tensor_is_contiguous(t))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "shm export: the tensor must be contiguous with rank 1..%d", VG_MAX_DIMS);
  vg_shm_ref r;
  memset(&r, 0, sizeof r);
  r.format = VG_SHM_FMT_TENSOR;
  r.dtype = t->dtype;
  r.frame_id = frame_id;
  r.ndim = t->ndim;
  int64_t elem = (int64_t)vg_dtype_size(t->dtype);
  for (int i = 0; i < t->ndim; i++) {
    r.shape[i] = t->shape[i];
    r.strides[i] = t->strides[i] * elem;
  }
  r.has_strides = true;
  r.bytes = r.extent = vg_tensor_nbytes(t);
  if (r.bytes == 0) return vg_set_error(VG_ERR_INVALID_ARG, "shm export: empty tensor");
  vg_shm_region *rg = NULL;
  VG_TRY(new_output(reg, &r, &rg));
  vg_status s = vg_memcpy(rg->data, vg_cpu(), vg_tensor_data(t), vg_tensor_device(t), r.bytes);
  vg_shm_release(rg);
  if (s != VG_OK) {
    vg_shm_unregister(reg, r.shm_name);
    return s;
  }
  *ref_out = vg_shm_ref_to_json(&r);
  return VG_OK;
}
