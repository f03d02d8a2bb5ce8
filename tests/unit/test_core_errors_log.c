/* Status codes, thread-local messages, JSON logging with level filters and rate limiting. */
#include "vg_test.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_status_names(void **st) {
  assert_string_equal(vg_status_name(VG_OK), "ok");
  assert_string_equal(vg_status_name(VG_ERR_PARSE), "parse");
  assert_string_equal(vg_status_name((vg_status)999), "unknown");
  for (int i = 0; i < VG_STATUS_COUNT_; i++)
    assert_non_null(vg_status_name((vg_status)i));
}

static vg_status inner(void) {
  return vg_set_error(VG_ERR_IO, "cannot open '%s'", "x.mp4");
}
static vg_status outer(void) {
  VG_TRY(inner());
  return VG_OK;
}

static void test_set_wrap_clear(void **st) {
  assert_int_equal(outer(), VG_ERR_IO);
  assert_string_equal(vg_last_error(), "cannot open 'x.mp4'");
  assert_int_equal(vg_wrap_error(VG_ERR_NOT_FOUND, "source %d", 3), VG_ERR_NOT_FOUND);
  assert_string_equal(vg_last_error(), "source 3: cannot open 'x.mp4'");
  assert_int_equal(vg_last_status(), VG_ERR_NOT_FOUND);
  vg_clear_error();
  assert_string_equal(vg_last_error(), "");
  /* A huge message is truncated, never overflowing. */
  char big[5000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  vg_set_error(VG_ERR_IO, "%s", big);
  assert_true(strlen(vg_last_error()) < 4096);
}

static void *other_thread(void *arg) {
  vg_set_error(VG_ERR_TIMEOUT, "thread message");
  return NULL;
}

static void test_thread_local(void **st) {
  vg_set_error(VG_ERR_IO, "main message");
  pthread_t t;
  pthread_create(&t, NULL, other_thread, NULL);
  pthread_join(t, NULL);
  assert_string_equal(vg_last_error(), "main message");
}

static char *read_all(const char *path) {
  char *d = NULL;
  size_t n;
  if (vg_read_file(path, 0, &d, &n) != VG_OK) return NULL;
  return d;
}

static int count_lines(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, needle)); p++)
    n++;
  return n;
}

static void test_log_json_levels(void **st) {
  char path[] = "/tmp/vg_log_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  VG_ASSERT_OK(vg_log_set_file(path));
  vg_log_set_rate_limit(0, 0);
  vg_log_set_level(NULL, VG_LOG_INFO);
  vg_log_set_level("noisy", VG_LOG_ERROR);
  vg_log(VG_LOG_INFO, "infer", "\"model\":\"det\"", "loaded \"%s\"", "det.onnx");
  vg_log(VG_LOG_DEBUG, "infer", NULL, "hidden debug");
  vg_log(VG_LOG_WARN, "noisy", NULL, "hidden warn");
  vg_log(VG_LOG_ERROR, "noisy", NULL, "shown error");
  vg_log_flush();
  vg_log_set_file(NULL);
  char *s = read_all(path);
  assert_non_null(s);
  assert_non_null(strstr(s, "\"level\":\"info\",\"component\":\"infer\",\"msg\":\"loaded "
                            "\\\"det.onnx\\\"\",\"model\":\"det\"}"));
  assert_null(strstr(s, "hidden"));
  assert_non_null(strstr(s, "shown error"));
  assert_non_null(strstr(s, "\"ts\":\""));
  assert_int_equal(vg_log_get_level("noisy"), VG_LOG_ERROR);
  assert_int_equal(vg_log_get_level("other"), VG_LOG_INFO);
  free(s);
  unlink(path);
}

static void test_log_rate_limit(void **st) {
  char path[] = "/tmp/vg_log_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  VG_ASSERT_OK(vg_log_set_file(path));
  vg_log_set_level(NULL, VG_LOG_INFO);
  vg_log_set_rate_limit(3, 60000);
  for (int i = 0; i < 100; i++)
    vg_log(VG_LOG_WARN, "gpu", NULL, "decode failed on frame %d", i);
  vg_log(VG_LOG_WARN, "gpu", NULL, "a different message");
  vg_log_flush();
  vg_log_set_file(NULL);
  vg_log_set_rate_limit(5, 10000);
  char *s = read_all(path);
  assert_non_null(s);
  /* 3 originals + 1 summary that quotes the message. */
  assert_int_equal(count_lines(s, "decode failed on frame"), 4);
  assert_non_null(strstr(s, "suppressed 97 repeats"));
  assert_non_null(strstr(s, "\"suppressed\":97"));
  assert_non_null(strstr(s, "a different message"));
  free(s);
  unlink(path);
}

static void test_log_level_parse(void **st) {
  vg_log_level l;
  VG_ASSERT_OK(vg_log_level_parse("debug", &l));
  assert_int_equal(l, VG_LOG_DEBUG);
  assert_int_equal(vg_log_level_parse("loud", &l), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("unknown log level 'loud'");
  assert_int_equal(vg_log_set_file("/nonexistent/dir/log"), VG_ERR_IO);
  VG_ASSERT_MSG_HAS("/nonexistent/dir/log");
}

static void test_json_escape(void **st) {
  char out[64];
  vg_json_escape("a\"b\\c\n\x01", out, sizeof out);
  assert_string_equal(out, "a\\\"b\\\\c\\n\\u0001");
  char tiny[4];
  vg_json_escape("abcdefgh", tiny, sizeof tiny);
  assert_true(strlen(tiny) < 4);
}

static void test_read_file_errors(void **st) {
  char *d;
  size_t n;
  assert_int_equal(vg_read_file("/no/such/file", 0, &d, &n), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("/no/such/file");
  assert_int_equal(vg_read_file("/tmp", 0, &d, &n), VG_ERR_IO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_names),   cmocka_unit_test(test_set_wrap_clear),
      cmocka_unit_test(test_thread_local),   cmocka_unit_test(test_log_json_levels),
      cmocka_unit_test(test_log_rate_limit), cmocka_unit_test(test_log_level_parse),
      cmocka_unit_test(test_json_escape),    cmocka_unit_test(test_read_file_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
