/* test_server_shm.c - the shared-memory data plane (src/server/shm.c): region names, the
 * registry (mode/owner/size checks, limits, explicit release), reference validation with one
 * test per kind of bad reference, views of frames and tensors over client memory, reference
 * counting across unregister, and outputs exported as server regions. */
#include "vg_test.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/shm.h"

/* ------------------------------------------------------------------ fixture */

typedef struct fixture {
  vg_shm_registry *reg;
  char name[64];
  int fd;
  uint8_t *data;
  size_t size;
} fixture;

static int counter;

/* A client region of `size` bytes with mode `mode`, filled with i*7+1. */
static void make_region(fixture *fx, size_t size, mode_t mode) {
  snprintf(fx->name, sizeof fx->name, "/vg-test-%ld-%d", (long)getpid(), ++counter);
  shm_unlink(fx->name);
  fx->fd = shm_open(fx->name, O_RDWR | O_CREAT | O_EXCL, 0600);
  assert_true(fx->fd >= 0);
  assert_int_equal(fchmod(fx->fd, mode), 0);
  assert_int_equal(ftruncate(fx->fd, (off_t)size), 0);
  fx->data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fx->fd, 0);
  assert_true(fx->data != MAP_FAILED);
  fx->size = size;
  for (size_t i = 0; i < size; i++)
    fx->data[i] = (uint8_t)(i * 7 + 1);
}

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  fx->fd = -1;
  if (vg_shm_registry_create(NULL, &fx->reg) != VG_OK) return -1;
  make_region(fx, 4096, 0600);
  if (vg_shm_register(fx->reg, fx->name, fx->size) != VG_OK) return -1;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  vg_shm_registry_destroy(fx->reg);
  munmap(fx->data, fx->size);
  close(fx->fd);
  shm_unlink(fx->name);
  free(fx);
  return 0;
}

/* Resolves the reference JSON text `fmt` (with %s = the fixture's region name). */
static vg_status resolve(fixture *fx, const char *fmt, vg_shm_view *view) {
  char text[1024];
  snprintf(text, sizeof text, fmt, fx->name);
  json_error_t err;
  json_t *obj = json_loads(text, 0, &err);
  if (!obj) fail_msg("bad test JSON %s: %s", text, err.text);
  vg_status s = vg_shm_ref_resolve(fx->reg, obj, view);
  json_decref(obj);
  return s;
}

/* Expects the reference to be refused with a message naming `field`. */
static void expect_bad(fixture *fx, const char *fmt, const char *field) {
  vg_shm_view v;
  vg_status s = resolve(fx, fmt, &v);
  if (s == VG_OK) {
    vg_shm_view_release(&v);
    fail_msg("reference accepted: %s", fmt);
  }
  assert_null(v.frame.buffer);
  assert_null(v.tensor.buffer);
  char needle[64];
  snprintf(needle, sizeof needle, "'%s'", field);
  VG_ASSERT_MSG_HAS(needle);
}

/* ------------------------------------------------------------------ names */

static void test_names(void **state) {
  (void)state;
  VG_ASSERT_OK(vg_shm_name_check("/vg-client-123"));
  VG_ASSERT_OK(vg_shm_name_check("/A.b_c-9"));
  assert_int_equal(vg_shm_name_check(NULL), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_check(""), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_check("vg-client"), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("must start with '/'");
  assert_int_equal(vg_shm_name_check("/"), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_check("/.."), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_check("/a/b"), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_check("//a"), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_check("/a b"), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_check("/a\nb"), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_check("/caf\xc3\xa9"), VG_ERR_INVALID_ARG);
  char longname[VG_SHM_NAME_MAX + 2];
  memset(longname, 'a', sizeof longname);
  longname[0] = '/';
  longname[VG_SHM_NAME_MAX] = '\0'; /* exactly the limit */
  VG_ASSERT_OK(vg_shm_name_check(longname));
  longname[VG_SHM_NAME_MAX] = 'a';
  longname[VG_SHM_NAME_MAX + 1] = '\0';
  assert_int_equal(vg_shm_name_check(longname), VG_ERR_INVALID_ARG);

  char out[VG_SHM_NAME_MAX + 1];
  VG_ASSERT_OK(vg_shm_name_from_path("vg-a", out, sizeof out));
  assert_string_equal(out, "/vg-a");
  VG_ASSERT_OK(vg_shm_name_from_path("%2Fvg-b", out, sizeof out));
  assert_string_equal(out, "/vg-b");
  VG_ASSERT_OK(vg_shm_name_from_path("/vg-c", out, sizeof out));
  assert_string_equal(out, "/vg-c");
  assert_int_equal(vg_shm_name_from_path("..", out, sizeof out), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_from_path("%2F..%2Fetc", out, sizeof out), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_name_from_path("", out, sizeof out), VG_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------------ registry */

static void test_register_checks(void **state) {
  fixture *fx = *state;
  /* already registered by setup */
  assert_int_equal(vg_shm_register(fx->reg, fx->name, 16), VG_ERR_STATE);
  /* no such region */
  assert_int_equal(vg_shm_register(fx->reg, "/vg-test-does-not-exist", 16), VG_ERR_NOT_FOUND);
  /* bad name, zero bytes */
  assert_int_equal(vg_shm_register(fx->reg, "/etc/passwd", 16), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_shm_register(fx->reg, "/vg-x", 0), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("'bytes'");

  fixture other = {0};
  make_region(&other, 256, 0644); /* readable by others: refused */
  assert_int_equal(vg_shm_register(fx->reg, other.name, 256), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("0600");
  assert_int_equal(fchmod(other.fd, 0600), 0);
  /* more bytes than the region has */
  assert_int_equal(vg_shm_register(fx->reg, other.name, 257), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("'bytes'");
  VG_ASSERT_OK(vg_shm_register(fx->reg, other.name, 256));
  size_t n = 0, bytes = 0;
  vg_shm_registry_stats(fx->reg, &n, &bytes);
  assert_int_equal(n, 2);
  assert_int_equal(bytes, 4096 + 256);
  json_t *list = vg_shm_registry_json(fx->reg);
  assert_int_equal(json_array_size(json_object_get(list, "regions")), 2);
  json_decref(list);
  VG_ASSERT_OK(vg_shm_unregister(fx->reg, other.name));
  assert_int_equal(vg_shm_unregister(fx->reg, other.name), VG_ERR_NOT_FOUND);
  /* a client region is not unlinked by the server */
  int fd = shm_open(other.name, O_RDONLY, 0);
  assert_true(fd >= 0);
  close(fd);
  munmap(other.data, other.size);
  close(other.fd);
  shm_unlink(other.name);
}

static void test_limits(void **state) {
  (void)state;
  vg_shm_limits lim = {.max_regions = 1, .max_region_bytes = 1024, .max_total_bytes = 1024};
  vg_shm_registry *reg = NULL;
  VG_ASSERT_OK(vg_shm_registry_create(&lim, &reg));
  char a[VG_SHM_NAME_MAX + 1], b[VG_SHM_NAME_MAX + 1];
  assert_int_equal(vg_shm_create(reg, 2048, a, sizeof a), VG_ERR_INVALID_ARG);
  VG_ASSERT_OK(vg_shm_create(reg, 512, a, sizeof a));
  assert_int_equal(vg_shm_create(reg, 512, b, sizeof b), VG_ERR_NO_MEMORY);
  VG_ASSERT_MSG_HAS("limit");
  VG_ASSERT_OK(vg_shm_unregister(reg, a));
  /* a server region is unlinked on release */
  assert_int_equal(shm_open(a, O_RDONLY, 0), -1);
  assert_int_equal(errno, ENOENT);
  VG_ASSERT_OK(vg_shm_create(reg, 512, b, sizeof b));
  assert_string_not_equal(a, b);
  vg_shm_registry_destroy(reg);
  assert_int_equal(shm_open(b, O_RDONLY, 0), -1);
}

/* ------------------------------------------------------------------ good references */

static void test_frame_rgb24(void **state) {
  fixture *fx = *state;
  vg_shm_view v;
  /* 4x3 rgb24 frame, pitch 16 (padded rows), at offset 64 */
  VG_ASSERT_OK(resolve(fx,
                       "{\"shm_name\":\"%s\",\"offset\":64,\"bytes\":60,\"dtype\":\"uint8\","
                       "\"shape\":[4,3,3],\"strides\":[16,3,1],\"format\":\"rgb24\","
                       "\"frame_id\":42}",
                       &v));
  assert_true(v.is_frame);
  assert_int_equal(v.frame.format, VG_PIX_RGB24);
  assert_int_equal(v.frame.width, 3);
  assert_int_equal(v.frame.height, 4);
  assert_int_equal(v.frame.pitch[0], 16);
  assert_int_equal(v.frame.frame_no, 42);
  assert_int_equal(v.ref.extent, 3 * 16 + 9);
  /* the view reads the client's bytes through its own mapping, no copy: a write by the client
   * shows up in the view */
  const uint8_t *px = vg_frame_plane(&v.frame, 0);
  assert_memory_equal(px, fx->data + 64, 60);
  assert_int_equal(px[2 * 16 + 4], (uint8_t)((64 + 2 * 16 + 4) * 7 + 1));
  fx->data[64] = 99;
  assert_int_equal(px[0], 99);
  vg_shm_view_release(&v);
}

static void test_frame_nv12_gray_defaults(void **state) {
  fixture *fx = *state;
  vg_shm_view v;
  /* 8x4 NV12 frame, pitch 8: shape [6, 8], strides left out (contiguous), dtype defaulted */
  VG_ASSERT_OK(resolve(fx,
                       "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":48,\"shape\":[6,8],"
                       "\"format\":\"nv12\"}",
                       &v));
  assert_int_equal(v.frame.format, VG_PIX_NV12);
  assert_int_equal(v.frame.width, 8);
  assert_int_equal(v.frame.height, 4);
  assert_int_equal(v.frame.nplanes, 2);
  assert_int_equal(v.frame.plane_offset[1], 32);
  assert_int_equal(v.frame.pitch[1], 8);
  assert_int_equal(v.ref.strides[0], 8);
  assert_memory_equal(vg_frame_plane(&v.frame, 1), fx->data + 32, 16);
  assert_ptr_equal(vg_frame_plane(&v.frame, 1), (uint8_t *)v.data + 32);
  vg_shm_view_release(&v);
  VG_ASSERT_OK(resolve(fx,
                       "{\"shm_name\":\"%s\",\"offset\":100,\"bytes\":20,\"dtype\":\"uint8\","
                       "\"shape\":[4,5,1],\"format\":\"gray8\"}",
                       &v));
  assert_int_equal(v.frame.format, VG_PIX_GRAY8);
  assert_int_equal(v.frame.width, 5);
  vg_shm_view_release(&v);
}

static void test_tensor_strided(void **state) {
  fixture *fx = *state;
  vg_shm_view v;
  /* float32 [2,3] with a row stride of 16 bytes (one float of padding per row) */
  VG_ASSERT_OK(resolve(fx,
                       "{\"shm_name\":\"%s\",\"offset\":256,\"bytes\":28,\"dtype\":\"float32\","
                       "\"shape\":[2,3],\"strides\":[16,4],\"format\":\"tensor\"}",
                       &v));
  assert_false(v.is_frame);
  assert_int_equal(v.tensor.dtype, VG_DTYPE_F32);
  assert_int_equal(v.tensor.strides[0], 4);
  assert_int_equal(v.tensor.strides[1], 1);
  assert_ptr_equal(vg_tensor_data(&v.tensor), v.data);
  assert_memory_equal(v.data, fx->data + 256, 28);
  assert_false(vg_tensor_is_contiguous(&v.tensor));
  json_t *back = vg_shm_ref_to_json(&v.ref);
  assert_string_equal(json_string_value(json_object_get(back, "dtype")), "float32");
  assert_int_equal(json_integer_value(json_array_get(json_object_get(back, "strides"), 0)), 16);
  json_decref(back);
  vg_shm_view_release(&v);
  /* the short dtype names are accepted too; a contiguous int64 vector */
  VG_ASSERT_OK(resolve(fx,
                       "{\"shm_name\":\"%s\",\"offset\":8,\"bytes\":80,\"dtype\":\"i64\","
                       "\"shape\":[10],\"format\":\"tensor\"}",
                       &v));
  assert_true(vg_tensor_is_contiguous(&v.tensor));
  assert_int_equal(vg_tensor_nbytes(&v.tensor), 80);
  vg_shm_view_release(&v);
}

/* A view keeps the mapping alive after the region is unregistered; new references fail. */
static void test_refcount_across_unregister(void **state) {
  fixture *fx = *state;
  vg_shm_view v;
  VG_ASSERT_OK(resolve(fx,
                       "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":4096,\"dtype\":\"uint8\","
                       "\"shape\":[4096],\"format\":\"tensor\"}",
                       &v));
  VG_ASSERT_OK(vg_shm_unregister(fx->reg, fx->name));
  const uint8_t *p = vg_tensor_data(&v.tensor);
  assert_int_equal(p[4095], (uint8_t)(4095 * 7 + 1));
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[16],\"format\":\"tensor\"}",
             "shm_name");
  VG_ASSERT_MSG_HAS("not registered");
  vg_shm_view_release(&v);
  vg_shm_view_release(&v);                                    /* twice is harmless */
  VG_ASSERT_OK(vg_shm_register(fx->reg, fx->name, fx->size)); /* for teardown symmetry */
}

/* ------------------------------------------------------------------ bad references */

static void test_bad_names_and_types(void **state) {
  fixture *fx = *state;
  const char *tail = "\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\",\"shape\":[16],"
                     "\"format\":\"tensor\"}";
  char buf[512];
  snprintf(buf, sizeof buf, "{\"shm_name\":\"/../../etc/passwd\",%s", tail);
  expect_bad(fx, buf, "shm_name");
  snprintf(buf, sizeof buf, "{\"shm_name\":\"vg-no-slash\",%s", tail);
  expect_bad(fx, buf, "shm_name");
  snprintf(buf, sizeof buf, "{\"shm_name\":42,%s", tail);
  expect_bad(fx, buf, "shm_name");
  snprintf(buf, sizeof buf, "{%s", tail);
  expect_bad(fx, buf, "shm_name");
  snprintf(buf, sizeof buf, "{\"shm_name\":\"/vg-test-unregistered\",%s", tail);
  expect_bad(fx, buf, "shm_name");
  VG_ASSERT_MSG_HAS("not registered");
  /* wrong types and missing fields */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":\"0\",\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[16],\"format\":\"tensor\"}",
             "offset");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":1.5,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[16],\"format\":\"tensor\"}",
             "offset");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"dtype\":\"uint8\",\"shape\":[16],"
             "\"format\":\"tensor\"}",
             "bytes");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":0,\"dtype\":\"uint8\","
             "\"shape\":[16],\"format\":\"tensor\"}",
             "bytes");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[16],\"format\":\"tensor\",\"frame_id\":-1}",
             "frame_id");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[16]}",
             "format");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[16],\"format\":\"yuv444\"}",
             "format");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":\"16\",\"format\":\"tensor\"}",
             "shape");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[],\"format\":\"tensor\"}",
             "shape");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[1,1,1,1,1,1,1,1,1],\"format\":\"tensor\"}",
             "shape");
  /* not an object at all */
  vg_shm_view v;
  json_t *arr = json_array();
  assert_int_equal(vg_shm_ref_resolve(fx->reg, arr, &v), VG_ERR_INVALID_ARG);
  json_decref(arr);
}

static void test_bad_dtype(void **state) {
  fixture *fx = *state;
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"float64\","
             "\"shape\":[2],\"format\":\"tensor\"}",
             "dtype");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":7,"
             "\"shape\":[2],\"format\":\"tensor\"}",
             "dtype");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,"
             "\"shape\":[2],\"format\":\"tensor\"}",
             "dtype");
  /* frames are uint8 */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":144,\"dtype\":\"float32\","
             "\"shape\":[2,2,3],\"format\":\"rgb24\"}",
             "dtype");
  /* a float32 tensor at an offset that is not a multiple of 4 */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":2,\"bytes\":16,\"dtype\":\"float32\","
             "\"shape\":[4],\"format\":\"tensor\"}",
             "offset");
}

static void test_bad_dims(void **state) {
  fixture *fx = *state;
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[4,-4],\"format\":\"tensor\"}",
             "shape[1]");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[0,4],\"format\":\"tensor\"}",
             "shape[0]");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[4,2.5],\"format\":\"tensor\"}",
             "shape[1]");
}

static void test_overflowing_shape(void **state) {
  fixture *fx = *state;
  /* 2^31 * 2^31 * 2^31 * 4 bytes overflows 64 bits: refused, not wrapped into a small size */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"float32\","
             "\"shape\":[2147483648,2147483648,2147483648],\"format\":\"tensor\"}",
             "shape");
  VG_ASSERT_MSG_HAS("overflow");
  /* a product that wraps to exactly 0 (2^32 * 2^32) */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[4294967296,4294967296],\"format\":\"tensor\"}",
             "shape");
  /* huge explicit strides */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[5,1],\"strides\":[9223372036854775807,1],\"format\":\"tensor\"}",
             "shape");
  /* offset + bytes wraps around */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":9223372036854775807,\"bytes\":9223372036854775807,"
             "\"dtype\":\"uint8\",\"shape\":[1],\"format\":\"tensor\"}",
             "offset");
  /* frames larger than the side limit */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":4000000000,\"dtype\":\"uint8\","
             "\"shape\":[40000,40000],\"format\":\"gray8\"}",
             "shape");
}

static void test_out_of_bounds(void **state) {
  fixture *fx = *state;
  /* region is 4096 bytes */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":4000,\"bytes\":100,\"dtype\":\"uint8\","
             "\"shape\":[100],\"format\":\"tensor\"}",
             "bytes");
  VG_ASSERT_MSG_HAS("past the end");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":5000,\"bytes\":1,\"dtype\":\"uint8\","
             "\"shape\":[1],\"format\":\"tensor\"}",
             "bytes");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":8192,\"dtype\":\"uint8\","
             "\"shape\":[8192],\"format\":\"tensor\"}",
             "bytes");
  /* shape spans more than `bytes` */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":15,\"dtype\":\"uint8\","
             "\"shape\":[4,4],\"format\":\"tensor\"}",
             "bytes");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":48,\"dtype\":\"uint8\","
             "\"shape\":[4,3,3],\"strides\":[16,3,1],\"format\":\"rgb24\"}",
             "bytes");
}

static void test_stride_mismatch(void **state) {
  fixture *fx = *state;
  /* one stride for two dims */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"uint8\","
             "\"shape\":[4,4],\"strides\":[4],\"format\":\"tensor\"}",
             "strides");
  /* a float32 stride that is not a multiple of 4 */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"float32\","
             "\"shape\":[2,2],\"strides\":[10,4],\"format\":\"tensor\"}",
             "strides[0]");
  /* rows that overlap */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"uint8\","
             "\"shape\":[4,8],\"strides\":[4,1],\"format\":\"tensor\"}",
             "strides[0]");
  /* zero and negative strides */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"uint8\","
             "\"shape\":[4,4],\"strides\":[0,1],\"format\":\"tensor\"}",
             "strides[0]");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"uint8\","
             "\"shape\":[4,4],\"strides\":[4,-1],\"format\":\"tensor\"}",
             "strides[1]");
  /* frame formats need packed pixels */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":256,\"dtype\":\"uint8\","
             "\"shape\":[4,4,3],\"strides\":[48,6,2],\"format\":\"rgb24\"}",
             "strides");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":256,\"dtype\":\"uint8\","
             "\"shape\":[4,4],\"strides\":[16,2],\"format\":\"gray8\"}",
             "strides");
}

static void test_format_vs_shape(void **state) {
  fixture *fx = *state;
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"uint8\","
             "\"shape\":[4,4,4],\"format\":\"rgb24\"}",
             "shape");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"uint8\","
             "\"shape\":[16],\"format\":\"bgr24\"}",
             "shape");
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"uint8\","
             "\"shape\":[4,4,2],\"format\":\"gray8\"}",
             "shape");
  /* nv12 with an odd width (shape[0] = 6 -> height 4) */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"uint8\","
             "\"shape\":[6,5],\"format\":\"nv12\"}",
             "shape");
  /* nv12 rows not a multiple of 3 */
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":64,\"dtype\":\"uint8\","
             "\"shape\":[4,4],\"format\":\"nv12\"}",
             "shape");
}

static void test_truncated_region(void **state) {
  fixture *fx = *state;
  /* the owner shrinks the region after registering it: refused instead of a SIGBUS later */
  assert_int_equal(ftruncate(fx->fd, 1024), 0);
  expect_bad(fx,
             "{\"shm_name\":\"%s\",\"offset\":0,\"bytes\":16,\"dtype\":\"uint8\","
             "\"shape\":[16],\"format\":\"tensor\"}",
             "shm_name");
  VG_ASSERT_MSG_HAS("truncated");
  assert_int_equal(ftruncate(fx->fd, (off_t)fx->size), 0);
}

static void test_parse_text(void **state) {
  (void)state;
  vg_shm_ref r;
  assert_int_equal(vg_shm_ref_parse_text("{", 1, &r), VG_ERR_PARSE);
  assert_int_equal(vg_shm_ref_parse_text("", 0, &r), VG_ERR_PARSE);
  const char dup[] = "{\"shm_name\":\"/a\",\"shm_name\":\"/b\"}";
  assert_int_equal(vg_shm_ref_parse_text(dup, sizeof dup - 1, &r), VG_ERR_PARSE);
  const char ok[] = "{\"shm_name\":\"/a\",\"offset\":0,\"bytes\":24,\"dtype\":\"uint8\","
                    "\"shape\":[2,4],\"format\":\"nv12\"}";
  /* shape [2,4] is not nv12 ([H*3/2, W]) */
  assert_int_equal(vg_shm_ref_parse_text(ok, sizeof ok - 1, &r), VG_ERR_INVALID_ARG);
  const char good[] = "{\"shm_name\":\"/a\",\"offset\":0,\"bytes\":24,\"dtype\":\"uint8\","
                      "\"shape\":[6,4],\"format\":\"nv12\",\"frame_id\":7}";
  VG_ASSERT_OK(vg_shm_ref_parse_text(good, sizeof good - 1, &r));
  assert_int_equal(r.frame_id, 7);
  assert_int_equal(r.extent, 24);
}

/* ------------------------------------------------------------------ outputs */

static void test_export_frame_and_tensor(void **state) {
  fixture *fx = *state;
  vg_frame f;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_NV12, 6, 4, vg_cpu(), NULL, 64, &f));
  for (int p = 0; p < 2; p++)
    for (int y = 0; y < vg_frame_plane_rows(&f, p); y++)
      for (int x = 0; x < 6; x++)
        vg_frame_plane(&f, p)[y * f.pitch[p] + x] = (uint8_t)(p * 100 + y * 10 + x);
  json_t *ref = NULL;
  VG_ASSERT_OK(vg_shm_export_frame(fx->reg, &f, 5, &ref));
  vg_frame_release(&f);
  /* the output reference resolves like a client one, rows packed */
  vg_shm_view v;
  VG_ASSERT_OK(vg_shm_ref_resolve(fx->reg, ref, &v));
  assert_int_equal(v.frame.format, VG_PIX_NV12);
  assert_int_equal(v.frame.pitch[0], 6);
  assert_int_equal(v.ref.frame_id, 5);
  assert_int_equal(vg_frame_plane(&v.frame, 0)[3 * 6 + 2], 32);
  assert_int_equal(vg_frame_plane(&v.frame, 1)[1 * 6 + 5], 115);
  vg_shm_view_release(&v);
  const char *name = json_string_value(json_object_get(ref, "shm_name"));
  assert_non_null(strstr(name, "/vg-out-"));
  /* the client maps it by name, as examples/shm_client.c does */
  int fd = shm_open(name, O_RDONLY, 0);
  assert_true(fd >= 0);
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(st.st_size, 36);
  close(fd);
  char copy[VG_SHM_NAME_MAX + 1];
  snprintf(copy, sizeof copy, "%s", name);
  json_decref(ref);
  VG_ASSERT_OK(vg_shm_unregister(fx->reg, copy));
  assert_int_equal(shm_open(copy, O_RDONLY, 0), -1);

  vg_tensor t;
  int64_t shape[2] = {3, 5};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 2, shape, vg_cpu(), NULL, &t));
  float *d = vg_tensor_data(&t);
  for (int i = 0; i < 15; i++)
    d[i] = (float)i * 0.5f;
  VG_ASSERT_OK(vg_shm_export_tensor(fx->reg, &t, 9, &ref));
  vg_tensor_release(&t);
  VG_ASSERT_OK(vg_shm_ref_resolve(fx->reg, ref, &v));
  assert_int_equal(v.tensor.shape[1], 5);
  assert_true(((float *)vg_tensor_data(&v.tensor))[14] == 7.0f);
  vg_shm_view_release(&v);
  json_decref(ref);
}

/* ------------------------------------------------------------------ random references */

static int rnd(uint32_t *seed) {
  *seed = *seed * 1664525u + 1013904223u;
  return (int)(*seed >> 8);
}

/* Thousands of references built from edge values (0, 1, odd sizes, 2^31, 2^32, 2^62, -1...):
 * none may crash, and every accepted one must lie inside the region by an independent 128-bit
 * computation; its first and last bytes are read. */
static void test_random_references(void **state) {
  fixture *fx = *state;
  static const long long vals[] = {0,
                                   1,
                                   2,
                                   3,
                                   4,
                                   7,
                                   16,
                                   64,
                                   4095,
                                   4096,
                                   4097,
                                   2147483648LL,
                                   4294967296LL,
                                   4611686018427387904LL,
                                   -1,
                                   -4096};
  static const char *const formats[] = {"tensor", "nv12", "rgb24", "bgr24", "gray8"};
  static const char *const dtypes[] = {"uint8", "float32", "float16", "int32", "int64"};
  const int nv = (int)(sizeof vals / sizeof vals[0]);
  uint32_t seed = 12345;
  int accepted = 0;
  for (int iter = 0; iter < 4000; iter++) {
    int ndim = 1 + rnd(&seed) % 4, with_strides = rnd(&seed) % 2;
    char shape[200] = "", strides[200] = "", text[700];
    size_t sl = 0, tl = 0;
    for (int i = 0; i < ndim; i++) {
      long long d = rnd(&seed) % 3 ? 1 + rnd(&seed) % 8 : vals[rnd(&seed) % nv];
      long long st = rnd(&seed) % 3 ? (long long)(1 << (rnd(&seed) % 7)) : vals[rnd(&seed) % nv];
      sl += (size_t)snprintf(shape + sl, sizeof shape - sl, "%s%lld", i ? "," : "", d);
      tl += (size_t)snprintf(strides + tl, sizeof strides - tl, "%s%lld", i ? "," : "", st);
    }
    long long off = rnd(&seed) % 2 ? rnd(&seed) % 256 : vals[rnd(&seed) % nv];
    long long bytes = rnd(&seed) % 2 ? rnd(&seed) % 1024 : vals[rnd(&seed) % nv];
    const char *dtype = dtypes[rnd(&seed) % 5], *format = formats[rnd(&seed) % 5];
    snprintf(text, sizeof text,
             "{\"shm_name\":\"%s\",\"offset\":%lld,\"bytes\":%lld,\"dtype\":\"%s\","
             "\"shape\":[%s]%s%s%s,\"format\":\"%s\"}",
             fx->name, off, bytes, dtype, shape, with_strides ? ",\"strides\":[" : "",
             with_strides ? strides : "", with_strides ? "]" : "", format);
    json_t *obj = json_loads(text, 0, NULL);
    assert_non_null(obj);
    vg_shm_view v;
    vg_status s = vg_shm_ref_resolve(fx->reg, obj, &v);
    json_decref(obj);
    if (s != VG_OK) {
      assert_non_null(strstr(vg_last_error(), "shm reference"));
      continue;
    }
    accepted++;
    const vg_shm_ref *r = &v.ref;
    __int128 ext = (__int128)vg_dtype_size(r->dtype);
    for (int i = 0; i < r->ndim; i++) {
      assert_true(r->shape[i] > 0 && r->strides[i] > 0);
      ext += (__int128)(r->shape[i] - 1) * r->strides[i];
    }
    assert_true(ext <= (__int128)r->bytes);
    assert_true((__int128)r->offset + r->bytes <= (__int128)fx->size);
    const volatile uint8_t *p = v.data;
    assert_int_equal(p[0], fx->data[r->offset]);
    assert_int_equal(p[ext - 1], fx->data[r->offset + (uint64_t)ext - 1]);
    vg_shm_view_release(&v);
  }
  print_message("%d of 4000 random references accepted\n", accepted);
  assert_true(accepted > 20); /* the generator does reach valid references */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test_setup_teardown(test_register_checks, setup, teardown),
      cmocka_unit_test(test_limits),
      cmocka_unit_test_setup_teardown(test_frame_rgb24, setup, teardown),
      cmocka_unit_test_setup_teardown(test_frame_nv12_gray_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tensor_strided, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refcount_across_unregister, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_names_and_types, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_dtype, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_dims, setup, teardown),
      cmocka_unit_test_setup_teardown(test_overflowing_shape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_out_of_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stride_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_format_vs_shape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_region, setup, teardown),
      cmocka_unit_test(test_parse_text),
      cmocka_unit_test_setup_teardown(test_export_frame_and_tensor, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_references, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
