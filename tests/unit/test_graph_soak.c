/* test_graph_soak.c - soak sampling (src/graph/soak.c) and process figures (src/core/procstat.c):
 * /proc readings that follow an opened file, samples taken while a run goes on, the report and
 * its JSON, the bound on the sample list (decimation doubles the interval), and bad arguments. */
#include "vg_test.h"

#include <fcntl.h>
#include <jansson.h>
#include <unistd.h>

#include "vg_test_nodes.h"
#include "vidgraph/vg_graph.h"

static const char *k_endless = "settings: {queue_size: 4}\n"
                               "nodes:\n"
                               "  - {id: src, type: test_source, params: {count: 0}}\n"
                               "  - {id: slow, type: pass, params: {delay_ms: 2}}\n"
                               "  - {id: out, type: callback_sink}\n"
                               "edges: [src -> slow, slow -> out]\n";

static vg_run *start_endless(vg_graph **g) {
  VG_ASSERT_OK(vg_graph_load_string(k_endless, "soak.yaml", NULL, 0, vg_test_registry(), g));
  vg_run *r;
  VG_ASSERT_OK(vg_run_create(*g, NULL, &r));
  VG_ASSERT_OK(vg_run_start(r));
  return r;
}

/* Waits (bounded, not timed: the bound only keeps a broken build from hanging) until pred. */
static bool wait_for(vg_soak *s, bool (*pred)(const vg_soak_report *)) {
  for (int i = 0; i < 6000; i++) {
    vg_soak_report rep;
    vg_soak_get_report(s, &rep);
    if (pred(&rep)) return true;
    usleep(5000);
  }
  return false;
}

static bool five_samples_with_frames(const vg_soak_report *r) {
  return r->nsamples >= 5 && r->last.frames_done > 0;
}

static bool decimated(const vg_soak_report *r) {
  return r->interval_sec > 0.0015;
}

static void stop_run(vg_run *r, vg_graph *g) {
  vg_run_stop(r);
  vg_status st = vg_run_wait(r, 60000);
  assert_true(st == VG_OK || st == VG_ERR_CANCELED);
  vg_run_destroy(r);
  vg_graph_free(g);
}

static void test_proc_stats(void **state) {
  (void)state;
  vg_proc_stats a, b;
  VG_ASSERT_OK(vg_proc_stats_read(&a));
  assert_true(a.rss_bytes > 0);
  assert_true(a.open_fds >= 3); /* stdin, stdout, stderr */
  assert_true(a.threads >= 1);
  int fd = open("/dev/null", O_RDONLY);
  assert_true(fd >= 0);
  VG_ASSERT_OK(vg_proc_stats_read(&b));
  assert_int_equal(b.open_fds, a.open_fds + 1);
  close(fd);
  assert_int_equal(vg_proc_stats_read(NULL), VG_ERR_INVALID_ARG);
  assert_non_null(strstr(vg_last_error(), "vg_proc_stats_read"));
}

static void test_samples_and_json(void **state) {
  (void)state;
  vg_graph *g;
  vg_run *r = start_endless(&g);
  vg_soak *s;
  VG_ASSERT_OK(vg_soak_start(r, 0.01, 0.02, &s));
  assert_true(wait_for(s, five_samples_with_frames));
  vg_soak_stop(s);
  vg_soak_stop(s); /* idempotent */
  vg_soak_report rep;
  vg_soak_get_report(s, &rep);
  assert_true(rep.nsamples >= 5 && rep.nsamples <= VG_SOAK_MAX_SAMPLES);
  assert_true(rep.last.t_sec >= rep.warm.t_sec);
  assert_true(rep.warm.t_sec >= 0.02 || rep.nsamples == 1);
  assert_true(rep.last.frames_done >= rep.warm.frames_done);
  assert_true(rep.last.rss_bytes > 0 && rep.last.threads > 1 && rep.last.open_fds >= 3);
  assert_int_equal(rep.last.device_used_bytes, -1); /* no GPU in this test's runs */
  assert_true(rep.rss_peak_bytes >= rep.last.rss_bytes);
  char *t = vg_soak_json(s);
  assert_non_null(t);
  json_error_t err;
  json_t *o = json_loads(t, 0, &err);
  assert_non_null(o);
  assert_int_equal(json_array_size(json_object_get(o, "samples")), (size_t)rep.nsamples);
  assert_true(json_is_number(json_object_get(o, "rss_growth_pct_after_warmup")));
  assert_true(json_is_integer(json_object_get(o, "fd_growth_after_warmup")));
  json_decref(o);
  free(t);
  vg_soak_free(s);
  stop_run(r, g);
}

static void test_bounded(void **state) {
  (void)state;
  vg_graph *g;
  vg_run *r = start_endless(&g);
  vg_soak *s;
  VG_ASSERT_OK(vg_soak_start(r, 0.001, 0, &s));
  assert_true(wait_for(s, decimated)); /* the list filled up and was halved */
  vg_soak_report rep;
  vg_soak_get_report(s, &rep);
  assert_true(rep.nsamples <= VG_SOAK_MAX_SAMPLES);
  assert_true(rep.nsamples >= VG_SOAK_MAX_SAMPLES / 2);
  vg_soak_free(s); /* without vg_soak_stop: stops the thread itself */
  stop_run(r, g);
}

static void test_bad_args(void **state) {
  (void)state;
  vg_soak *s = (vg_soak *)1;
  assert_int_equal(vg_soak_start(NULL, 1, 0, &s), VG_ERR_INVALID_ARG);
  assert_null(s);
  assert_non_null(strstr(vg_last_error(), "interval"));
  vg_graph *g;
  vg_run *r = start_endless(&g);
  assert_int_equal(vg_soak_start(r, 0, 0, &s), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_soak_start(r, 1, -1, &s), VG_ERR_INVALID_ARG);
  vg_soak_free(NULL);
  stop_run(r, g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_proc_stats),
      cmocka_unit_test(test_samples_and_json),
      cmocka_unit_test(test_bounded),
      cmocka_unit_test(test_bad_args),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
