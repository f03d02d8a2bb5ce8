/* test_graph_packet.c - vg_packet: reference counting, derive sharing what it does not replace,
 * copy-on-write objects, named tensors, transforms, and the live-packet counter. */
#include "vg_test.h"

#include "vidgraph/vg_graph.h"

static void make_tensor(float v, vg_tensor *t) {
  int64_t shape[2] = {2, 3};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 2, shape, vg_cpu(), NULL, t));
  for (int i = 0; i < 6; i++)
    ((float *)vg_tensor_data(t))[i] = v + (float)i;
}

static void test_refcount_and_header(void **state) {
  (void)state;
  long base = vg_packet_live_count();
  vg_packet *p;
  VG_ASSERT_OK(vg_packet_new(&p));
  assert_int_equal(vg_packet_live_count(), base + 1);
  assert_int_equal(vg_packet_frame_no(p), -1);
  assert_int_equal(vg_packet_pts(p), INT64_MIN);
  assert_null(vg_packet_frame(p));
  assert_int_equal(vg_packet_objects(p)->count, 0);
  vg_packet_set_stream(p, 4, 99);
  vg_packet_set_pts(p, 1234, 5678);
  vg_packet_set_flags(p, VG_PACKET_SKIPPED);
  assert_ptr_equal(vg_packet_ref(p), p);
  assert_int_equal(vg_packet_refcount(p), 2);
  vg_packet_unref(p);
  assert_int_equal(vg_packet_refcount(p), 1);
  vg_packet *d;
  VG_ASSERT_OK(vg_packet_derive(p, &d));
  assert_int_equal(vg_packet_stream(d), 4);
  assert_int_equal(vg_packet_frame_no(d), 99);
  assert_int_equal(vg_packet_pts(d), 1234);
  assert_int_equal(vg_packet_t_capture_ns(d), 5678);
  assert_int_equal(vg_packet_flags(d), VG_PACKET_SKIPPED);
  vg_packet_unref(p);
  vg_packet_unref(d);
  assert_int_equal(vg_packet_live_count(), base);
}

static void test_frame_and_tensors(void **state) {
  (void)state;
  vg_frame f;
  VG_ASSERT_OK(vg_frame_alloc(VG_PIX_GRAY8, 16, 8, vg_cpu(), NULL, 0, &f));
  vg_packet *p, *d;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_packet_set_frame(p, &f);
  assert_int_equal(vg_buffer_refcount(f.buffer), 2);
  vg_packet_set_frame(p, vg_packet_frame(p)); /* setting its own frame is safe */
  assert_int_equal(vg_buffer_refcount(f.buffer), 2);
  vg_tensor a, b;
  make_tensor(1.f, &a);
  make_tensor(10.f, &b);
  VG_ASSERT_OK(vg_packet_set_tensor(p, "input", &a));
  VG_ASSERT_OK(vg_packet_set_tensor(p, "output0", &b));
  assert_int_equal(vg_packet_ntensors(p), 2);
  VG_ASSERT_OK(vg_packet_derive(p, &d)); /* shares frame and tensors */
  assert_int_equal(vg_buffer_refcount(f.buffer), 3);
  assert_ptr_equal(vg_packet_tensor(d, "output0")->buffer, b.buffer);
  /* replacing in the derived packet leaves the original alone */
  VG_ASSERT_OK(vg_packet_set_tensor(d, "output0", &a));
  assert_ptr_equal(vg_packet_tensor(d, "output0")->buffer, a.buffer);
  assert_ptr_equal(vg_packet_tensor(p, "output0")->buffer, b.buffer);
  vg_packet_remove_tensor(d, "input");
  assert_int_equal(vg_packet_ntensors(d), 1);
  assert_null(vg_packet_tensor(d, "input"));
  const char *name;
  assert_non_null(vg_packet_tensor_at(d, 0, &name));
  assert_string_equal(name, "output0");
  assert_null(vg_packet_tensor_at(d, 1, &name));
  vg_packet_clear_frame(d);
  assert_null(vg_packet_frame(d));
  assert_int_equal(vg_buffer_refcount(f.buffer), 2);
  /* bad names and too many tensors */
  assert_int_equal(vg_packet_set_tensor(d, "", &a), VG_ERR_INVALID_ARG);
  assert_int_equal(vg_packet_set_tensor(d, "a_name_that_is_far_too_long_for_a_tensor", &a),
                   VG_ERR_INVALID_ARG);
  char nm[16];
  for (int i = 0; i < VG_PACKET_MAX_TENSORS - 1; i++) {
    snprintf(nm, sizeof nm, "t%d", i);
    VG_ASSERT_OK(vg_packet_set_tensor(d, nm, &a));
  }
  assert_int_equal(vg_packet_set_tensor(d, "one_more", &a), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("already holds 16 tensors");
  vg_packet_unref(d);
  vg_packet_unref(p);
  assert_int_equal(vg_buffer_refcount(f.buffer), 1);
  assert_int_equal(vg_buffer_refcount(a.buffer), 1);
  vg_tensor_release(&a);
  vg_tensor_release(&b);
  vg_frame_release(&f);
}

static void test_objects_copy_on_write(void **state) {
  (void)state;
  vg_packet *p, *d;
  VG_ASSERT_OK(vg_packet_new(&p));
  vg_objects list = {0};
  vg_object o = vg_object_init();
  o.class_id = 3;
  o.score = 0.5f;
  VG_ASSERT_OK(vg_objects_push(&list, &o));
  VG_ASSERT_OK(vg_packet_set_objects(p, &list));
  assert_int_equal(list.count, 0); /* moved */
  assert_null(list.items);
  VG_ASSERT_OK(vg_packet_derive(p, &d));
  assert_ptr_equal(vg_packet_objects(d), vg_packet_objects(p)); /* shared */
  vg_objects *edit;
  VG_ASSERT_OK(vg_packet_objects_edit(d, &edit));
  assert_ptr_not_equal(edit, vg_packet_objects(p)); /* copied before the edit */
  edit->items[0].track_id = 7;
  o.class_id = 4;
  VG_ASSERT_OK(vg_objects_push(edit, &o));
  assert_int_equal(vg_packet_objects(p)->count, 1);
  assert_int_equal(vg_packet_objects(p)->items[0].track_id, -1);
  assert_int_equal(vg_packet_objects(d)->count, 2);
  assert_int_equal(vg_packet_objects(d)->items[0].track_id, 7);
  vg_objects *again;
  VG_ASSERT_OK(vg_packet_objects_edit(d, &again)); /* owned alone now: no copy */
  assert_ptr_equal(again, edit);
  vg_packet *e;
  VG_ASSERT_OK(vg_packet_new(&e));
  VG_ASSERT_OK(vg_packet_objects_edit(e, &edit)); /* from empty */
  assert_int_equal(edit->count, 0);
  vg_packet_unref(e);
  vg_packet_unref(d);
  vg_packet_unref(p);
}

static void test_xforms(void **state) {
  (void)state;
  vg_packet *p, *d;
  VG_ASSERT_OK(vg_packet_new(&p));
  int n = -1;
  assert_null(vg_packet_xforms(p, &n));
  assert_int_equal(n, 0);
  vg_xform x[3] = {vg_xform_identity(), vg_xform_identity(), vg_xform_identity()};
  x[1].off_x = 640;
  VG_ASSERT_OK(vg_packet_set_xforms(p, x, 3));
  VG_ASSERT_OK(vg_packet_derive(p, &d));
  const vg_xform *got = vg_packet_xforms(d, &n);
  assert_int_equal(n, 3);
  assert_true(got[1].off_x == 640.f);
  assert_int_equal(vg_packet_set_xforms(p, NULL, 2), VG_ERR_INVALID_ARG);
  VG_ASSERT_OK(vg_packet_set_xforms(p, NULL, 0));
  assert_null(vg_packet_xforms(p, &n));
  vg_packet_unref(d);
  vg_packet_unref(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_refcount_and_header),
      cmocka_unit_test(test_frame_and_tensors),
      cmocka_unit_test(test_objects_copy_on_write),
      cmocka_unit_test(test_xforms),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
