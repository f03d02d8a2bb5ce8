/* Bounded queue (blocking, timeouts, close, many producers/consumers) and latency stats. */
#include "vg_test.h"

#include <pthread.h>

static void test_queue_basic(void **st) {
  vg_queue *q;
  VG_ASSERT_OK(vg_queue_create(2, &q));
  int a = 1, b = 2, c = 3;
  VG_ASSERT_OK(vg_queue_push(q, &a, 0));
  VG_ASSERT_OK(vg_queue_push(q, &b, 0));
  assert_int_equal(vg_queue_try_push(q, &c), VG_ERR_TIMEOUT);
  int64_t t0 = vg_now_ns();
  assert_int_equal(vg_queue_push(q, &c, 50), VG_ERR_TIMEOUT);
  assert_true(vg_now_ns() - t0 >= 45000000);
  void *it;
  VG_ASSERT_OK(vg_queue_pop(q, &it, 0));
  assert_ptr_equal(it, &a);
  vg_queue_close(q);
  assert_int_equal(vg_queue_push(q, &c, 0), VG_ERR_STATE);
  VG_ASSERT_OK(vg_queue_pop(q, &it, 0));
  assert_ptr_equal(it, &b);
  assert_int_equal(vg_queue_pop(q, &it, -1), VG_ERR_EOF);
  vg_queue_destroy(q);
  assert_int_equal(vg_queue_create(0, &q), VG_ERR_INVALID_ARG);
}

typedef struct {
  vg_queue *q;
  int base, n;
  long sum;
} worker;

static void *producer(void *arg) {
  worker *w = arg;
  for (int i = 0; i < w->n; i++)
    vg_queue_push(w->q, (void *)(intptr_t)(w->base + i + 1), -1);
  return NULL;
}

static void *consumer(void *arg) {
  worker *w = arg;
  void *it;
  while (vg_queue_pop(w->q, &it, -1) == VG_OK)
    w->sum += (long)(intptr_t)it;
  return NULL;
}

static void test_queue_mpmc(void **st) {
  vg_queue *q;
  VG_ASSERT_OK(vg_queue_create(4, &q));
  pthread_t pt[3], ct[2];
  worker pw[3], cw[2];
  for (int i = 0; i < 3; i++) {
    pw[i] = (worker){q, i * 10000, 2000, 0};
    pthread_create(&pt[i], NULL, producer, &pw[i]);
  }
  for (int i = 0; i < 2; i++) {
    cw[i] = (worker){q, 0, 0, 0};
    pthread_create(&ct[i], NULL, consumer, &cw[i]);
  }
  for (int i = 0; i < 3; i++)
    pthread_join(pt[i], NULL);
  vg_queue_close(q);
  for (int i = 0; i < 2; i++)
    pthread_join(ct[i], NULL);
  long expect = 0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2000; j++)
      expect += i * 10000 + j + 1;
  assert_int_equal(cw[0].sum + cw[1].sum, expect);
  vg_queue_destroy(q);
}

static void test_latency(void **st) {
  vg_latency *l;
  VG_ASSERT_OK(vg_latency_create(&l));
  for (int i = 1; i <= 100; i++)
    vg_latency_add_ns(l, (int64_t)i * 1000000);
  vg_latency_summary s;
  vg_latency_summarize(l, &s);
  assert_int_equal(s.count, 100);
  assert_float_equal(s.mean_ms, 50.5, 1e-9);
  assert_float_equal(s.p50_ms, 50, 1e-9);
  assert_float_equal(s.p99_ms, 99, 1e-9);
  assert_float_equal(s.min_ms, 1, 1e-9);
  assert_float_equal(s.max_ms, 100, 1e-9);
  /* the window slides but count and mean stay exact */
  for (int i = 0; i < VG_STATS_WINDOW; i++)
    vg_latency_add_ns(l, 5000000);
  vg_latency_summarize(l, &s);
  assert_int_equal(s.count, 100 + VG_STATS_WINDOW);
  assert_float_equal(s.p99_ms, 5, 1e-9);
  vg_latency_reset(l);
  vg_latency_summarize(l, &s);
  assert_int_equal(s.count, 0);
  vg_latency_destroy(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_queue_basic),
      cmocka_unit_test(test_queue_mpmc),
      cmocka_unit_test(test_latency),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
