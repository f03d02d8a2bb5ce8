/* post: normalisation of recognised text (vg_text_normalize, PLATE form) and the plate length:
 * what PP-OCR reads for a plate's hyphen and letters (dash-like CJK and typographic glyphs,
 * lower case, full width) comes out as the plate's ASCII text; malformed UTF-8 is kept byte
 * for byte and never read past its end; names of the forms are checked. */
#include "vg_test.h"
#include "vidgraph/vg_post.h"

#include <string.h>

static void expect(const char *in, const char *want) {
  char buf[VG_TEXT_MAX];
  snprintf(buf, sizeof buf, "%s", in);
  vg_text_normalize(buf, VG_TEXT_NORM_PLATE);
  if (strcmp(buf, want) != 0) fail_msg("normalize('%s') = '%s', want '%s'", in, buf, want);
}

static void test_plate_form(void **st) {
  expect("12-XKB-3", "12-XKB-3");
  expect("12\xe4\xb8\x80XKB\xe4\xb8\x80"
         "3",
         "12-XKB-3"); /* U+4E00 "one" */
  expect("12\xe3\x83\xbcXKB\xe2\x80\x94"
         "3",
         "12-XKB-3"); /* U+30FC, em dash */
  expect("AB\xe2\x80\x93"
         "123\xe2\x88\x92"
         "CD",
         "AB-123-CD"); /* en dash, minus */
  expect("AB\xef\xbc\x8d"
         "123\xe2\x94\x80"
         "CD",
         "AB-123-CD"); /* full-width hyphen, U+2500 */
  expect("ab12 cde", "AB12 CDE");
  expect("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\x91\xef\xbc\x92", "AB12"); /* full-width AB12 */
  expect("  MH  12\tAB \xe3\x80\x80 1234 ", "MH 12 AB 1234");         /* blanks, U+3000 */
  expect("B - MW 1234", "B-MW 1234");
  expect("B -MW", "B-MW");
  expect("-AB 12-", "AB 12"); /* separators at the ends are dropped */
  expect("A--B", "A-B");      /* runs of separators become one */
  expect("", "");
  expect(" - ", "");
  /* other characters are kept as they are (the pattern judges them) */
  expect("Z\xc3\xbcrich 1", "Z\xc3\xbcRICH 1");
  expect("\xe4\xba\xac"
         "A 123",
         "\xe4\xba\xac"
         "A 123");
  expect("AB.12/c", "AB.12/C");
  /* malformed UTF-8: a lone continuation byte, a truncated 3-byte sequence at the end */
  expect("a\x80"
         "b",
         "A\x80"
         "B");
  expect("ab\xe4\xb8", "AB\xe4\xb8");
  /* NONE leaves everything alone */
  char buf[32] = "ab\xe4\xb8\x80"
                 "c";
  vg_text_normalize(buf, VG_TEXT_NORM_NONE);
  assert_string_equal(buf, "ab\xe4\xb8\x80"
                           "c");
  vg_text_normalize(NULL, VG_TEXT_NORM_PLATE);
}

static void test_plate_length(void **st) {
  assert_int_equal(vg_text_plate_length("MH 12 AB 1234"), 10);
  assert_int_equal(vg_text_plate_length("12-XKB-3"), 6);
  assert_int_equal(vg_text_plate_length("12\xe4\xb8\x80X"), 3);
  assert_int_equal(vg_text_plate_length("Z\xc3\xbc"), 2);
  assert_int_equal(vg_text_plate_length(""), 0);
  assert_int_equal(vg_text_plate_length(NULL), 0);
}

static void test_norm_names(void **st) {
  vg_text_norm n = VG_TEXT_NORM_PLATE;
  VG_ASSERT_OK(vg_text_norm_from_name("none", &n));
  assert_int_equal(n, VG_TEXT_NORM_NONE);
  VG_ASSERT_OK(vg_text_norm_from_name("plate", &n));
  assert_int_equal(n, VG_TEXT_NORM_PLATE);
  assert_int_equal(vg_text_norm_from_name("Plate", &n), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("none, plate");
  assert_int_equal(vg_text_norm_from_name(NULL, &n), VG_ERR_INVALID_ARG);
}

static void test_distinct_lower(void **st) {
  assert_int_equal(vg_text_distinct_lower("open 9-18h"), 4); /* o is ambiguous: p e n h */
  assert_int_equal(vg_text_distinct_lower("KX52 RTU"), 0);
  assert_int_equal(vg_text_distinct_lower("KX52 RTu"), 0);  /* u/U: same shape */
  assert_int_equal(vg_text_distinct_lower("xcosvwz"), 0);
  assert_int_equal(vg_text_distinct_lower("Cafe & Bar"), 5); /* a f e a r: C and B are capitals */
  assert_int_equal(vg_text_distinct_lower("MH 12 AB 1234"), 0);
  assert_int_equal(vg_text_distinct_lower("\xc3\xa9t\xc3\xa9"), 1); /* only ASCII letters count */
  assert_int_equal(vg_text_distinct_lower(""), 0);
  assert_int_equal(vg_text_distinct_lower(NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plate_form),
      cmocka_unit_test(test_plate_length),
      cmocka_unit_test(test_norm_names),
      cmocka_unit_test(test_distinct_lower),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
