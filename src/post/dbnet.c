/* dbnet.c - PP-OCR text detection (DBNet) decoding, following PP-OCR's DBPostProcess: threshold
 * the probability map, take 8-connected regions, minimum-area rectangle, box score (mean
 * probability inside the rectangle), unclip (grow by area * ratio / perimeter), rectangle again,
 * then map to frame coordinates, order clockwise from top-left and sort in reading order. */
#include "post_internal.h"
#include "post_geom.h"

#include <math.h>

#define DB_MAX_SIDE 16384

void vg_dbnet_params_default(vg_dbnet_params *p) {
  p->thresh = 0.3f;
  p->box_thresh = 0.6f;
  p->unclip_ratio = 1.5f;
  p->min_size = 3.f;
  p->max_candidates = 1000;
}

vg_status vg_dbnet_params_from_config(const vg_cnode *map, vg_dbnet_params *p) {
  vg_dbnet_params_default(p);
  if (!map) return VG_OK;
  double d;
  int64_t v;
  VG_TRY(vg_cfg_double_range(map, "thresh", false, p->thresh, 0, 1, &d));
  p->thresh = (float)d;
  VG_TRY(vg_cfg_double_range(map, "box_thresh", false, p->box_thresh, 0, 1, &d));
  p->box_thresh = (float)d;
  VG_TRY(vg_cfg_double_range(map, "unclip_ratio", false, p->unclip_ratio, 0, 10, &d));
  p->unclip_ratio = (float)d;
  VG_TRY(vg_cfg_double_range(map, "min_size", false, p->min_size, 0, 10000, &d));
  p->min_size = (float)d;
  VG_TRY(vg_cfg_int_range(map, "max_candidates", false, p->max_candidates, 1, 100000, &v));
  p->max_candidates = (int)v;
  return VG_OK;
}

static float map_at(const post_db_map *m, int x, int y) {
  return post_get(m->t, m->base + y * m->sy + x * m->sx);
}

/* Mean probability over the pixels inside the quad (PP-OCR's box_score_fast: integer corner
 * coordinates, pixels on the edges included), summed in fixed point as on the device. */
static float box_score(const post_db_map *m, const pt_pt q[4]) {
  pt_scorebox sb;
  pt_score_box(q, m->w, m->h, &sb);
  int64_t sum = 0, cnt = 0;
  for (int y = sb.y0; y <= sb.y1; y++)
    for (int x = sb.x0; x <= sb.x1; x++)
      if (pt_score_inside(&sb, x, y)) {
        sum += pt_score_fix(map_at(m, x, y));
        cnt++;
      }
  return pt_score_mean(sum, cnt);
}

typedef struct db_work {
  uint8_t *seen;
  int32_t *queue;
  int32_t *rmin, *rmax;
  pt_pt *pts, *hull;
} db_work;

/* Flood fill of the region at (sx, sy): per-row extreme x into rmin/rmax; returns its row span. */
static void flood(const post_db_map *m, const uint8_t *on, db_work *w, int sx, int sy, int *ylo,
                  int *yhi) {
  size_t head = 0, tail = 0;
  w->queue[tail++] = sy * m->w + sx;
  w->seen[sy * m->w + sx] = 1;
  *ylo = *yhi = sy;
  w->rmin[sy] = w->rmax[sy] = sx;
  while (head < tail) {
    int idx = w->queue[head++], x = idx % m->w, y = idx / m->w;
    if (y < *ylo) *ylo = y, w->rmin[y] = w->rmax[y] = x;
    if (y > *yhi) *yhi = y, w->rmin[y] = w->rmax[y] = x;
    if (x < w->rmin[y]) w->rmin[y] = x;
    if (x > w->rmax[y]) w->rmax[y] = x;
    for (int dy = -1; dy <= 1; dy++)
      for (int dx = -1; dx <= 1; dx++) {
        int nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= m->w || ny >= m->h) continue;
        int ni = ny * m->w + nx;
        if (!on[ni] || w->seen[ni]) continue;
        w->seen[ni] = 1;
        w->queue[tail++] = ni;
      }
  }
}

vg_status post_dbnet_emit(const double q[8], float score, const vg_xform *xf, int fw, int fh,
                          vg_objects *objs) {
  post_pt f[4], o[4];
  for (int i = 0; i < 4; i++) {
    float fx, fy;
    vg_xform_to_frame(xf, (float)q[2 * i], (float)q[2 * i + 1], &fx, &fy);
    double x = rint(fx), y = rint(fy);
    if (fw > 0) x = fmin(fmax(x, 0), fw - 1);
    if (fh > 0) y = fmin(fmax(y, 0), fh - 1);
    f[i] = (post_pt){x, y};
  }
  post_order_clockwise(f, o);
  if ((int)pt_side(&o[0], &o[1]) <= 3 || (int)pt_side(&o[0], &o[3]) <= 3) return VG_OK;
  vg_object ob = vg_object_init();
  ob.has_quad = true;
  ob.box = (vg_box){INFINITY, INFINITY, -INFINITY, -INFINITY};
  for (int i = 0; i < 4; i++) {
    ob.quad.x[i] = (float)o[i].x, ob.quad.y[i] = (float)o[i].y;
    ob.box.x1 = fminf(ob.box.x1, ob.quad.x[i]), ob.box.y1 = fminf(ob.box.y1, ob.quad.y[i]);
    ob.box.x2 = fmaxf(ob.box.x2, ob.quad.x[i]), ob.box.y2 = fmaxf(ob.box.y2, ob.quad.y[i]);
  }
  ob.score = score;
  ob.class_id = 0;
  strcpy(ob.label, "text");
  return vg_objects_push(objs, &ob);
}

/* One region: rectangle, score, unclip, rectangle, emit (the steps post_dbnet.cu runs per region
 * on the device, with the same post_text.h functions). */
static vg_status region(const post_db_map *m, const vg_dbnet_params *p, db_work *w, int ylo,
                        int yhi, const vg_xform *xf, int fw, int fh, vg_objects *objs) {
  pt_pt q[4], g[4], q2[4];
  int nh = pt_hull_rows(w->rmin + ylo, w->rmax + ylo, ylo, yhi - ylo + 1, w->pts, w->hull);
  if (pt_mini_box(w->hull, nh, q) < p->min_size) return VG_OK;
  float score = box_score(m, q);
  if (score < p->box_thresh) return VG_OK;
  pt_unclip(q, p->unclip_ratio, g);
  pt_sort_xy(g, 4);
  nh = pt_hull_sorted(g, 4, w->hull);
  if (pt_mini_box(w->hull, nh, q2) < p->min_size + 2) return VG_OK;
  double d[8];
  for (int i = 0; i < 4; i++)
    d[2 * i] = q2[i].x, d[2 * i + 1] = q2[i].y;
  return post_dbnet_emit(d, score, xf, fw, fh, objs);
}

vg_status post_dbnet_check_map(const vg_tensor *t, int b, bool host, post_db_map *m) {
  char sh[96];
  if (host) VG_TRY(post_check_host(t, "dbnet", true));
  if (t->ndim == 4 && t->shape[1] == 1) {
    if (b < 0 || b >= t->shape[0])
      return vg_set_error(VG_ERR_INVALID_ARG, "dbnet: image %d outside the batch of %lld", b,
                          (long long)t->shape[0]);
    if (t->shape[2] > DB_MAX_SIDE || t->shape[3] > DB_MAX_SIDE) goto bad;
    *m = (post_db_map){
        t, b * t->strides[0], t->strides[2], t->strides[3], (int)t->shape[3], (int)t->shape[2]};
  } else if (t->ndim == 2 && b == 0) {
    if (t->shape[0] > DB_MAX_SIDE || t->shape[1] > DB_MAX_SIDE) goto bad;
    *m = (post_db_map){t, 0, t->strides[0], t->strides[1], (int)t->shape[1], (int)t->shape[0]};
  } else {
    goto bad;
  }
  if (m->w < 1 || m->h < 1) goto bad;
  return VG_OK;
bad:
  return vg_set_error(VG_ERR_INVALID_ARG,
                      "dbnet: probability map %s is not [B,1,H,W] or [H,W] with sides 1..%d",
                      post_shape_str(t, sh, sizeof sh), DB_MAX_SIDE);
}

vg_status post_dbnet_check_args(const vg_dbnet_params *p, const vg_xform **xf, vg_xform *id) {
  if (!p) return vg_set_error(VG_ERR_INVALID_ARG, "dbnet: no parameters");
  *id = vg_xform_identity();
  if (!*xf) *xf = id;
  if (!((*xf)->scale_x > 0.f && (*xf)->scale_y > 0.f))
    return vg_set_error(VG_ERR_INVALID_ARG, "dbnet: transform scale is not positive");
  return VG_OK;
}

static int cmp_reading(const void *pa, const void *pb) {
  const vg_object *a = pa, *b = pb;
  if (a->quad.y[0] != b->quad.y[0]) return a->quad.y[0] < b->quad.y[0] ? -1 : 1;
  return a->quad.x[0] < b->quad.x[0] ? -1 : a->quad.x[0] > b->quad.x[0];
}

/* PP-OCR's sorted_boxes: by top-left y then x, then boxes on one line (|dy| < 10) left to right. */
void post_dbnet_reading_order(vg_object *o, size_t n) {
  qsort(o, n, sizeof *o, cmp_reading);
  for (size_t i = 0; i + 1 < n; i++)
    for (size_t j = i + 1; j-- > 0;) {
      if (fabsf(o[j + 1].quad.y[0] - o[j].quad.y[0]) < 10 && o[j + 1].quad.x[0] < o[j].quad.x[0]) {
        vg_object t = o[j];
        o[j] = o[j + 1], o[j + 1] = t;
      } else {
        break;
      }
    }
}

vg_status vg_dbnet_decode(const vg_tensor *prob, int b, const vg_dbnet_params *p,
                          const vg_xform *xf, int frame_w, int frame_h, vg_objects *objs) {
  post_db_map m = {0};
  VG_TRY(post_dbnet_check_map(prob, b, true, &m));
  vg_xform id;
  VG_TRY(post_dbnet_check_args(p, &xf, &id));
  size_t npx = (size_t)m.w * (size_t)m.h;
  uint8_t *on = malloc(npx);
  db_work w = {calloc(npx, 1),
               malloc(npx * sizeof(int32_t)),
               malloc((size_t)m.h * sizeof(int32_t)),
               malloc((size_t)m.h * sizeof(int32_t)),
               malloc((size_t)m.h * 2 * sizeof(pt_pt)),
               malloc(((size_t)m.h * 4 + 16) * sizeof(pt_pt))};
  vg_status s = VG_OK;
  if (!on || !w.seen || !w.queue || !w.rmin || !w.rmax || !w.pts || !w.hull) {
    s = vg_set_error(VG_ERR_NO_MEMORY, "dbnet: out of memory for a %dx%d map", m.w, m.h);
    goto done;
  }
  for (int y = 0; y < m.h; y++)
    for (int x = 0; x < m.w; x++)
      on[(size_t)y * m.w + x] = map_at(&m, x, y) > p->thresh;
  size_t first = objs->count;
  int regions = 0;
  for (int y = 0; y < m.h && s == VG_OK && regions < p->max_candidates; y++)
    for (int x = 0; x < m.w && s == VG_OK && regions < p->max_candidates; x++) {
      size_t i = (size_t)y * m.w + x;
      if (!on[i] || w.seen[i]) continue;
      int ylo, yhi;
      flood(&m, on, &w, x, y, &ylo, &yhi);
      regions++;
      s = region(&m, p, &w, ylo, yhi, xf, frame_w, frame_h, objs);
    }
  if (s == VG_OK) post_dbnet_reading_order(objs->items + first, objs->count - first);
done:
  free(on);
  free(w.seen);
  free(w.queue);
  free(w.rmin);
  free(w.rmax);
  free(w.pts);
  free(w.hull);
  return s;
}
