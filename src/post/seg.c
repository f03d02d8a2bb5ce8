/* seg.c - YOLO segmentation: per-detection mask coefficients times the prototype masks, cropped
 * to the box and sampled at frame resolution, kept in a side list (vg_masks). */
#include "post_internal.h"

#include <math.h>

#define SEG_MAX_FRAME 16384

void vg_masks_clear(vg_masks *m) {
  for (size_t i = 0; i < m->count; i++)
    free(m->items[i].data);
  m->count = 0;
}

void vg_masks_free(vg_masks *m) {
  vg_masks_clear(m);
  free(m->items);
  memset(m, 0, sizeof *m);
}

static vg_status masks_push(vg_masks *m, const vg_mask *k) {
  if (m->count == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    vg_mask *n = realloc(m->items, cap * sizeof *n);
    if (!n) return vg_set_error(VG_ERR_NO_MEMORY, "yolo-seg: out of memory for %zu masks", cap);
    m->items = n;
    m->cap = cap;
  }
  m->items[m->count++] = *k;
  return VG_OK;
}

typedef struct seg_ctx {
  const vg_tensor *protos;
  int b, nm, hp, wp;
  float sx, sy; /* proto pixels per model pixel */
} seg_ctx;

/* Mask logit at proto cell (u, v) for coefficients co. */
static float proto_logit(const seg_ctx *s, const float *co, int u, int v) {
  const vg_tensor *t = s->protos;
  float acc = 0.f;
  for (int k = 0; k < s->nm; k++)
    acc += co[k] * post_get(t, s->b * t->strides[0] + k * t->strides[1] + v * t->strides[2] +
                                   u * t->strides[3]);
  return acc;
}

/* Fills m (frame rectangle already set) for the object's box: logits of the proto window under the
 * box are computed once, then sampled bilinearly at each frame pixel centre. */
static vg_status fill_mask(const seg_ctx *s, const float *co, const vg_box *fb, const vg_xform *xf,
                           vg_mask *m) {
  /* proto window covering the mask rectangle */
  float mx0 = ((float)m->x - xf->off_x) * xf->scale_x + xf->pad_x;
  float my0 = ((float)m->y - xf->off_y) * xf->scale_y + xf->pad_y;
  float mx1 = ((float)(m->x + m->w) - xf->off_x) * xf->scale_x + xf->pad_x;
  float my1 = ((float)(m->y + m->h) - xf->off_y) * xf->scale_y + xf->pad_y;
  int u0 = (int)floorf(mx0 * s->sx) - 1, v0 = (int)floorf(my0 * s->sy) - 1;
  int u1 = (int)ceilf(mx1 * s->sx) + 1, v1 = (int)ceilf(my1 * s->sy) + 1;
  u0 = u0 < 0 ? 0 : u0, v0 = v0 < 0 ? 0 : v0;
  u1 = u1 > s->wp - 1 ? s->wp - 1 : u1, v1 = v1 > s->hp - 1 ? s->hp - 1 : v1;
  if (u1 < u0 || v1 < v0) return VG_OK; /* box outside the prototype area: empty mask */
  int ww = u1 - u0 + 1, wh = v1 - v0 + 1;
  float *win = malloc((size_t)ww * (size_t)wh * sizeof *win);
  if (!win) return vg_set_error(VG_ERR_NO_MEMORY, "yolo-seg: out of memory for a mask window");
  for (int v = 0; v < wh; v++)
    for (int u = 0; u < ww; u++)
      win[v * ww + u] = proto_logit(s, co, u0 + u, v0 + v);
  for (int y = 0; y < m->h; y++) {
    float fy = (float)(m->y + y) + 0.5f;
    float pv = ((fy - xf->off_y) * xf->scale_y + xf->pad_y) * s->sy - 0.5f - (float)v0;
    pv = pv < 0 ? 0 : pv > (float)(wh - 1) ? (float)(wh - 1) : pv;
    int vi = (int)pv;
    int vn = vi + 1 < wh ? vi + 1 : vi;
    float fv = pv - (float)vi;
    for (int x = 0; x < m->w; x++) {
      float fx = (float)(m->x + x) + 0.5f;
      uint8_t on = 0;
      if (fx >= fb->x1 && fx < fb->x2 && fy >= fb->y1 && fy < fb->y2) {
        float pu = ((fx - xf->off_x) * xf->scale_x + xf->pad_x) * s->sx - 0.5f - (float)u0;
        pu = pu < 0 ? 0 : pu > (float)(ww - 1) ? (float)(ww - 1) : pu;
        int ui = (int)pu;
        int un = ui + 1 < ww ? ui + 1 : ui;
        float fu = pu - (float)ui;
        float top = win[vi * ww + ui] * (1 - fu) + win[vi * ww + un] * fu;
        float bot = win[vn * ww + ui] * (1 - fu) + win[vn * ww + un] * fu;
        on = top * (1 - fv) + bot * fv > 0.f ? 255 : 0;
      }
      m->data[(size_t)y * (size_t)m->w + (size_t)x] = on;
    }
  }
  free(win);
  return VG_OK;
}

static vg_status check_seg_args(const vg_tensor *protos, int b, int frame_w, int frame_h, int nm) {
  char sh[96];
  VG_TRY(post_check_host(protos, "yolo-seg protos", true));
  if (protos->ndim != 4 || protos->shape[1] != nm || protos->shape[2] < 1 || protos->shape[3] < 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-seg: prototypes %s are not [B, %d, H, W]",
                        post_shape_str(protos, sh, sizeof sh), nm);
  if (b < 0 || b >= protos->shape[0])
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-seg: image %d outside the prototype batch %lld",
                        b, (long long)protos->shape[0]);
  if (frame_w < 1 || frame_h < 1 || frame_w > SEG_MAX_FRAME || frame_h > SEG_MAX_FRAME)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-seg: frame size %dx%d is outside 1..%d", frame_w,
                        frame_h, SEG_MAX_FRAME);
  return VG_OK;
}

static vg_status one_mask(const seg_ctx *s, const vg_tensor *out, vg_yolo_layout l, int first,
                          const post_cand *c, const vg_object *o, const vg_xform *xf, int fw,
                          int fh, vg_mask *m) {
  float co[1024];
  for (int k = 0; k < s->nm; k++)
    co[k] = post_get(out, post_yolo_off(out, l, s->b, c->index, first + k));
  float x0 = floorf(o->box.x1), y0 = floorf(o->box.y1);
  float x1 = ceilf(o->box.x2), y1 = ceilf(o->box.y2);
  x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
  x1 = x1 > (float)fw ? (float)fw : x1, y1 = y1 > (float)fh ? (float)fh : y1;
  memset(m, 0, sizeof *m);
  if (!(x1 > x0) || !(y1 > y0)) return VG_OK; /* outside the frame: empty mask */
  m->x = (int)x0, m->y = (int)y0, m->w = (int)(x1 - x0), m->h = (int)(y1 - y0);
  m->data = calloc((size_t)m->w * (size_t)m->h, 1);
  if (!m->data)
    return vg_set_error(VG_ERR_NO_MEMORY, "yolo-seg: out of memory for a %dx%d mask", m->w, m->h);
  vg_status st = fill_mask(s, co, &o->box, xf, m);
  if (st != VG_OK) free(m->data), m->data = NULL;
  return st;
}

vg_status vg_yolo_decode_seg(const vg_tensor *out, const vg_tensor *protos, int b,
                             const vg_yolo_params *p, const vg_xform *xf, int in_w, int in_h,
                             int frame_w, int frame_h, vg_objects *objs, vg_masks *masks) {
  int nm = p->num_mask_coeffs > 0 ? p->num_mask_coeffs : 32;
  if (nm > 1024)
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-seg: %d mask coefficients > 1024", nm);
  VG_TRY(check_seg_args(protos, b, frame_w, frame_h, nm));
  vg_xform id = vg_xform_identity();
  if (!xf) xf = &id;
  if (!(xf->scale_x > 0.f && xf->scale_y > 0.f))
    return vg_set_error(VG_ERR_INVALID_ARG, "yolo-seg: transform scale is not positive");
  seg_ctx s = {protos, b, nm, (int)protos->shape[2], (int)protos->shape[3], 0, 0};
  s.sx = (float)s.wp / (float)(in_w > 0 ? in_w : 4 * s.wp);
  s.sy = (float)s.hp / (float)(in_h > 0 ? in_h : 4 * s.hp);
  post_cand *c;
  size_t n;
  vg_yolo_layout l;
  int nc;
  VG_TRY(post_yolo_run(out, b, p, nm, &c, &n, &l, &nc));
  int first = (l == VG_YOLO_V5 ? 5 : 4) + nc;
  vg_status st = VG_OK;
  for (size_t i = 0; i < n && st == VG_OK; i++) {
    vg_object o = post_cand_to_object(&c[i], p, xf);
    vg_mask m;
    st = one_mask(&s, out, l, first, &c[i], &o, xf, frame_w, frame_h, &m);
    if (st != VG_OK) break;
    if (masks->count > INT32_MAX - 1)
      st = vg_set_error(VG_ERR_INVALID_ARG, "yolo-seg: too many masks");
    if (st == VG_OK) st = masks_push(masks, &m);
    if (st != VG_OK) {
      free(m.data);
      break;
    }
    o.mask_index = (int32_t)(masks->count - 1);
    st = vg_objects_push(objs, &o);
  }
  free(c);
  return st;
}
