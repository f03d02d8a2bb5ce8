/* GPU: the CUDA text decoders against their CPU twins, which must give identical results (same
 * texts and score floats for CTC; same quads, scores and order for DBNet):
 *  - CTC on random probabilities and logits ([N, T, C], the real 6625-class dictionary and an odd
 *    small one), f32 and f16, AUTO/PROBS/LOGITS, exact ties, -inf and NaN values, a padded batch
 *    (fewer objects than rows) and a sliced (offset) tensor;
 *  - DBNet on random real-looking maps (soft rotated text blobs), odd sizes, an empty map, a full
 *    map, speckle noise with thousands of regions (max_candidates cut), batch 3, f16.
 *  - the two nodes placed on cuda (the scheduler moves their input tensor to the device and
 *    nothing back to the host) give the objects of the same nodes placed on cpu.
 * Skips (exit 77) without a GPU. */
#include "vg_test.h"
#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_post.h"
#include "vg_test_nodes.h"

#include <math.h>

static unsigned rng_state = 9001;
static unsigned rnd(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return (rng_state >> 8) & 0xffffff;
}
static double rnd01(void) {
  return (double)rnd() / 16777216.0;
}

static void put(vg_tensor *t, int64_t off, float v) {
  if (t->dtype == VG_DTYPE_F16)
    ((uint16_t *)vg_tensor_data(t))[off] = vg_f32_to_f16(v);
  else
    ((float *)vg_tensor_data(t))[off] = v;
}

/* ----------------------------------------------------------------- CTC */

/* Random recogniser output: per row either a peaked distribution (a character or the blank,
 * often repeated) or a flat one; logits = log(p) + offset. Some rows get exact ties. */
static void random_rec(vg_tensor *t, bool logits, bool specials) {
  int64_t N = t->shape[0], T = t->shape[1], C = t->shape[2];
  double *row = malloc((size_t)C * sizeof *row);
  assert_non_null(row);
  for (int64_t n = 0; n < N; n++) {
    int64_t prev = 0;
    for (int64_t s = 0; s < T; s++) {
      int64_t c = rnd() % 3 == 0 ? 0 : (rnd() % 4 == 0 ? prev : (int64_t)(rnd() % C));
      prev = c;
      double peak = 0.3 + 0.69 * rnd01(), sum = 0;
      for (int64_t k = 0; k < C; k++)
        sum += row[k] = rnd01() * 0.01;
      for (int64_t k = 0; k < C; k++)
        row[k] = row[k] / sum * (1 - peak);
      row[c] += peak;
      bool tie = rnd() % 7 == 0;
      int64_t c2 = (c + 1 + rnd() % (C - 1)) % C;
      if (tie) row[c2] = row[c];
      for (int64_t k = 0; k < C; k++) {
        float v = logits ? (float)(log(row[k]) + 2.5) : (float)row[k];
        put(t, n * T * C + s * C + k, v);
      }
      if (specials && rnd() % 5 == 0) put(t, n * T * C + s * C + rnd() % C, -INFINITY);
      if (specials && rnd() % 11 == 0) put(t, n * T * C + s * C + rnd() % C, NAN);
      if (specials && rnd() % 13 == 0) put(t, n * T * C + s * C, NAN); /* NaN in class 0 */
    }
  }
  free(row);
}

static int ctc_compare(vg_ctc_cuda *w, vg_stream s, const vg_tensor *h, const vg_ctc_dict *d,
                       vg_ctc_input in, size_t count, const char *what) {
  vg_tensor dv;
  VG_ASSERT_OK(vg_tensor_to_device(h, vg_cuda(0), NULL, s, &dv));
  VG_ASSERT_OK(vg_stream_sync(s));
  vg_object *g = calloc(count, sizeof *g), *c = calloc(count, sizeof *c);
  assert_true(g && c);
  for (size_t i = 0; i < count; i++)
    g[i] = vg_object_init(), c[i] = vg_object_init();
  VG_ASSERT_OK(vg_ctc_decode_objects_cuda(w, &dv, d, in, g, count, s));
  VG_ASSERT_OK(vg_ctc_decode_objects(h, d, in, c, count));
  int nonempty = 0;
  for (size_t i = 0; i < count; i++) {
    if (strcmp(g[i].text, c[i].text) != 0 || memcmp(&g[i].text_score, &c[i].text_score, 4) != 0)
      fail_msg("%s sample %zu: CPU '%s' %.9g, GPU '%s' %.9g", what, i, c[i].text, c[i].text_score,
               g[i].text, g[i].text_score);
    nonempty += c[i].text[0] != 0;
  }
  printf("%-40s CPU == GPU on %zu samples (%d with text)\n", what, count, nonempty);
  free(g);
  free(c);
  vg_tensor_release(&dv);
  return nonempty;
}

static void test_ctc_equals_cpu(void **st) {
  char path[4096];
  snprintf(path, sizeof path, "%s/models/ppocr/ppocr_keys_v1.txt", vg_test_root());
  vg_ctc_dict *big, *small;
  VG_ASSERT_OK(vg_ctc_dict_load(path, true, &big));
  char lines[97 * 2 + 1];
  for (int i = 0; i < 97; i++)
    lines[2 * i] = (char)('!' + i % 90), lines[2 * i + 1] = '\n';
  lines[194] = 0;
  VG_ASSERT_OK(vg_ctc_dict_parse(lines, 194, "small", false, &small)); /* 98 classes */
  vg_stream s;
  VG_ASSERT_OK(vg_stream_create(vg_cuda(0), &s));
  vg_ctc_cuda *w;
  VG_ASSERT_OK(vg_ctc_cuda_create(vg_cuda(0), &w));
  struct {
    const vg_ctc_dict *d;
    int n, t;
    vg_dtype dt;
    bool logits, specials;
    vg_ctc_input in;
    const char *what;
  } cases[] = {
      {big, 8, 40, VG_DTYPE_F32, false, false, VG_CTC_AUTO, "ctc 8x40x6625 f32 probs auto"},
      {big, 8, 40, VG_DTYPE_F32, false, false, VG_CTC_PROBS, "ctc 8x40x6625 f32 probs"},
      {big, 5, 81, VG_DTYPE_F32, true, false, VG_CTC_AUTO, "ctc 5x81x6625 f32 logits auto"},
      {big, 3, 25, VG_DTYPE_F16, true, false, VG_CTC_LOGITS, "ctc 3x25x6625 f16 logits"},
      {big, 2, 40, VG_DTYPE_F16, false, false, VG_CTC_AUTO, "ctc 2x40x6625 f16 probs auto"},
      {small, 33, 17, VG_DTYPE_F32, false, true, VG_CTC_PROBS, "ctc 33x17x98 specials probs"},
      {small, 33, 17, VG_DTYPE_F32, true, true, VG_CTC_LOGITS, "ctc 33x17x98 specials logits"},
      {small, 1, 1, VG_DTYPE_F32, false, false, VG_CTC_AUTO, "ctc 1x1x98"},
  };
  int withtext = 0;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    int64_t shape[3] = {cases[k].n, cases[k].t, (int64_t)vg_ctc_dict_num_classes(cases[k].d)};
    vg_tensor h;
    VG_ASSERT_OK(vg_tensor_alloc(cases[k].dt, 3, shape, vg_cpu(), NULL, &h));
    random_rec(&h, cases[k].logits, cases[k].specials);
    withtext += ctc_compare(w, s, &h, cases[k].d, cases[k].in, (size_t)cases[k].n, cases[k].what);
    if (cases[k].n > 2) { /* a padded batch: fewer objects than rows; and a slice */
      ctc_compare(w, s, &h, cases[k].d, cases[k].in, (size_t)cases[k].n - 2, "  padded batch");
      vg_tensor part;
      VG_ASSERT_OK(vg_tensor_slice(&h, 0, 1, cases[k].n - 1, &part));
      ctc_compare(w, s, &part, cases[k].d, cases[k].in, (size_t)cases[k].n - 1, "  slice 1..");
      vg_tensor_release(&part);
    }
    vg_tensor_release(&h);
  }
  assert_true(withtext > 20);
  vg_ctc_cuda_destroy(w);
  vg_stream_destroy(s);
  vg_ctc_dict_free(big);
  vg_ctc_dict_free(small);
}

static void test_ctc_bad_inputs(void **st) {
  vg_ctc_dict *d;
  VG_ASSERT_OK(vg_ctc_dict_parse("a\nb\n", 4, "ab", false, &d));
  vg_ctc_cuda *w;
  VG_ASSERT_OK(vg_ctc_cuda_create(vg_cuda(0), &w));
  int64_t shape[3] = {2, 4, 3};
  vg_tensor h, dv;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, shape, vg_cpu(), NULL, &h));
  vg_object o[3] = {vg_object_init(), vg_object_init(), vg_object_init()};
  assert_int_equal(vg_ctc_decode_objects_cuda(w, &h, d, VG_CTC_AUTO, o, 2, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("is not on the workspace's device");
  VG_ASSERT_OK(vg_tensor_to_device(&h, vg_cuda(0), NULL, NULL, &dv));
  assert_int_equal(vg_ctc_decode_objects_cuda(w, &dv, d, VG_CTC_AUTO, o, 3, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("3 objects but only 2");
  vg_tensor_release(&dv);
  int64_t s2[3] = {2, 4, 5};
  vg_tensor_release(&h);
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, s2, vg_cpu(), NULL, &h));
  VG_ASSERT_OK(vg_tensor_to_device(&h, vg_cuda(0), NULL, NULL, &dv));
  assert_int_equal(vg_ctc_decode_objects_cuda(w, &dv, d, VG_CTC_AUTO, o, 2, NULL),
                   VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("has 5 classes, the dictionary (2 lines, blank) gives 3");
  vg_tensor_release(&dv);
  vg_tensor_release(&h);
  vg_ctc_cuda_destroy(w);
  assert_int_equal(vg_ctc_cuda_create(vg_cuda(99), &w), VG_ERR_DEVICE);
  assert_int_equal(vg_ctc_cuda_create(vg_cpu(), &w), VG_ERR_INVALID_ARG);
  vg_ctc_dict_free(d);
}

/* ----------------------------------------------------------------- DBNet */

/* A soft rotated text blob (sigmoid of the distance to its border), added onto the map. */
static void blob(vg_tensor *t, int64_t base, int w, int h, double cx, double cy, double bw,
                 double bh, double deg, double peak) {
  double a = deg * M_PI / 180, ux = cos(a), uy = sin(a);
  int r = (int)(fmax(bw, bh) / 2 + 4);
  for (int y = (int)cy - r; y <= (int)cy + r; y++)
    for (int x = (int)cx - r; x <= (int)cx + r; x++) {
      if (x < 0 || y < 0 || x >= w || y >= h) continue;
      double dx = x - cx, dy = y - cy;
      double du = bw / 2 - fabs(dx * ux + dy * uy), dv = bh / 2 - fabs(-dx * uy + dy * ux);
      double v = peak / (1 + exp(-2.0 * fmin(du, dv)));
      float *p = t->dtype == VG_DTYPE_F32 ? (float *)vg_tensor_data(t) + base + y * w + x : NULL;
      if (p && v > *p) *p = (float)v;
    }
}

static void to_f16(const vg_tensor *f, vg_tensor *h) {
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F16, f->ndim, f->shape, vg_cpu(), NULL, h));
  size_t n = (size_t)vg_tensor_numel(f);
  for (size_t i = 0; i < n; i++)
    ((uint16_t *)vg_tensor_data(h))[i] = vg_f32_to_f16(((const float *)vg_tensor_data(f))[i]);
}

static size_t db_compare(vg_dbnet_cuda *w, vg_stream s, const vg_tensor *h,
                         const vg_dbnet_params *p, const char *what) {
  vg_tensor dv;
  VG_ASSERT_OK(vg_tensor_to_device(h, vg_cuda(0), NULL, s, &dv));
  VG_ASSERT_OK(vg_stream_sync(s));
  int B = h->ndim == 4 ? (int)h->shape[0] : 1;
  size_t total = 0;
  for (int b = 0; b < B; b++) {
    vg_xform xf = {0.5f + 0.25f * (float)b, 0.5f, 3.f, 7.f, 0, 0};
    vg_objects g = {0}, c = {0};
    VG_ASSERT_OK(vg_dbnet_decode_cuda(w, &dv, b, p, &xf, 1920, 1080, &g, s));
    VG_ASSERT_OK(vg_dbnet_decode(h, b, p, &xf, 1920, 1080, &c));
    if (g.count != c.count)
      fail_msg("%s image %d: CPU %zu quads, GPU %zu", what, b, c.count, g.count);
    for (size_t i = 0; i < c.count; i++) {
      const vg_object *a = &c.items[i], *o = &g.items[i];
      if (memcmp(&a->quad, &o->quad, sizeof a->quad) != 0 || a->score != o->score ||
          memcmp(&a->box, &o->box, sizeof a->box) != 0)
        fail_msg("%s image %d quad %zu: CPU (%g,%g)(%g,%g)(%g,%g)(%g,%g) %.9g, GPU "
                 "(%g,%g)(%g,%g)(%g,%g)(%g,%g) %.9g",
                 what, b, i, a->quad.x[0], a->quad.y[0], a->quad.x[1], a->quad.y[1], a->quad.x[2],
                 a->quad.y[2], a->quad.x[3], a->quad.y[3], a->score, o->quad.x[0], o->quad.y[0],
                 o->quad.x[1], o->quad.y[1], o->quad.x[2], o->quad.y[2], o->quad.x[3], o->quad.y[3],
                 o->score);
    }
    total += c.count;
    vg_objects_free(&g);
    vg_objects_free(&c);
  }
  printf("%-40s CPU == GPU on %zu quads\n", what, total);
  vg_tensor_release(&dv);
  return total;
}

static void random_map(vg_tensor *t, int blobs) {
  int B = t->ndim == 4 ? (int)t->shape[0] : 1;
  int h = (int)t->shape[t->ndim - 2], w = (int)t->shape[t->ndim - 1];
  memset(vg_tensor_data(t), 0, (size_t)vg_tensor_numel(t) * sizeof(float));
  for (int b = 0; b < B; b++)
    for (int i = 0; i < blobs; i++) {
      double bw = 6 + rnd01() * w * 0.3, bh = 3 + rnd01() * 30;
      blob(t, (int64_t)b * w * h, w, h, rnd01() * w, rnd01() * h, bw, bh,
           rnd() % 3 == 0 ? (rnd01() - 0.5) * 60 : 0, 0.55 + 0.45 * rnd01());
    }
}

static void test_dbnet_equals_cpu(void **st) {
  vg_stream s;
  VG_ASSERT_OK(vg_stream_create(vg_cuda(0), &s));
  vg_dbnet_cuda *w;
  VG_ASSERT_OK(vg_dbnet_cuda_create(vg_cuda(0), &w));
  vg_dbnet_params p;
  vg_dbnet_params_default(&p);
  size_t total = 0;
  /* real-looking maps: 640x640, odd sizes, batch 3, and the f16 twin of each */
  int sizes[][3] = {{1, 640, 640}, {1, 177, 333}, {3, 96, 1001}, {2, 960, 544}};
  for (int k = 0; k < 4; k++) {
    int64_t shape[4] = {sizes[k][0], 1, sizes[k][1], sizes[k][2]};
    vg_tensor t, t16;
    VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, shape, vg_cpu(), NULL, &t));
    for (int rep = 0; rep < 3; rep++) {
      random_map(&t, 5 + 10 * rep);
      char what[64];
      snprintf(what, sizeof what, "dbnet %dx%dx%d blobs %d", sizes[k][0], sizes[k][1], sizes[k][2],
               5 + 10 * rep);
      total += db_compare(w, s, &t, &p, what);
    }
    to_f16(&t, &t16);
    total += db_compare(w, s, &t16, &p, "  same, f16");
    vg_tensor_release(&t16);
    vg_tensor_release(&t);
  }
  assert_true(total > 50);
  /* empty map, full map, [H, W] shape, 1x1 */
  int64_t s2[2] = {123, 77};
  vg_tensor e;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 2, s2, vg_cpu(), NULL, &e));
  memset(vg_tensor_data(&e), 0, (size_t)vg_tensor_numel(&e) * sizeof(float));
  assert_int_equal(db_compare(w, s, &e, &p, "dbnet empty 123x77"), 0);
  for (size_t i = 0; i < (size_t)vg_tensor_numel(&e); i++)
    ((float *)vg_tensor_data(&e))[i] = 0.7f + 0.2f * (float)(i % 3);
  assert_int_equal(db_compare(w, s, &e, &p, "dbnet full 123x77"), 1);
  vg_tensor_release(&e);
  int64_t s1[2] = {1, 1};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 2, s1, vg_cpu(), NULL, &e));
  ((float *)vg_tensor_data(&e))[0] = 1.f;
  db_compare(w, s, &e, &p, "dbnet 1x1");
  vg_tensor_release(&e);
  /* speckle noise: thousands of small regions; the max_candidates cut must pick the same ones */
  int64_t s3[4] = {1, 1, 480, 640};
  vg_tensor n;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, s3, vg_cpu(), NULL, &n));
  float *nm = vg_tensor_data(&n);
  for (size_t i = 0; i < (size_t)vg_tensor_numel(&n); i++)
    nm[i] = rnd() % 3 == 0 ? 0.61f + 0.39f * (float)rnd01() : 0.1f;
  p.min_size = 1.f;
  p.box_thresh = 0.3f;
  db_compare(w, s, &n, &p, "dbnet speckles, max_candidates 1000");
  p.max_candidates = 100000;
  db_compare(w, s, &n, &p, "dbnet speckles, max_candidates 100000");
  p.max_candidates = 7;
  db_compare(w, s, &n, &p, "dbnet speckles, max_candidates 7");
  vg_tensor_release(&n);
  vg_dbnet_cuda_destroy(w);
  vg_stream_destroy(s);
}

static void test_dbnet_bad_inputs(void **st) {
  vg_dbnet_cuda *w;
  VG_ASSERT_OK(vg_dbnet_cuda_create(vg_cuda(0), &w));
  vg_dbnet_params p;
  vg_dbnet_params_default(&p);
  int64_t shape[4] = {1, 2, 8, 8};
  vg_tensor h, dv;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, shape, vg_cpu(), NULL, &h));
  vg_objects o = {0};
  assert_int_equal(vg_dbnet_decode_cuda(w, &h, 0, &p, NULL, 0, 0, &o, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("is not on the workspace's device");
  VG_ASSERT_OK(vg_tensor_to_device(&h, vg_cuda(0), NULL, NULL, &dv));
  assert_int_equal(vg_dbnet_decode_cuda(w, &dv, 0, &p, NULL, 0, 0, &o, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("[1,2,8,8] is not [B,1,H,W]");
  vg_tensor_release(&dv);
  vg_tensor_release(&h);
  int64_t s2[4] = {2, 1, 8, 8};
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, s2, vg_cpu(), NULL, &h));
  VG_ASSERT_OK(vg_tensor_to_device(&h, vg_cuda(0), NULL, NULL, &dv));
  assert_int_equal(vg_dbnet_decode_cuda(w, &dv, 2, &p, NULL, 0, 0, &o, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("image 2 outside the batch of 2");
  vg_xform bad = {0, 1, 0, 0, 0, 0};
  assert_int_equal(vg_dbnet_decode_cuda(w, &dv, 0, &p, &bad, 0, 0, &o, NULL), VG_ERR_INVALID_ARG);
  VG_ASSERT_MSG_HAS("scale is not positive");
  vg_tensor_release(&dv);
  vg_tensor_release(&h);
  vg_dbnet_cuda_destroy(w);
  assert_int_equal(vg_dbnet_cuda_create(vg_cuda(99), &w), VG_ERR_DEVICE);
}

/* ----------------------------------------------------------------- the nodes, through graphs */

/* One packet through `in -> <type>(device, params) -> out`; the output packet and the copies. */
static vg_packet *run_on(const char *type, const char *device, const char *params, vg_packet *in,
                         uint64_t *to_device, uint64_t *to_host) {
  char yaml[2048];
  snprintf(yaml, sizeof yaml,
           "nodes:\n  - {id: in, type: input}\n"
           "  - {id: n, type: %s, device: %s, params: %s}\n"
           "  - {id: out, type: output}\nedges: [in -> n, n -> out]\n",
           type, device, params);
  vg_graph *g = NULL;
  VG_ASSERT_OK(vg_graph_load_string(yaml, "gpu.yaml", NULL, 0, vg_test_registry(), &g));
  const char *ids[] = {"in"};
  vg_run *r = NULL;
  VG_ASSERT_OK(vg_run_once(g, NULL, ids, &in, 1, 60000, &r));
  vg_packet *out = NULL;
  VG_ASSERT_OK(vg_run_output(r, "out", &out));
  vg_run_summary sm;
  VG_ASSERT_OK(vg_run_get_summary(r, &sm));
  *to_device = sm.copies_to_device;
  *to_host = sm.copies_to_host;
  vg_run_summary_free(&sm);
  vg_run_destroy(r);
  vg_graph_free(g);
  return out;
}

static void test_nodes_cuda_vs_cpu(void **st) {
  /* text_detect_decode: a 544x960 map as det gives it */
  int64_t shape[4] = {1, 1, 544, 960};
  vg_tensor m;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 4, shape, vg_cpu(), NULL, &m));
  random_map(&m, 12);
  vg_packet *in;
  VG_ASSERT_OK(vg_packet_new(&in));
  vg_packet_set_stream(in, 0, 1);
  VG_ASSERT_OK(vg_packet_set_tensor(in, "det_prob", &m));
  vg_xform xf = {0.5f, 0.5f, 0, 0, 0, 0};
  VG_ASSERT_OK(vg_packet_set_xforms(in, &xf, 1));
  vg_tensor_release(&m);
  uint64_t dev_in, dev_out, cpu_in, cpu_out;
  const char *dp = "{input: det_prob, min_height: 4}";
  vg_packet *g = run_on("text_detect_decode", "cuda", dp, in, &dev_in, &dev_out);
  vg_packet *c = run_on("text_detect_decode", "cpu", dp, in, &cpu_in, &cpu_out);
  vg_packet_unref(in);
  printf("text_detect_decode on cuda: %llu copies to the device, %llu to the host\n",
         (unsigned long long)dev_in, (unsigned long long)dev_out);
  assert_true(dev_in >= 1);
  assert_int_equal(dev_out, 0);
  const vg_objects *a = vg_packet_objects(g), *b = vg_packet_objects(c);
  assert_int_equal(a->count, b->count);
  assert_true(b->count > 0);
  for (size_t i = 0; i < a->count; i++)
    if (memcmp(&a->items[i].quad, &b->items[i].quad, sizeof a->items[i].quad) != 0 ||
        a->items[i].score != b->items[i].score)
      fail_msg("text_detect_decode object %zu differs between cuda and cpu", i);
  printf("KEY text_detect_decode cuda == cpu on %zu quads\n", a->count);
  vg_packet_unref(g);
  vg_packet_unref(c);

  /* text_recognize_decode: 6 objects, a padded [8, 40, 6625] output */
  char dict[4200], params[4400];
  snprintf(dict, sizeof dict, "%s/models/ppocr/ppocr_keys_v1.txt", vg_test_root());
  snprintf(params, sizeof params, "{input: rec_probs, dict: '%s', min_score: 0, min_length: 0}",
           dict);
  int64_t rs[3] = {8, 40, 6625};
  vg_tensor r;
  VG_ASSERT_OK(vg_tensor_alloc(VG_DTYPE_F32, 3, rs, vg_cpu(), NULL, &r));
  random_rec(&r, false, false);
  VG_ASSERT_OK(vg_packet_new(&in));
  vg_packet_set_stream(in, 0, 2);
  VG_ASSERT_OK(vg_packet_set_tensor(in, "rec_probs", &r));
  vg_tensor_release(&r);
  vg_objects *objs;
  VG_ASSERT_OK(vg_packet_objects_edit(in, &objs));
  for (int i = 0; i < 6; i++) {
    vg_object o = vg_object_init();
    o.box = (vg_box){10.f * i, 5, 10.f * i + 8, 9};
    VG_ASSERT_OK(vg_objects_push(objs, &o));
  }
  g = run_on("text_recognize_decode", "cuda", params, in, &dev_in, &dev_out);
  c = run_on("text_recognize_decode", "cpu", params, in, &cpu_in, &cpu_out);
  vg_packet_unref(in);
  printf("text_recognize_decode on cuda: %llu copies to the device, %llu to the host\n",
         (unsigned long long)dev_in, (unsigned long long)dev_out);
  assert_true(dev_in >= 1);
  assert_int_equal(dev_out, 0);
  a = vg_packet_objects(g), b = vg_packet_objects(c);
  assert_int_equal(a->count, b->count);
  int withtext = 0;
  for (size_t i = 0; i < a->count; i++) {
    if (strcmp(a->items[i].text, b->items[i].text) != 0 ||
        a->items[i].text_score != b->items[i].text_score)
      fail_msg("text_recognize_decode object %zu: cuda '%s' %.9g, cpu '%s' %.9g", i,
               a->items[i].text, a->items[i].text_score, b->items[i].text, b->items[i].text_score);
    withtext += a->items[i].text[0] != 0;
  }
  assert_true(withtext > 0);
  printf("KEY text_recognize_decode cuda == cpu on %zu objects (%d read)\n", a->count, withtext);
  vg_packet_unref(g);
  vg_packet_unref(c);
}

int main(void) {
  vg_test_require_gpu();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ctc_equals_cpu),    cmocka_unit_test(test_ctc_bad_inputs),
      cmocka_unit_test(test_dbnet_equals_cpu),  cmocka_unit_test(test_dbnet_bad_inputs),
      cmocka_unit_test(test_nodes_cuda_vs_cpu),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
