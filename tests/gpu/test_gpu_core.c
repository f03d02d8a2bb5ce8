/* GPU: device discovery, buffer round trips, async copies on streams with events, pool reuse.
 * Skips (exit 77) with the reason when no CUDA device is present. */
#include "vg_test.h"

static void test_discovery(void **st) {
  int n;
  VG_ASSERT_OK(vg_cuda_device_count(&n));
  assert_true(n > 0);
  vg_device_info info;
  VG_ASSERT_OK(vg_device_info_get(vg_cuda(0), &info));
  printf("device: %s sm_%d%d %.1f GiB driver %d\n", info.name, info.cc_major, info.cc_minor,
         (double)info.total_mem / (1 << 30), info.driver_version);
  assert_true(info.total_mem > 0);
  assert_true(info.cc_major >= 7);
  vg_buffer *b;
  assert_int_equal(vg_buffer_alloc(vg_cuda(n + 3), 16, NULL, &b), VG_ERR_DEVICE);
  VG_ASSERT_MSG_HAS("does not exist");
}

static void test_round_trip(void **st) {
  size_t sizes[] = {1, 255, 4096, 1 << 20, (3 << 20) + 7};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t n = sizes[k];
    unsigned char *h = malloc(n), *back = calloc(1, n);
    for (size_t i = 0; i < n; i++)
      h[i] = (unsigned char)(i * 131 + k);
    vg_buffer *d, *d2;
    VG_ASSERT_OK(vg_buffer_alloc(vg_cuda(0), n, NULL, &d));
    VG_ASSERT_OK(vg_buffer_alloc(vg_cuda(0), n, NULL, &d2));
    VG_ASSERT_OK(vg_memcpy(vg_buffer_data(d), vg_cuda(0), h, vg_cpu(), n));
    VG_ASSERT_OK(vg_memcpy(vg_buffer_data(d2), vg_cuda(0), vg_buffer_data(d), vg_cuda(0), n));
    VG_ASSERT_OK(vg_memcpy(back, vg_cpu(), vg_buffer_data(d2), vg_cuda(0), n));
    assert_memory_equal(h, back, n);
    vg_buffer_unref(d);
    vg_buffer_unref(d2);
    free(h);
    free(back);
  }
}

static void test_async_streams_events(void **st) {
  size_t n = 8 << 20;
  vg_stream s1, s2;
  VG_ASSERT_OK(vg_stream_create(vg_cuda(0), &s1));
  VG_ASSERT_OK(vg_stream_create(vg_cuda(0), &s2));
  vg_pool *pinned;
  VG_ASSERT_OK(vg_pool_create(VG_POOL_PINNED, vg_cpu(), 0, &pinned));
  vg_buffer *h, *back, *d1, *d2;
  VG_ASSERT_OK(vg_buffer_alloc(vg_cpu(), n, pinned, &h));
  VG_ASSERT_OK(vg_buffer_alloc(vg_cpu(), n, pinned, &back));
  VG_ASSERT_OK(vg_buffer_alloc(vg_cuda(0), n, NULL, &d1));
  VG_ASSERT_OK(vg_buffer_alloc(vg_cuda(0), n, NULL, &d2));
  unsigned char *hp = vg_buffer_data(h);
  for (size_t i = 0; i < n; i++)
    hp[i] = (unsigned char)(i ^ (i >> 8));
  vg_event e0, e1, e2;
  VG_ASSERT_OK(vg_event_create(vg_cuda(0), true, &e0));
  VG_ASSERT_OK(vg_event_create(vg_cuda(0), true, &e1));
  VG_ASSERT_OK(vg_event_create(vg_cuda(0), false, &e2));
  VG_ASSERT_OK(vg_event_record(e0, s1));
  VG_ASSERT_OK(vg_memcpy_async(vg_buffer_data(d1), vg_cuda(0), hp, vg_cpu(), n, s1));
  VG_ASSERT_OK(vg_event_record(e1, s1));
  /* s2 waits for s1's upload, then copies on the device and downloads */
  VG_ASSERT_OK(vg_stream_wait_event(s2, e1));
  VG_ASSERT_OK(
      vg_memcpy_async(vg_buffer_data(d2), vg_cuda(0), vg_buffer_data(d1), vg_cuda(0), n, s2));
  VG_ASSERT_OK(
      vg_memcpy_async(vg_buffer_data(back), vg_cpu(), vg_buffer_data(d2), vg_cuda(0), n, s2));
  VG_ASSERT_OK(vg_event_record(e2, s2));
  VG_ASSERT_OK(vg_event_sync(e2));
  assert_true(vg_event_done(e2));
  assert_memory_equal(hp, vg_buffer_data(back), n);
  float ms;
  VG_ASSERT_OK(vg_event_elapsed_ms(e0, e1, &ms));
  printf("8 MiB pinned H2D: %.3f ms (%.1f GB/s)\n", ms, n / (ms * 1e6));
  assert_int_equal(vg_event_elapsed_ms(e0, e2, &ms), VG_ERR_DEVICE); /* e2 has no timing */
  /* 2D copy and memset */
  VG_ASSERT_OK(vg_memset_async(vg_buffer_data(d1), vg_cuda(0), 0x5a, n, s1));
  VG_ASSERT_OK(vg_memcpy2d_async(vg_buffer_data(back), 100, vg_cpu(), vg_buffer_data(d1), 256,
                                 vg_cuda(0), 100, 10, s1));
  VG_ASSERT_OK(vg_stream_sync(s1));
  assert_int_equal(((unsigned char *)vg_buffer_data(back))[999], 0x5a);
  vg_event_destroy(e0);
  vg_event_destroy(e1);
  vg_event_destroy(e2);
  vg_buffer_unref(h);
  vg_buffer_unref(back);
  vg_buffer_unref(d1);
  vg_buffer_unref(d2);
  vg_pool_unref(pinned);
  vg_stream_destroy(s1);
  vg_stream_destroy(s2);
}

static void test_device_pool_reuse(void **st) {
  vg_pool *p;
  VG_ASSERT_OK(vg_pool_create(VG_POOL_DEVICE, vg_cuda(0), 0, &p));
  for (int i = 0; i < 100; i++) {
    vg_frame f;
    VG_ASSERT_OK(vg_frame_alloc(VG_PIX_NV12, 1920, 1080, vg_cuda(0), p, 0, &f));
    vg_frame_release(&f);
  }
  vg_pool_stats s;
  vg_pool_get_stats(p, &s);
  printf("pool: %llu requests, %llu system allocations, %llu hits\n",
         (unsigned long long)s.requests, (unsigned long long)s.allocations,
         (unsigned long long)s.hits);
  assert_int_equal(s.allocations, 1);
  assert_int_equal(s.hits, 99);
  /* frames to and from the device keep pixels and metadata */
  vg_frame h, d, back;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_NV12, 641, 481, vg_cpu(), NULL, 0, &h));
  for (int pl = 0; pl < 2; pl++)
    for (int y = 0; y < vg_frame_plane_rows(&h, pl); y++)
      for (size_t x = 0; x < vg_frame_plane_width_bytes(&h, pl); x++)
        vg_frame_plane(&h, pl)[(size_t)y * h.pitch[pl] + x] = (uint8_t)(x * 3 + y * 5 + pl);
  h.frame_no = 9;
  VG_ASSERT_OK(vg_frame_to_device(&h, vg_cuda(0), p, NULL, &d));
  VG_ASSERT_OK(vg_frame_to_device(&d, vg_cpu(), NULL, NULL, &back));
  VG_ASSERT_OK(vg_stream_sync(NULL));
  assert_int_equal(back.frame_no, 9);
  for (int pl = 0; pl < 2; pl++)
    for (int y = 0; y < vg_frame_plane_rows(&h, pl); y++)
      assert_memory_equal(vg_frame_plane(&h, pl) + (size_t)y * h.pitch[pl],
                          vg_frame_plane(&back, pl) + (size_t)y * back.pitch[pl],
                          vg_frame_plane_width_bytes(&h, pl));
  vg_frame_release(&h);
  vg_frame_release(&d);
  vg_frame_release(&back);
  vg_pool_trim(p, 0);
  vg_pool_get_stats(p, &s);
  assert_int_equal(s.bytes_cached, 0);
  vg_pool_unref(p);
}

int main(void) {
  vg_test_require_gpu();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_discovery),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_async_streams_events),
      cmocka_unit_test(test_device_pool_reuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
