/* Buffers, pools, tensors, frames and half floats on the CPU; refcount misuse assertions. */
#include "vg_test.h"

#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static int released;
static void on_release(void *ctx, void *data, size_t bytes, vg_device dev) {
  released += *(int *)ctx;
  free(data);
}

static void test_buffer_refcount(void **st) {
  vg_buffer *b;
  VG_ASSERT_OK(vg_buffer_alloc(vg_cpu(), 100, NULL, &b));
  assert_int_equal(vg_buffer_refcount(b), 1);
  assert_int_equal(vg_buffer_size(b), 100);
  memset(vg_buffer_data(b), 7, 100);
  vg_buffer_ref(b);
  assert_int_equal(vg_buffer_refcount(b), 2);
  vg_buffer_unref(b);
  vg_buffer_unref(b);

  int inc = 5;
  released = 0;
  VG_ASSERT_OK(vg_buffer_wrap(vg_cpu(), malloc(10), 10, on_release, &inc, &b));
  vg_buffer_ref(b);
  vg_buffer_unref(b);
  assert_int_equal(released, 0);
  vg_buffer_unref(b);
  assert_int_equal(released, 5);
  assert_int_equal(vg_buffer_wrap(vg_cpu(), NULL, 10, NULL, NULL, &b), VG_ERR_INVALID_ARG);
}

static void test_buffer_on_missing_gpu(void **st) {
  int n;
  vg_cuda_device_count(&n);
  if (n > 0) skip();
  vg_buffer *b;
  assert_int_equal(vg_buffer_alloc(vg_cuda(0), 100, NULL, &b), VG_ERR_DEVICE);
  VG_ASSERT_MSG_HAS("no CUDA device");
  vg_pool *p;
  assert_int_equal(vg_pool_create(VG_POOL_DEVICE, vg_cuda(0), 0, &p), VG_ERR_DEVICE);
  vg_stream s;
  assert_int_equal(vg_stream_create(vg_cuda(0), &s), VG_ERR_DEVICE);
}

/* Refcount misuse must stop the program in debug builds (a child process does it). */
static void test_refcount_misuse_aborts(void **st) {
#ifdef NDEBUG
  skip();
#else
  pid_t pid = fork();
  if (pid == 0) {
    vg_log_set_level(NULL, VG_LOG_OFF);
    vg_pool *p;
    vg_pool_create(VG_POOL_HOST, vg_cpu(), 0, &p);
    vg_pool_unref(p);
    /* p is freed; keep a second pool alive so the memory stays readable for the check. */
    vg_pool *q;
    vg_pool_create(VG_POOL_HOST, vg_cpu(), 0, &q);
    vg_buffer *b;
    vg_buffer_alloc(vg_cpu(), 8, q, &b);
    vg_pool_free(q, vg_buffer_data(b), 1 << 20); /* more than is in use: asserts */
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
}

static void test_pool_reuse_and_stats(void **st) {
  vg_pool *p;
  VG_ASSERT_OK(vg_pool_create(VG_POOL_HOST, vg_cpu(), 0, &p));
  void *a, *b, *c;
  VG_ASSERT_OK(vg_pool_alloc(p, 1000, &a));
  VG_ASSERT_OK(vg_pool_alloc(p, 5000, &b));
  vg_pool_stats s;
  vg_pool_get_stats(p, &s);
  assert_int_equal(s.allocations, 2);
  assert_int_equal(s.bytes_in_use, vg_pool_size_class(1000) + vg_pool_size_class(5000));
  vg_pool_free(p, a, 1000);
  VG_ASSERT_OK(vg_pool_alloc(p, 990, &c)); /* same class: reused */
  assert_ptr_equal(a, c);
  vg_pool_get_stats(p, &s);
  assert_int_equal(s.hits, 1);
  assert_int_equal(s.requests, 3);
  vg_pool_free(p, c, 990);
  vg_pool_free(p, b, 5000);
  vg_pool_get_stats(p, &s);
  assert_int_equal(s.bytes_in_use, 0);
  assert_int_equal(s.bytes_cached, vg_pool_size_class(1000) + vg_pool_size_class(5000));
  assert_true(s.peak_bytes >= s.bytes_cached);
  vg_pool_trim(p, 0);
  vg_pool_get_stats(p, &s);
  assert_int_equal(s.bytes_cached, 0);
  assert_int_equal(s.frees_to_system, 2);
  vg_pool_unref(p);
}

static void test_pool_size_classes(void **st) {
  assert_int_equal(vg_pool_size_class(1), 256);
  assert_int_equal(vg_pool_size_class(256), 256);
  assert_int_equal(vg_pool_size_class(257), 320);
  assert_int_equal(vg_pool_size_class(1024), 1024);
  assert_int_equal(vg_pool_size_class(1025), 1280);
  assert_int_equal(vg_pool_size_class(1800), 2048);
  for (size_t n = 1; n < 3000000; n = n * 3 + 1) {
    size_t c = vg_pool_size_class(n);
    assert_true(c >= n);
    assert_true(c <= n + n / 4 + 256);
  }
}

static void test_pool_limits(void **st) {
  vg_pool *p;
  VG_ASSERT_OK(vg_pool_create(VG_POOL_HOST, vg_cpu(), 2048, &p));
  void *a, *b;
  VG_ASSERT_OK(vg_pool_alloc(p, 2048, &a));
  VG_ASSERT_OK(vg_pool_alloc(p, 2048, &b));
  vg_pool_free(p, a, 2048);
  vg_pool_free(p, b, 2048); /* over max_cached: goes back to the system */
  vg_pool_stats s;
  vg_pool_get_stats(p, &s);
  assert_int_equal(s.bytes_cached, 2048);
  assert_int_equal(s.frees_to_system, 1);
  void *huge;
  assert_int_equal(vg_pool_alloc(p, (size_t)1 << 60, &huge), VG_ERR_INVALID_ARG);
  /* Buffers keep their pool alive after the creator's reference is gone. */
  vg_buffer *buf;
  VG_ASSERT_OK(vg_buffer_alloc(vg_cpu(), 100, p, &buf));
  vg_pool_unref(p);
  memset(vg_buffer_data(buf), 1, 100);
  vg_buffer_unref(buf);
}

static void test_tensor_views(void **st) {
  vg_tensor t, s, r;
  int64_t shape[3] = {2, 3, 4};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &t));
  assert_int_equal(vg_tensor_numel(&t), 24);
  assert_int_equal(vg_tensor_nbytes(&t), 96);
  assert_true(vg_tensor_is_contiguous(&t));
  assert_int_equal(t.strides[0], 12);
  float *d = vg_tensor_data(&t);
  for (int i = 0; i < 24; i++)
    d[i] = (float)i;
  VG_ASSERT_OK(vg_tensor_slice(&t, 1, 1, 2, &s));
  assert_int_equal(s.shape[1], 2);
  assert_false(vg_tensor_is_contiguous(&s));
  assert_float_equal(((float *)vg_tensor_data(&s))[0], 4.0f, 0);
  assert_int_equal(vg_buffer_refcount(t.buffer), 2);
  assert_int_equal(vg_tensor_slice(&t, 3, 0, 1, &r), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_tensor_slice(&t, 1, 2, 2, &r), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_tensor_reshape(&s, 1, (int64_t[]){16}, &r), VG_ERR_INVALID_ARG);
  VG_ASSERT_OK(vg_tensor_reshape(&t, 2, (int64_t[]){-1, 6}, &r));
  assert_int_equal(r.shape[0], 4);
  assert_int_equal(vg_tensor_reshape(&t, 2, (int64_t[]){5, 5}, &s), VG_ERR_INVALID_ARG);
  char buf[64];
  assert_string_equal(vg_tensor_str(&r, buf, sizeof buf), "f32[4,6]@cpu");
  vg_tensor_release(&r);
  vg_tensor_release(&s);
  vg_tensor_release(&t);
  assert_int_equal(vg_tensor_alloc(VG_DTYPE_F32, 9, shape, vg_cpu(), NULL, &t), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_tensor_alloc(VG_DTYPE_F32, 1, (int64_t[]){-2}, vg_cpu(), NULL, &t),
                   VG_ERR_INVALID_ARG);
  vg_buffer *b;
  VG_ASSERT_OK(vg_buffer_alloc(vg_cpu(), 64, NULL, &b));
  assert_int_equal(vg_tensor_from_buffer(b, 32, VG_DTYPE_F32, 1, (int64_t[]){9}, &t),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_OK(vg_tensor_from_buffer(b, 32, VG_DTYPE_F32, 1, (int64_t[]){8}, &t));
  vg_buffer_unref(b);
  vg_tensor_release(&t);
  vg_dtype dt;
  VG_ASSERT_OK(vg_dtype_parse("f16", &dt));
  assert_int_equal(dt, VG_DTYPE_F16);
  assert_int_equal(vg_dtype_parse("f8", &dt), VG_ERR_INVALID_ARG);
}

static void test_half(void **st) {
  float vals[] = {0.f, 1.f, -2.5f, 65504.f, 1e-5f, 0.333333f, 6.1e-5f, 3.0e-8f};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    float back = vg_f16_to_f32(vg_f32_to_f16(vals[i]));
    float tol = vals[i] == 0 ? 0 : (float)(fabs(vals[i]) * 1e-3 + 6e-8);
    assert_float_equal(back, vals[i], tol);
  }
  assert_int_equal(vg_f32_to_f16(1.0f), 0x3c00);
  assert_int_equal(vg_f32_to_f16(1e6f), 0x7c00); /* overflow -> inf */
  /* exhaustive: every finite half survives a round trip */
  for (uint32_t h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) == 0x7c00) continue;
    assert_int_equal(vg_f32_to_f16(vg_f16_to_f32((uint16_t)h)), h);
  }
}

static void test_frames(void **st) {
  vg_frame f, g;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_NV12, 641, 481, vg_cpu(), NULL, 64, &f));
  assert_int_equal(f.nplanes, 2);
  assert_int_equal(f.pitch[0], 704);
  assert_int_equal(vg_frame_plane_rows(&f, 1), 241);
  assert_int_equal(vg_frame_plane_width_bytes(&f, 1), 642);
  for (int p = 0; p < 2; p++)
    for (int y = 0; y < vg_frame_plane_rows(&f, p); y++)
      memset(vg_frame_plane(&f, p) + (size_t)y * f.pitch[p], (y * 7 + p) & 255,
             vg_frame_plane_width_bytes(&f, p));
  f.frame_no = 42;
  f.stream_id = 3;
  VG_ASSERT_OK(vg_frame_to_device(&f, vg_cpu(), NULL, NULL, &g));
  assert_int_equal(g.frame_no, 42);
  assert_int_equal(g.stream_id, 3);
  for (int p = 0; p < 2; p++)
    for (int y = 0; y < vg_frame_plane_rows(&f, p); y++)
      assert_memory_equal(vg_frame_plane(&f, p) + (size_t)y * f.pitch[p],
                          vg_frame_plane(&g, p) + (size_t)y * g.pitch[p],
                          vg_frame_plane_width_bytes(&f, p));
  vg_frame_release(&g);
  vg_frame_release(&f);
  assert_int_equal(vg_frame_alloc(VG_PIX_RGB24, 0, 10, vg_cpu(), NULL, 0, &f), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_frame_alloc(VG_PIX_RGB24, 10, 10, vg_cpu(), NULL, 3, &f), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_frame_alloc((vg_pixfmt)9, 10, 10, vg_cpu(), NULL, 0, &f), VG_ERR_INVALID_ARG);
  vg_pixfmt pf;
  VG_ASSERT_OK(vg_pixfmt_parse("bgr24", &pf));
  assert_int_equal(pf, VG_PIX_BGR24);
}

static void test_devices(void **st) {
  vg_device d;
  VG_ASSERT_OK(vg_device_parse("cuda:2", &d));
  assert_int_equal(d.kind, VG_DEVICE_CUDA);
  assert_int_equal(d.ordinal, 2);
  VG_ASSERT_OK(vg_device_parse("cpu", &d));
  assert_int_equal(vg_device_parse("tpu", &d), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_device_parse("cuda:x", &d), VG_ERR_INVALID_ARG);
  vg_device_info info;
  VG_ASSERT_OK(vg_device_info_get(vg_cpu(), &info));
  assert_true(info.total_mem > 0);
  int n;
  VG_ASSERT_OK(vg_cuda_device_count(&n));
  if (n == 0) assert_true(strlen(vg_cuda_unavailable_reason()) > 10);
  /* host copies through the device API */
  char a[16] = "hello", b[16] = {0};
  VG_ASSERT_OK(vg_memcpy(b, vg_cpu(), a, vg_cpu(), 6));
  assert_string_equal(b, "hello");
  assert_int_equal(vg_memcpy(NULL, vg_cpu(), a, vg_cpu(), 6), VG_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buffer_refcount),
      cmocka_unit_test(test_buffer_on_missing_gpu),
      cmocka_unit_test(test_refcount_misuse_aborts),
      cmocka_unit_test(test_pool_reuse_and_stats),
      cmocka_unit_test(test_pool_size_classes),
      cmocka_unit_test(test_pool_limits),
      cmocka_unit_test(test_tensor_views),
      cmocka_unit_test(test_half),
      cmocka_unit_test(test_frames),
      cmocka_unit_test(test_devices),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
