/* ctc.c - text recognition decoding: greedy CTC over [N, T, C] with a PP-OCR style dictionary
 * (class 0 = blank, 1..n = dictionary lines, n+1 = space), and the 180-degree direction
 * classifier. */
#include "post_internal.h"
#include "post/cuda/post_text.h"

#include <math.h>

struct vg_ctc_dict {
  vg_labels *lines;
  bool use_space;
};

static vg_status dict_wrap(vg_labels *l, bool use_space, vg_ctc_dict **out) {
  vg_ctc_dict *d = calloc(1, sizeof *d);
  if (!d) {
    vg_labels_free(l);
    return vg_set_error(VG_ERR_NO_MEMORY, "ctc: out of memory");
  }
  d->lines = l;
  d->use_space = use_space;
  *out = d;
  return VG_OK;
}

vg_status vg_ctc_dict_load(const char *path, bool use_space, vg_ctc_dict **out) {
  *out = NULL;
  vg_labels *l;
  VG_TRY(vg_labels_load(path, &l));
  return dict_wrap(l, use_space, out);
}

vg_status vg_ctc_dict_parse(const char *data, size_t len, const char *name, bool use_space,
                            vg_ctc_dict **out) {
  *out = NULL;
  vg_labels *l;
  VG_TRY(vg_labels_parse(data, len, name, &l));
  return dict_wrap(l, use_space, out);
}

void vg_ctc_dict_free(vg_ctc_dict *d) {
  if (!d) return;
  vg_labels_free(d->lines);
  free(d);
}

size_t vg_ctc_dict_num_classes(const vg_ctc_dict *d) {
  return vg_labels_count(d->lines) + 1 + (d->use_space ? 1 : 0);
}

const char *vg_ctc_dict_get(const vg_ctc_dict *d, size_t c) {
  size_t n = vg_labels_count(d->lines);
  if (c == 0) return "";
  if (c <= n) return vg_labels_get(d->lines, c - 1);
  if (c == n + 1 && d->use_space) return " ";
  return NULL;
}

/* One time step of sample n as the device computes it (post_text.h): argmax in 32 lanes merged
 * by value then class, the probability check and, when want_exp, the softmax denominator, with
 * the sums in the lanes' fixed order. */
static void ctc_row(const vg_tensor *t, int n, int64_t s, bool want_exp, pt_ctc_row *r) {
  int64_t base = n * t->strides[0] + s * t->strides[1], C = t->shape[2], sc = t->strides[2];
  float lbv[PT_CTC_LANES];
  int32_t lbest[PT_CTC_LANES];
  double part[PT_CTC_LANES];
  bool in01 = true;
  for (int l = 0; l < PT_CTC_LANES; l++)
    lbv[l] = 0.f, lbest[l] = -1, part[l] = 0;
  for (int64_t c = 0; c < C; c++) {
    float v = post_get(t, base + c * sc);
    int l = (int)(c % PT_CTC_LANES);
    pt_argmax_take(v, (int32_t)c, &lbv[l], &lbest[l]);
    in01 = in01 && v >= 0.f && v <= 1.f;
    part[l] += (double)v;
  }
  r->best = -1;
  r->best_v = 0.f;
  for (int l = 0; l < PT_CTC_LANES; l++)
    pt_argmax_merge(lbv[l], lbest[l], &r->best_v, &r->best);
  float v0 = post_get(t, base);
  if (v0 != v0 || r->best < 0) r->best = 0, r->best_v = v0; /* the sequential loop's NaN rule */
  double sum = pt_ctc_tree(part);
  r->probs = in01 && fabs(sum - 1.0) <= 0.01;
  r->expsum = 0;
  if (!want_exp) return;
  for (int l = 0; l < PT_CTC_LANES; l++)
    part[l] = 0;
  for (int64_t c = 0; c < C; c++)
    part[c % PT_CTC_LANES] += pt_exp((double)post_get(t, base + c * sc) - (double)r->best_v);
  r->expsum = pt_ctc_tree(part);
}

/* Appends s to text (cap bytes incl. NUL) when it fits; returns false once full. */
static bool append_text(char *text, size_t cap, size_t *len, const char *s) {
  size_t n = strlen(s);
  if (*len + n + 1 > cap) return false;
  memcpy(text + *len, s, n + 1);
  *len += n;
  return true;
}

vg_status post_ctc_check(const vg_tensor *t, const vg_ctc_dict *d, bool host) {
  char sh[96];
  if (host) VG_TRY(post_check_host(t, "ctc", true));
  if (!d) return vg_set_error(VG_ERR_INVALID_ARG, "ctc: no dictionary");
  if (t->ndim != 3 || t->shape[0] < 1 || t->shape[1] < 1)
    return vg_set_error(VG_ERR_INVALID_ARG, "ctc: recogniser output %s is not [N, T, C]",
                        post_shape_str(t, sh, sizeof sh));
  if ((size_t)t->shape[2] != vg_ctc_dict_num_classes(d))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "ctc: recogniser output %s has %lld classes, the dictionary (%zu lines, "
                        "blank%s) gives %zu",
                        post_shape_str(t, sh, sizeof sh), (long long)t->shape[2],
                        vg_labels_count(d->lines), d->use_space ? ", space" : "",
                        vg_ctc_dict_num_classes(d));
  return VG_OK;
}

void post_ctc_text(const vg_ctc_dict *d, const int32_t *cls, int kept, double conf, char *text,
                   size_t cap, float *score) {
  text[0] = '\0';
  size_t len = 0;
  for (int i = 0; i < kept; i++)
    if (!append_text(text, cap, &len, vg_ctc_dict_get(d, (size_t)cls[i]))) break;
  if (score) *score = kept ? (float)(conf / (double)kept) : 0.f;
}

vg_status vg_ctc_decode(const vg_tensor *probs, int n, const vg_ctc_dict *d, vg_ctc_input input,
                        char *text, size_t cap, float *score) {
  VG_TRY(post_ctc_check(probs, d, true));
  if (!text || cap == 0) return vg_set_error(VG_ERR_INVALID_ARG, "ctc: no text buffer");
  if (n < 0 || n >= probs->shape[0])
    return vg_set_error(VG_ERR_INVALID_ARG, "ctc: sample %d outside the batch of %lld", n,
                        (long long)probs->shape[0]);
  if (probs->shape[1] > VG_CTC_MAX_STEPS)
    return vg_set_error(VG_ERR_INVALID_ARG, "ctc: %lld time steps, at most %d",
                        (long long)probs->shape[1], VG_CTC_MAX_STEPS);
  int T = (int)probs->shape[1];
  pt_ctc_row *rows = malloc((size_t)T * sizeof *rows);
  int32_t *cls = malloc((size_t)T * sizeof *cls);
  float *prob = malloc((size_t)T * sizeof *prob);
  if (!rows || !cls || !prob) {
    free(rows), free(cls), free(prob);
    return vg_set_error(VG_ERR_NO_MEMORY, "ctc: out of memory for %d steps", T);
  }
  bool all_probs = true;
  for (int s = 0; s < T; s++) {
    ctc_row(probs, n, s, false, &rows[s]);
    all_probs = all_probs && rows[s].probs;
  }
  bool logits = input == VG_CTC_LOGITS || (input == VG_CTC_AUTO && !all_probs);
  /* the softmax denominator only of the steps that are kept (the device computes every row's,
   * which gives the same values) */
  for (int s = 0, prev = -1; logits && s < T; prev = rows[s].best, s++)
    if (rows[s].best != 0 && rows[s].best != prev) ctc_row(probs, n, s, true, &rows[s]);
  double conf;
  int kept = pt_ctc_collapse(rows, T, logits, cls, prob, &conf);
  post_ctc_text(d, cls, kept, conf, text, cap, score);
  free(rows), free(cls), free(prob);
  return VG_OK;
}

vg_status vg_ctc_decode_objects(const vg_tensor *probs, const vg_ctc_dict *d, vg_ctc_input input,
                                vg_object *objs, size_t count) {
  VG_TRY(post_ctc_check(probs, d, true));
  if ((int64_t)count > probs->shape[0])
    return vg_set_error(VG_ERR_INVALID_ARG, "ctc: %zu objects but only %lld recognised crops",
                        count, (long long)probs->shape[0]);
  for (size_t i = 0; i < count; i++)
    VG_TRY(vg_ctc_decode(probs, (int)i, d, input, objs[i].text, sizeof objs[i].text,
                         &objs[i].text_score));
  return VG_OK;
}

vg_status vg_textdir_decode(const vg_tensor *out, int n, float threshold, bool *rotate,
                            float *score) {
  char sh[96];
  VG_TRY(post_check_host(out, "textdir", true));
  if (out->ndim != 2 || out->shape[1] != 2)
    return vg_set_error(VG_ERR_INVALID_ARG, "textdir: classifier output %s is not [N, 2]",
                        post_shape_str(out, sh, sizeof sh));
  if (n < 0 || n >= out->shape[0])
    return vg_set_error(VG_ERR_INVALID_ARG, "textdir: sample %d outside the batch of %lld", n,
                        (long long)out->shape[0]);
  float p0 = post_get(out, n * out->strides[0]),
        p1 = post_get(out, n * out->strides[0] + out->strides[1]);
  bool is180 = p1 > p0;
  *rotate = is180 && p1 > threshold;
  if (score) *score = is180 ? p1 : p0;
  return VG_OK;
}
