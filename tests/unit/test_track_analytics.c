/* track: directed line counts exact on synthetic trajectories, polygon zones (occupancy, dwell,
 * enter/leave events), and fatigue (EAR, PERCLOS, levels) on synthetic landmark sequences. */
#include "vg_test.h"
#include "vidgraph/vg_track.h"

#include <math.h>

/* ----------------------------------------------------------------- line crossings */

typedef struct traj {
  int64_t id;
  int cls;
  int n;
  float pts[8][2]; /* centre positions, one per frame starting at frame 0 */
} traj;

static vg_object obj_at(int64_t id, int cls, float cx, float cy) {
  vg_object o = vg_object_init();
  o.box = (vg_box){cx - 10, cy - 20, cx + 10, cy + 20};
  o.track_id = id;
  o.class_id = cls;
  return o;
}

static void test_line_counts(void **st) {
  /* line A (0, 300) -> B (1000, 300): moving down (to larger y) is "in" */
  static const traj T[] = {
      {1, 0, 3, {{500, 100}, {500, 290}, {500, 420}}},    /* in */
      {2, 1, 3, {{200, 500}, {200, 310}, {200, 100}}},    /* out */
      {3, 0, 3, {{1200, 100}, {1200, 300}, {1200, 500}}}, /* beside the segment */
      {4, 0, 5, {{700, 250}, {700, 350}, {700, 250}, {700, 350}, {700, 360}}}, /* in, out, in */
      {5, 0, 6, {{300, 200}, {300, 300}, {300, 250}, {300, 300}, {300, 300}, {300, 400}}},
      /* 5: touches and returns (nothing), then rests on the line and goes down (in) */
      {6, 2, 2, {{900, 0}, {900, 700}}},                /* one big jump: in */
      {-1, 0, 3, {{400, 100}, {400, 300}, {400, 500}}}, /* no track id: ignored */
      {7, 2, 3, {{-50, 250}, {50, 350}, {60, 360}}},    /* crosses near A: in */
  };
  int nt = sizeof T / sizeof T[0];
  vg_line_params p = {0, 300, 1000, 300, VG_ANCHOR_CENTER, 300};
  vg_line_counter *c;
  VG_ASSERT_OK(vg_line_counter_create(&p, &c));
  vg_objects objs = {0};
  vg_cross_event ev[16];
  int nevents = 0;
  for (int f = 0; f < 8; f++) {
    vg_objects_clear(&objs);
    for (int i = 0; i < nt; i++)
      if (f < T[i].n) {
        vg_object o = obj_at(T[i].id, T[i].cls, T[i].pts[f][0], T[i].pts[f][1]);
        vg_objects_push(&objs, &o);
      }
    size_t ne;
    VG_ASSERT_OK(vg_line_counter_update(c, &objs, f, ev, 16, &ne));
    for (size_t k = 0; k < ne; k++)
      assert_int_equal(ev[k].frame_no, f);
    nevents += (int)ne;
  }
  int64_t in, out;
  vg_line_counter_totals(c, -1, &in, &out);
  printf("line: in %lld out %lld\n", (long long)in, (long long)out);
  assert_int_equal(in, 6);  /* 1, 4 (x2), 5, 6, 7 */
  assert_int_equal(out, 2); /* 2, 4 */
  assert_int_equal(nevents, 8);
  vg_line_counter_totals(c, 0, &in, &out);
  assert_int_equal(in, 4), assert_int_equal(out, 1);
  vg_line_counter_totals(c, 1, &in, &out);
  assert_int_equal(in, 0), assert_int_equal(out, 1);
  vg_line_counter_totals(c, 2, &in, &out);
  assert_int_equal(in, 2), assert_int_equal(out, 0);
  vg_line_counter_destroy(c);
  vg_objects_free(&objs);
}

static void test_line_anchor_and_age(void **st) {
  /* bottom anchor: the box's bottom crosses y = 300 while its centre stays above */
  vg_line_params p = {0, 300, 1000, 300, VG_ANCHOR_BOTTOM, 5};
  vg_line_counter *c;
  VG_ASSERT_OK(vg_line_counter_create(&p, &c));
  vg_objects objs = {0};
  vg_object o = obj_at(1, 0, 100, 270); /* bottom 290 */
  vg_objects_push(&objs, &o);
  VG_ASSERT_OK(vg_line_counter_update(c, &objs, 0, NULL, 0, NULL));
  objs.items[0] = obj_at(1, 0, 100, 285); /* bottom 305 */
  size_t ne;
  VG_ASSERT_OK(vg_line_counter_update(c, &objs, 1, NULL, 0, &ne));
  assert_int_equal(ne, 1); /* counted even with no room for the event */
  /* forgotten after max_age frames unseen: reappearing on the other side is not a crossing */
  VG_ASSERT_OK(vg_line_counter_update(c, NULL, 10, NULL, 0, NULL));
  objs.items[0] = obj_at(1, 0, 100, 200);
  VG_ASSERT_OK(vg_line_counter_update(c, &objs, 11, NULL, 0, &ne));
  assert_int_equal(ne, 0);
  int64_t in, out;
  vg_line_counter_totals(c, -1, &in, &out);
  assert_int_equal(in, 1), assert_int_equal(out, 0);
  vg_line_counter_destroy(c);
  vg_objects_free(&objs);
  p.x2 = p.x1, p.y2 = p.y1;
  assert_int_equal(vg_line_counter_create(&p, &c), VG_ERR_INVALID_ARG);
}

static void test_line_config(void **st) {
  const char *y = "a: {line: [0, 10, 100, 10], anchor: bottom}\nb: {line: [0, 10, 100]}\n"
                  "c: {line: [1, 1, 1, 1]}\nd: {anchor: feet, line: [0, 0, 1, 1]}\ne: {}\n";
  vg_config *cf;
  VG_ASSERT_OK(vg_config_load_string(y, strlen(y), "count.yaml", &cf));
  const vg_cnode *r = vg_config_root(cf);
  vg_line_params p;
  VG_ASSERT_OK(vg_line_params_from_config(vg_cnode_get(r, "a"), &p));
  assert_float_equal(p.x2, 100, 0);
  assert_int_equal(p.anchor, VG_ANCHOR_BOTTOM);
  assert_int_equal(vg_line_params_from_config(vg_cnode_get(r, "b"), &p), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("count.yaml:2:11: b.line: expected a list of 4 numbers");
  assert_int_equal(vg_line_params_from_config(vg_cnode_get(r, "c"), &p), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("same point");
  assert_int_equal(vg_line_params_from_config(vg_cnode_get(r, "d"), &p), VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("count.yaml:4:13");
  VG_ASSERT_MSG_HAS("'feet'");
  assert_int_equal(vg_line_params_from_config(vg_cnode_get(r, "e"), &p), VG_ERR_NOT_FOUND);
  VG_ASSERT_MSG_HAS("missing required key 'line'");
  vg_config_free(cf);
}

/* ----------------------------------------------------------------- zones */

static void test_zone(void **st) {
  const char *y =
      "zone: {polygon: [[100, 100], [300, 100], [300, 300], [200, 300], [200, 200],"
      " [100, 200]], anchor: center, max_age_sec: 2}\nbad: {polygon: [[0, 0], [1, 1]]}\n";
  vg_config *cf;
  VG_ASSERT_OK(vg_config_load_string(y, strlen(y), "zone.yaml", &cf));
  vg_zone_params p;
  VG_ASSERT_OK(vg_zone_params_from_config(vg_cnode_get(vg_config_root(cf), "zone"), &p));
  assert_int_equal(vg_zone_params_from_config(vg_cnode_get(vg_config_root(cf), "bad"), &p),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("zone.yaml:2:16");
  VG_ASSERT_OK(vg_zone_params_from_config(vg_cnode_get(vg_config_root(cf), "zone"), &p));
  vg_zone *z;
  VG_ASSERT_OK(vg_zone_create(&p, &z));
  /* an L shape: (150, 250) is in its missing corner */
  assert_true(vg_zone_contains(z, 150, 150));
  assert_true(vg_zone_contains(z, 250, 250));
  assert_false(vg_zone_contains(z, 150, 250));
  assert_false(vg_zone_contains(z, 350, 150));
  vg_objects objs = {0};
  vg_zone_event ev[8];
  size_t ne;
  /* t=0: A (class 0) outside; t=1: A inside, B (class 1) inside; t=2..4: both inside;
   * t=4.5: A leaves; B is not seen after t=3 and is gone when 2 s have passed */
  double times[] = {0, 1, 2, 3, 4, 4.5, 5.5};
  int enters = 0, leaves = 0;
  for (int k = 0; k < 7; k++) {
    double t = times[k];
    vg_objects_clear(&objs);
    vg_object a = obj_at(1, 0, t < 1 || t >= 4.5 ? 50 : 150, 150);
    vg_objects_push(&objs, &a);
    if (t >= 1 && t <= 3) {
      vg_object b = obj_at(2, 1, 250, 250);
      vg_objects_push(&objs, &b);
    }
    VG_ASSERT_OK(vg_zone_update(z, &objs, t, ev, 8, &ne));
    for (size_t i = 0; i < ne; i++) {
      if (ev[i].enter) {
        enters++;
        assert_float_equal(ev[i].t_sec, 1.0, 1e-9);
      } else {
        leaves++;
        if (ev[i].track_id == 1) {
          assert_float_equal(ev[i].dwell_sec, 3.0, 1e-9); /* in from 1 to 4 */
          assert_float_equal(ev[i].t_sec, 4.5, 1e-9);
        } else {
          assert_int_equal(ev[i].track_id, 2);
          assert_float_equal(ev[i].dwell_sec, 2.0, 1e-9); /* in from 1 to 3 */
          assert_float_equal(ev[i].t_sec, 5.5, 1e-9);
        }
      }
    }
    if (t == 2) {
      assert_int_equal(vg_zone_occupancy(z, -1), 2);
      assert_int_equal(vg_zone_occupancy(z, 1), 1);
      double d;
      VG_ASSERT_OK(vg_zone_dwell(z, 1, &d));
      assert_float_equal(d, 1.0, 1e-9);
    }
  }
  assert_int_equal(enters, 2);
  assert_int_equal(leaves, 2);
  assert_int_equal(vg_zone_occupancy(z, -1), 0);
  double d;
  assert_int_equal(vg_zone_dwell(z, 1, &d), VG_ERR_NOT_FOUND);
  assert_int_equal(vg_zone_update(z, &objs, 1.0, ev, 8, &ne), VG_ERR_INVALID_ARG);
  vg_zone_destroy(z);
  vg_objects_free(&objs);
  vg_config_free(cf);
}

/* ----------------------------------------------------------------- fatigue */

/* An eye 30 px wide with lids `open` px apart: EAR = open / 30. */
static void eye(float cx, float cy, float open, float *p) {
  float pts[12] = {cx - 15, cy, cx - 5, cy - open / 2, cx + 5, cy - open / 2,
                   cx + 15, cy, cx + 5, cy + open / 2, cx - 5, cy + open / 2};
  memcpy(p, pts, sizeof pts);
}

static void test_ear(void **st) {
  float p[12];
  eye(100, 100, 9, p);
  assert_float_equal(vg_ear(p), 0.3, 1e-6);
  eye(100, 100, 1.5f, p);
  assert_float_equal(vg_ear(p), 0.05, 1e-6);
  float flat[12] = {0};
  assert_float_equal(vg_ear(flat), 0, 0);
}

/* 10 samples per second; closed_at(k) says whether sample k has the eyes closed. Checks PERCLOS
 * against a count over the window and returns the level at the end. */
static vg_fatigue_level run_seq(bool (*closed_at)(int), int n, float *perclos_end) {
  vg_fatigue_params p;
  vg_fatigue_params_default(&p);
  vg_fatigue *f;
  VG_ASSERT_OK(vg_fatigue_create(&p, &f));
  vg_fatigue_state s = {0};
  for (int k = 0; k < n; k++) {
    double t = k * 0.1;
    float l[12], r[12];
    bool c = closed_at(k);
    eye(100, 100, c ? 1.5f : 9.f, l);
    eye(160, 100, c ? 1.5f : 9.f, r);
    VG_ASSERT_OK(vg_fatigue_update(f, t, l, r, &s));
    int in = 0, cl = 0; /* reference: samples with time in [t - 60, t] */
    for (int j = 0; j <= k; j++)
      if (j * 0.1 >= t - 60 - 1e-9) in++, cl += closed_at(j);
    if (fabs(s.perclos - (double)cl / in) > 1e-3)
      fail_msg("sample %d: perclos %f, expected %f", k, s.perclos, (double)cl / in);
  }
  *perclos_end = s.perclos;
  vg_fatigue_destroy(f);
  return s.level;
}

static bool blinks(int k) {
  return k % 40 < 3; /* 0.3 s every 4 s: PERCLOS 0.075 */
}
static bool heavy(int k) {
  return k % 40 < 9; /* 0.9 s every 4 s: PERCLOS 0.225 */
}
static bool dozing(int k) {
  return k >= 1000 ? true : k % 40 < 3; /* eyes shut from 100 s on */
}
static bool recovered(int k) {
  return k < 600 ? k % 40 < 9 : k % 40 < 2; /* heavy for a minute, then a fresh minute+ */
}

static void test_perclos_levels(void **st) {
  float pc;
  assert_int_equal(run_seq(blinks, 900, &pc), VG_ALERT);
  assert_float_equal(pc, 0.075, 0.01);
  assert_int_equal(run_seq(heavy, 900, &pc), VG_DROWSY);
  assert_float_equal(pc, 0.225, 0.01);
  assert_int_equal(run_seq(dozing, 1025, &pc), VG_ASLEEP); /* 2.4 s shut */
  assert_true(pc < 0.15f); /* asleep by the closure time, not by PERCLOS */
  assert_int_equal(run_seq(dozing, 1015, &pc), VG_ALERT);    /* 1.4 s shut: not yet */
  assert_int_equal(run_seq(recovered, 1300, &pc), VG_ALERT); /* the window forgot */
  printf("perclos after recovery %.3f (%s)\n", pc, vg_fatigue_level_name(VG_ALERT));
}

static void test_fatigue_config(void **st) {
  const char *y =
      "a: {ear_closed: 0.25, window_sec: 30}\nb: {drowsy_perclos: 0.5, asleep_perclos: 0.3}\n";
  vg_config *cf;
  VG_ASSERT_OK(vg_config_load_string(y, strlen(y), "fat.yaml", &cf));
  vg_fatigue_params p;
  VG_ASSERT_OK(vg_fatigue_params_from_config(vg_cnode_get(vg_config_root(cf), "a"), &p));
  assert_float_equal(p.ear_closed, 0.25, 1e-6);
  assert_float_equal(p.window_sec, 30, 0);
  assert_int_equal(vg_fatigue_params_from_config(vg_cnode_get(vg_config_root(cf), "b"), &p),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("asleep_perclos 0.3 is below drowsy_perclos 0.5");
  vg_config_free(cf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_line_counts),
      cmocka_unit_test(test_line_anchor_and_age),
      cmocka_unit_test(test_line_config),
      cmocka_unit_test(test_zone),
      cmocka_unit_test(test_ear),
      cmocka_unit_test(test_perclos_levels),
      cmocka_unit_test(test_fatigue_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
