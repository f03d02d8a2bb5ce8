/* track: the tracker on a generated scene (crossings with occlusion, a short disappearance, missed
 * detections, false positives): prints id switches and MOTA and asserts bounds; prediction through
 * frames without detections; attribute voting and ended tracks; per-class matching; config. */
#include "vg_test.h"
#include "vidgraph/vg_track.h"

#include <math.h>

static unsigned rng_state = 2024;
static double rnd01(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return (double)((rng_state >> 8) & 0xffffff) / 16777216.0;
}

typedef struct actor {
  double x, y, vx, vy, w, h; /* at frame `from` */
  int from, to, cls;
} actor;

#define NACT 8
#define NFRAMES 300

/* 0 and 1 cross head-on at frame 100 (1 behind 0, hidden while they overlap most), 2 and 3 cross
 * diagonally 40 px apart (3 partly hidden: low scores), 4 disappears for 10 frames, 5..7 come
 * and go. (Two boxes that coincide exactly cannot be told apart by IoU alone: no appearance.) */
static const actor ACT[NACT] = {
    {100, 300, 6, 0, 60, 120, 0, 200, 0},    {1100, 310, -6, 0, 60, 120, 0, 200, 0},
    {200, 100, 4, 2, 50, 100, 20, 250, 0},   {800, 140, -4, 2, 50, 100, 20, 250, 0},
    {600, 500, 2, -1, 80, 60, 0, 299, 1},    {50, 600, 3, 0, 40, 80, 150, 299, 0},
    {1200, 50, -3, 1.5, 40, 80, 60, 280, 0}, {640, 360, 0, 0, 100, 100, 30, 120, 1},
};

static vg_box actor_box(const actor *a, int f) {
  double cx = a->x + a->vx * (f - a->from), cy = a->y + a->vy * (f - a->from);
  vg_box b = {(float)(cx - a->w / 2), (float)(cy - a->h / 2), (float)(cx + a->w / 2),
              (float)(cy + a->h / 2)};
  return b;
}

static bool present(int i, int f) {
  return f >= ACT[i].from && f <= ACT[i].to;
}

/* Detections of frame f; src[k] = actor index or -1 for a false positive. */
static void detect(int f, vg_objects *d, int *src) {
  vg_objects_clear(d);
  for (int i = 0; i < NACT; i++) {
    if (!present(i, f)) continue;
    if (i == 4 && f >= 100 && f < 110) continue; /* short disappearance */
    if (rnd01() < 0.03) continue;                /* random miss */
    vg_object o = vg_object_init();
    vg_box b = actor_box(&ACT[i], f);
    float n = 2.f;
    o.box = (vg_box){b.x1 + (float)(rnd01() - 0.5) * n, b.y1 + (float)(rnd01() - 0.5) * n,
                     b.x2 + (float)(rnd01() - 0.5) * n, b.y2 + (float)(rnd01() - 0.5) * n};
    o.score = 0.7f + 0.25f * (float)rnd01();
    o.class_id = ACT[i].cls;
    /* the actor behind in a crossing: partly hidden (low score), fully hidden at the centre */
    if (i == 1 || i == 3) {
      vg_box other = actor_box(&ACT[i - 1], f);
      float iou = vg_box_iou(&b, &other);
      if (iou > 0.6f) continue;
      if (iou > 0.1f) o.score = 0.2f + 0.2f * (float)rnd01();
    }
    src[d->count] = i;
    vg_objects_push(d, &o);
  }
  if (rnd01() < 0.05) { /* a one-frame false positive */
    vg_object o = vg_object_init();
    float x = (float)(rnd01() * 1100), y = (float)(rnd01() * 600);
    o.box = (vg_box){x, y, x + 50, y + 90};
    o.score = 0.55f + 0.15f * (float)rnd01();
    src[d->count] = -1;
    vg_objects_push(d, &o);
  }
}

static void test_scene_mota(void **st) {
  vg_tracker_params p;
  vg_tracker_params_default(&p);
  vg_tracker *t;
  VG_ASSERT_OK(vg_tracker_create(&p, &t));
  vg_objects d = {0};
  int src[64];
  int64_t last_id[NACT];
  for (int i = 0; i < NACT; i++)
    last_id[i] = -1;
  long gt = 0, fn = 0, fp = 0, idsw = 0;
  for (int f = 0; f < NFRAMES; f++) {
    detect(f, &d, src);
    VG_ASSERT_OK(vg_tracker_update(t, f, &d));
    bool seen[NACT] = {0};
    for (size_t k = 0; k < d.count; k++) {
      int64_t id = d.items[k].track_id;
      if (id < 0) continue;
      if (src[k] < 0) {
        fp++;
        continue;
      }
      int a = src[k];
      seen[a] = true;
      if (last_id[a] >= 0 && last_id[a] != id) {
        idsw++;
        printf("id switch: actor %d frame %d: %lld -> %lld\n", a, f, (long long)last_id[a],
               (long long)id);
      }
      last_id[a] = id;
    }
    for (int i = 0; i < NACT; i++)
      if (present(i, f)) gt++, fn += !seen[i];
  }
  double mota = 1.0 - (double)(fn + fp + idsw) / (double)gt;
  printf("tracker scene: %ld ground-truth boxes, FN %ld, FP %ld, id switches %ld, MOTA %.3f\n", gt,
         fn, fp, idsw, mota);
  assert_int_equal(idsw, 0);
  assert_true(mota >= 0.85);
  assert_true(fp <= 2);
  /* every actor got exactly one id, distinct ones */
  for (int i = 0; i < NACT; i++)
    for (int j = 0; j < i; j++)
      assert_true(last_id[i] != last_id[j]);
  vg_objects_free(&d);
  vg_tracker_destroy(t);
}

/* Detector every third frame; the frames between are predicted and must follow the actors. */
static void test_predict_interval(void **st) {
  vg_tracker_params p;
  vg_tracker_params_default(&p);
  vg_tracker *t;
  VG_ASSERT_OK(vg_tracker_create(&p, &t));
  vg_objects d = {0}, pred = {0};
  int64_t id[2] = {-1, -1};
  double worst = 1;
  for (int f = 0; f < 90; f++) {
    vg_box b[2] = {actor_box(&ACT[4], f), actor_box(&ACT[0], f)};
    if (f % 3 == 0) {
      vg_objects_clear(&d);
      for (int i = 0; i < 2; i++) {
        vg_object o = vg_object_init();
        o.box = b[i];
        o.score = 0.9f;
        vg_objects_push(&d, &o);
      }
      VG_ASSERT_OK(vg_tracker_update(t, f, &d));
      for (int i = 0; i < 2; i++) {
        if (id[i] >= 0) assert_int_equal(d.items[i].track_id, id[i]);
        id[i] = d.items[i].track_id;
      }
    } else {
      vg_objects_clear(&pred);
      VG_ASSERT_OK(vg_tracker_predict(t, f, &pred));
      assert_int_equal(pred.count, 2);
      for (size_t k = 0; k < pred.count; k++) {
        int i = pred.items[k].track_id == id[0] ? 0 : 1;
        assert_int_equal(pred.items[k].track_id, id[i]);
        double iou = vg_box_iou(&pred.items[k].box, &b[i]);
        if (f > 12 && iou < worst) worst = iou;
      }
    }
    int tent, tracked, lost;
    vg_tracker_counts(t, &tent, &tracked, &lost);
    assert_int_equal(tracked, 2); /* predicted frames never make a track lost */
  }
  printf("predicted frames: worst IoU with the truth after warm-up %.3f\n", worst);
  assert_true(worst > 0.8);
  vg_objects_free(&d);
  vg_objects_free(&pred);
  vg_tracker_destroy(t);
}

static void push_det(vg_objects *d, float x, float y, float s, int cls, const char *text,
                     float ts) {
  vg_object o = vg_object_init();
  o.box = (vg_box){x, y, x + 40, y + 20};
  o.score = s;
  o.class_id = cls;
  snprintf(o.text, sizeof o.text, "%s", text);
  o.text_score = ts;
  vg_objects_push(d, &o);
}

static void test_votes_and_ended(void **st) {
  vg_tracker_params p;
  vg_tracker_params_default(&p);
  p.max_lost = 5;
  vg_tracker *t;
  VG_ASSERT_OK(vg_tracker_create(&p, &t));
  vg_objects d = {0};
  /* a plate read as ABC123 three times weakly and as A8C123 twice strongly, then leaves */
  const char *reads[] = {"ABC123", "A8C123", "ABC123", "A8C123", "ABC123", ""};
  float conf[] = {0.5f, 0.9f, 0.6f, 0.7f, 0.55f, 0};
  int64_t id = -1;
  for (int f = 0; f < 6; f++) {
    vg_objects_clear(&d);
    push_det(&d, 100 + 5.f * f, 100, 0.9f, 2, reads[f], conf[f]);
    VG_ASSERT_OK(vg_tracker_update(t, f, &d));
    id = d.items[0].track_id;
    assert_true(id > 0);
  }
  VG_ASSERT_OK(vg_tracker_vote(t, id, "A8C123", 0.05f)); /* a later OCR reading, via the API */
  vg_track_info info;
  VG_ASSERT_OK(vg_tracker_get(t, id, &info));
  /* ABC123: 0.5 + 0.6 + 0.55 = 1.65; A8C123: 0.9 + 0.7 + 0.05 = 1.65 -> the first reaching it
   * keeps it only on a strict win; add one more to break the tie */
  VG_ASSERT_OK(vg_tracker_vote(t, id, "A8C123", 0.01f));
  VG_ASSERT_OK(vg_tracker_get(t, id, &info));
  assert_string_equal(info.text, "A8C123");
  assert_float_equal(info.text_score, 1.66f, 1e-4);
  assert_int_equal(info.text_votes, 4);
  assert_int_equal(info.first_frame, 0);
  assert_int_equal(info.last_frame, 5);
  assert_int_equal(vg_tracker_vote(t, 999, "X", 1), VG_ERR_NOT_FOUND);
  /* gone: ended at the (max_lost + 1)-th missed update */
  vg_track_info ended[4];
  for (int f = 6; f < 11; f++) {
    VG_ASSERT_OK(vg_tracker_update(t, f, NULL));
    assert_int_equal(vg_tracker_pop_ended(t, ended, 4), 0);
  }
  VG_ASSERT_OK(vg_tracker_update(t, 11, NULL));
  assert_int_equal(vg_tracker_pop_ended(t, ended, 4), 1);
  assert_int_equal(ended[0].track_id, id);
  assert_string_equal(ended[0].text, "A8C123");
  assert_int_equal(ended[0].hits, 6);
  assert_int_equal(ended[0].class_id, 2);
  /* finish ends the live ones; frames must increase */
  vg_objects_clear(&d);
  push_det(&d, 500, 500, 0.9f, 0, "", 0);
  VG_ASSERT_OK(vg_tracker_update(t, 13, &d));
  VG_ASSERT_OK(vg_tracker_update(t, 14, &d));
  assert_int_equal(vg_tracker_update(t, 14, &d), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("frame 14 after frame 14");
  vg_tracker_finish(t);
  assert_int_equal(vg_tracker_pop_ended(t, ended, 4), 1);
  assert_int_equal(ended[0].track_id, id + 1);
  assert_int_equal(vg_tracker_ended_dropped(t), 0);
  vg_objects_free(&d);
  vg_tracker_destroy(t);
}

static void test_per_class_and_lifecycle(void **st) {
  vg_tracker_params p;
  vg_tracker_params_default(&p);
  p.per_class = true;
  vg_tracker *t;
  VG_ASSERT_OK(vg_tracker_create(&p, &t));
  vg_objects d = {0};
  push_det(&d, 100, 100, 0.9f, 0, "", 0);
  VG_ASSERT_OK(vg_tracker_update(t, 0, &d));
  int64_t id0 = d.items[0].track_id;
  assert_true(id0 > 0); /* first frame: confirmed at once */
  /* same place, other class: not the same track (a new tentative one, no id yet) */
  vg_objects_clear(&d);
  push_det(&d, 101, 100, 0.9f, 1, "", 0);
  VG_ASSERT_OK(vg_tracker_update(t, 1, &d));
  assert_int_equal(d.items[0].track_id, -1);
  int tent, tracked, lost;
  vg_tracker_counts(t, &tent, &tracked, &lost);
  assert_int_equal(tent, 1), assert_int_equal(lost, 1);
  /* second hit confirms it with the next id */
  VG_ASSERT_OK(vg_tracker_update(t, 2, &d));
  assert_int_equal(d.items[0].track_id, id0 + 1);
  /* low-score detections never start tracks */
  vg_objects_clear(&d);
  push_det(&d, 600, 600, 0.3f, 0, "", 0);
  VG_ASSERT_OK(vg_tracker_update(t, 3, &d));
  VG_ASSERT_OK(vg_tracker_update(t, 4, &d));
  assert_int_equal(d.items[0].track_id, -1);
  vg_objects_free(&d);
  vg_tracker_destroy(t);
}

static void test_tracker_config(void **st) {
  const char *y = "a: {min_hits: 3, max_lost: 10, per_class: true, high_thresh: 0.6}\n"
                  "b: {min_hits: 0}\nc: {low_thresh: 0.7}\n";
  vg_config *c;
  VG_ASSERT_OK(vg_config_load_string(y, strlen(y), "trk.yaml", &c));
  vg_tracker_params p;
  VG_ASSERT_OK(vg_tracker_params_from_config(vg_cnode_get(vg_config_root(c), "a"), &p));
  assert_int_equal(p.min_hits, 3);
  assert_int_equal(p.max_lost, 10);
  assert_true(p.per_class);
  assert_float_equal(p.high_thresh, 0.6, 1e-6);
  assert_int_equal(vg_tracker_params_from_config(vg_cnode_get(vg_config_root(c), "b"), &p),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("trk.yaml:2:15: b.min_hits");
  assert_int_equal(vg_tracker_params_from_config(vg_cnode_get(vg_config_root(c), "c"), &p),
                   VG_ERR_PARSE);
  VG_ASSERT_MSG_HAS("low_thresh 0.7 is above high_thresh 0.5");
  vg_config_free(c);
}

/* A generated case of issue 15: a plate stands at one place, leaves, and within max_lost a NEW
 * plate appears at the same place. Its consistent reads must start a new track (new id, its own
 * text) instead of voting for the old one; misreads and partial reads of one plate must not. */
static void test_plate_swap(void **st) {
  assert_true(vg_text_agree("KX52 RTU", "RTU"));        /* entering the frame: a part */
  assert_true(vg_text_agree("KX52RTU", "KX52 RTV"));    /* one misread character */
  assert_true(vg_text_agree("AB-123-CD", "AB123CD"));   /* separators do not count */
  assert_true(vg_text_agree("AB12CDE", "8812COE"));     /* three OCR confusions of seven */
  assert_false(vg_text_agree("KX52RTU", "MH12AB1234")); /* another plate */
  assert_false(vg_text_agree("AB12CDE", "XY98ZZE"));
  vg_tracker_params p;
  vg_tracker_params_default(&p);
  p.max_lost = 15;
  vg_tracker *t;
  VG_ASSERT_OK(vg_tracker_create(&p, &t));
  vg_objects d = {0};
  vg_track_info ended[8];
  int64_t first = -1, second = -1;
  for (int f = 0; f < 30; f++) {
    vg_objects_clear(&d);
    const char *text = f < 10 ? (f == 4   ? "KX52RTV"
                                 : f == 0 ? "RTU"
                                          : "KX52 RTU")
                              : "MH 12 AB 1234";
    if (f < 10 || f >= 14) push_det(&d, 300, 200, 0.9f, 0, text, 0.9f); /* 10..13: nothing */
    VG_ASSERT_OK(vg_tracker_update(t, f, &d));
    if (d.count == 0) continue;
    int64_t id = d.items[0].track_id;
    if (f == 5) first = id;
    if (f == 16) second = id;
    if (f >= 1 && f < 10) assert_int_equal(id, first < 0 ? id : first); /* misreads: same track */
  }
  assert_true(first > 0 && second > 0);
  assert_int_not_equal(first, second);
  vg_track_info info;
  VG_ASSERT_OK(vg_tracker_get(t, second, &info));
  assert_string_equal(info.text, "MH 12 AB 1234");
  assert_int_equal(info.first_frame, 14);
  assert_int_equal(vg_tracker_get(t, first, &info), VG_ERR_NOT_FOUND);
  size_t n = vg_tracker_pop_ended(t, ended, 8);
  assert_int_equal(n, 1); /* the old plate ended when the new one was read twice */
  assert_int_equal(ended[0].track_id, first);
  assert_string_equal(ended[0].text, "KX52 RTU");
  assert_int_equal(ended[0].last_frame, 9);
  assert_int_equal(ended[0].hits, 10);
  vg_tracker_finish(t);
  assert_int_equal(vg_tracker_pop_ended(t, ended, 8), 1);
  assert_string_equal(ended[0].text, "MH 12 AB 1234");
  assert_int_equal(ended[0].text_votes, 16);
  vg_tracker_destroy(t);

  /* with text_switch_reads 0 the old behaviour: the new plate's reads vote for the old track */
  p.text_switch_reads = 0;
  VG_ASSERT_OK(vg_tracker_create(&p, &t));
  for (int f = 0; f < 30; f++) {
    vg_objects_clear(&d);
    if (f < 10 || f >= 14)
      push_det(&d, 300, 200, 0.9f, 0, f < 10 ? "KX52 RTU" : "MH 12 AB 1234", 0.9f);
    VG_ASSERT_OK(vg_tracker_update(t, f, &d));
  }
  vg_tracker_finish(t);
  assert_int_equal(vg_tracker_pop_ended(t, ended, 8), 1);
  vg_tracker_destroy(t);

  /* stills: after vg_tracker_restart the same place is a new object, confirmed at once */
  p.text_switch_reads = 2;
  VG_ASSERT_OK(vg_tracker_create(&p, &t));
  int64_t ids[3];
  for (int f = 0; f < 3; f++) {
    vg_tracker_restart(t);
    vg_objects_clear(&d);
    push_det(&d, 300, 200, 0.9f, 0, "AB12CDE", 0.9f);
    VG_ASSERT_OK(vg_tracker_update(t, f, &d));
    ids[f] = d.items[0].track_id;
    assert_true(ids[f] > 0);
    if (f > 0) assert_int_not_equal(ids[f], ids[f - 1]);
    assert_int_equal(vg_tracker_pop_ended(t, ended, 8), f > 0 ? 1 : 0);
  }
  vg_objects_free(&d);
  vg_tracker_destroy(t);
  (void)st;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scene_mota),      cmocka_unit_test(test_predict_interval),
      cmocka_unit_test(test_votes_and_ended), cmocka_unit_test(test_per_class_and_lifecycle),
      cmocka_unit_test(test_tracker_config),  cmocka_unit_test(test_plate_swap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
