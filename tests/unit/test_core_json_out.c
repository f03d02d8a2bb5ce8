/* JSON output helpers: UTF-8 validation and repair (invalid bytes, sequences cut by a fixed
 * buffer, overlongs, surrogates), JSON strings that never fail on such text, and JSON files
 * written whole or not at all, JSON-lines files (several writers, repaired text, a full disk). */
#include "vg_test.h"

#include "core/json_out.h"
#include "vidgraph/vg_graph.h"

#include <sys/stat.h>
#include <unistd.h>

static void test_utf8(void **st) {
  assert_true(vg_utf8_valid("plain", 5));
  assert_true(vg_utf8_valid("K\xC3\xB6ln \xE2\x82\xAC \xF0\x9F\x9A\x97", 14));
  assert_false(vg_utf8_valid("\xFF", 1));
  assert_false(vg_utf8_valid("\xC3", 1));             /* cut */
  assert_false(vg_utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
  assert_false(vg_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
  assert_false(vg_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
  char *r = vg_utf8_repair("a\xFF"
                           "b\xC3");
  assert_string_equal(r, "a\xEF\xBF\xBD"
                         "b\xEF\xBF\xBD");
  free(r);
  r = vg_utf8_repair("ok \xE2\x82\xAC");
  assert_string_equal(r, "ok \xE2\x82\xAC");
  free(r);
  char cut[] = "K\xC3\xB6ln \xE2\x82"; /* a message cut inside the euro sign */
  vg_utf8_trim(cut);
  assert_string_equal(cut, "K\xC3\xB6ln ");
  char mid[] = "a\xFFz";
  vg_utf8_trim(mid);
  assert_string_equal(mid, "a?z");
}

static void test_json_text(void **st) {
  json_t *j = vg_json_text("/videos/caf\xE9.mp4"); /* Latin-1 file name */
  assert_non_null(j);
  assert_string_equal(json_string_value(j), "/videos/caf\xEF\xBF\xBD.mp4");
  json_decref(j);
  j = vg_json_text(NULL);
  assert_true(json_is_null(j));
  json_decref(j);
  /* a message cut inside a character by vg_cnode_error's buffer still gives a JSON string */
  char msg[1100];
  memset(msg, 'x', sizeof msg);
  memcpy(msg + 1020, "\xE2\x82\xAC", 3);
  msg[1022] = '\0';
  j = vg_json_text(msg);
  assert_non_null(j);
  assert_int_equal(json_string_length(j), 1020 + 6); /* two U+FFFD */
  json_decref(j);
}

static void test_write_file(void **st) {
  char dir[] = "/tmp/vg_json_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/summary.json", dir);
  json_t *o = json_pack("{s:s,s:i}", "state", "ok", "n", 3);
  json_object_set_new(o, "name", vg_json_text("bad\xFFname"));
  VG_ASSERT_OK(vg_json_write_file(o, path, JSON_COMPACT));
  json_decref(o);
  json_error_t e;
  json_t *back = json_load_file(path, 0, &e);
  assert_non_null(back);
  assert_int_equal(json_integer_value(json_object_get(back, "n")), 3);
  assert_string_equal(json_string_value(json_object_get(back, "name")), "bad\xEF\xBF\xBDname");
  json_decref(back);
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0644);
  /* no document: an error, and the file already there is left as it was */
  assert_int_equal(vg_json_write_file(NULL, path, 0), VG_ERR_NO_MEMORY);
  back = json_load_file(path, 0, &e);
  assert_non_null(back);
  json_decref(back);
  /* a folder that does not exist: an error naming the path, no file */
  char bad[300];
  snprintf(bad, sizeof bad, "%s/no/such/summary.json", dir);
  o = json_pack("{s:i}", "n", 1);
  assert_int_equal(vg_json_write_file(o, bad, 0), VG_ERR_IO);
  VG_ASSERT_MSG_HAS(bad);
  json_decref(o);
  /* only summary.json is left in the folder: no temporary files */
  char cmd[400];
  snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = summary.json", dir);
  assert_int_equal(system(cmd), 0);
  unlink(path);
  rmdir(dir);
}

/* The run summary's JSON survives messages cut inside a UTF-8 character by the fixed buffers of
 * the error path (the 0-byte summary.json of issue 15): the text is repaired, nothing dropped. */
static void test_summary_cut_message(void **st) {
  vg_run_summary s;
  memset(&s, 0, sizeof s);
  s.state = VG_RUN_FAILED;
  s.status = VG_ERR_PARSE;
  memset(s.error, 'e', sizeof s.error);
  s.error[sizeof s.error - 2] = '\xC3'; /* the first byte of a two-byte character */
  s.error[sizeof s.error - 1] = '\0';
  vg_node_metrics m;
  memset(&m, 0, sizeof m);
  snprintf(m.id, sizeof m.id, "read");
  snprintf(m.type, sizeof m.type, "text_recognize_decode");
  snprintf(m.last_error, sizeof m.last_error, "plate 'K\xC3\xB6ln \xE2\x82"); /* cut euro */
  s.nnodes = 1;
  s.nodes = &m;
  char *text = vg_run_summary_json(&s);
  assert_non_null(text);
  json_error_t e;
  json_t *o = json_loads(text, 0, &e);
  free(text);
  assert_non_null(o);
  assert_int_equal(json_string_length(json_object_get(o, "error")), sizeof s.error - 2 + 3);
  const char *le = json_string_value(
      json_object_get(json_array_get(json_object_get(o, "nodes"), 0), "last_error"));
  assert_non_null(le);
  assert_string_equal(le, "plate 'K\xC3\xB6ln \xEF\xBF\xBD\xEF\xBF\xBD");
  json_decref(o);
}

/* JSON lines: buffered lines come out whole and in order after a flush, text that is not UTF-8
 * is repaired, append keeps what was there; on a full disk (/dev/full: ENOSPC) the error names
 * the file and the reason, and sticks. */
static void test_jsonl(void **st) {
  char dir[] = "/tmp/vg_jsonl_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/e.jsonl", dir);
  vg_jsonl *w;
  assert_int_equal(vg_jsonl_open(path, false, &w), VG_OK);
  json_t *a = json_pack("{s:i,s:o}", "n", 1, "text",
                        vg_json_text("AB\xFF"
                                     "12"));
  json_t *b = json_pack("{s:i}", "n", 2);
  assert_int_equal(vg_jsonl_write(w, a, 0, false), VG_OK);
  assert_int_equal(vg_jsonl_write(w, b, 0, false), VG_OK);
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_size, 0); /* buffered until a flush */
  assert_int_equal(vg_jsonl_close(w), VG_OK);
  assert_int_equal(vg_jsonl_open(path, true, &w), VG_OK);
  assert_int_equal(vg_jsonl_write(w, b, 0, true), VG_OK);
  assert_int_equal(vg_jsonl_close(w), VG_OK);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char text[256] = {0};
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  assert_string_equal(text, "{\"n\":1,\"text\":\"AB\xEF\xBF\xBD"
                            "12\"}\n{\"n\":2}\n{\"n\":2}\n");
  assert_int_equal(n, strlen(text));
  unlink(path);
  rmdir(dir);
  if (access("/dev/full", W_OK) == 0) {
    assert_int_equal(vg_jsonl_open("/dev/full", false, &w), VG_OK);
    assert_int_equal(vg_jsonl_write(w, a, 0, true), VG_ERR_IO);
    assert_non_null(strstr(vg_last_error(), "'/dev/full'"));
    assert_non_null(strstr(vg_last_error(), "No space left on device"));
    assert_int_equal(vg_jsonl_write(w, b, 0, false), VG_ERR_IO); /* sticky */
    assert_int_equal(vg_jsonl_close(w), VG_ERR_IO);
  }
  json_decref(a);
  json_decref(b);
  (void)st;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8),       cmocka_unit_test(test_json_text),
      cmocka_unit_test(test_write_file), cmocka_unit_test(test_summary_cut_message),
      cmocka_unit_test(test_jsonl),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
