/* buckets.c - stable input shapes (issue 12): a model with shape buckets pads its input's batch
 * (axis 0) and width (last axis) up to a few fixed sizes with zeros, runs batches above the
 * largest bucket in chunks, and hands back outputs cut to the real rows, so padded rows never
 * reach a decoder. Every bucket can be run once before the first frame (warm-up), so that no
 * frame pays ONNX Runtime's first run at a new shape (algorithm search, allocations). First runs
 * at new shapes are counted and logged either way. */
#include "infer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHUNKS 256

int64_t vg_buckets_width(const vg_shape_buckets *b, int64_t w) {
  for (int i = 0; b && i < b->nwidth; i++)
    if (b->width[i] >= w) return b->width[i];
  return w;
}

int vg_buckets_plan(const vg_shape_buckets *b, int64_t n, int64_t *rows, int64_t *padded,
                    int cap) {
  if (n <= 0) return 0;
  if (!b || b->nbatch == 0) {
    if (cap < 1) return -1;
    rows[0] = padded[0] = n;
    return 1;
  }
  int64_t big = b->batch[b->nbatch - 1];
  int k = 0;
  for (; n > big; n -= big, k++) {
    if (k >= cap) return -1;
    rows[k] = padded[k] = big;
  }
  if (k >= cap) return -1;
  int i = 0;
  while (b->batch[i] < n)
    i++;
  rows[k] = n;
  padded[k] = b->batch[i];
  return k + 1;
}

bool vg_buckets_active(const vg_model *m) {
  const vg_shape_buckets *b = &m->spec.buckets;
  if (!b->nbatch && !b->nwidth) return false;
  return b->enabled == 1 || (b->enabled == -1 && m->report.used != VG_PROVIDER_CPU);
}

const vg_shape_buckets *vg_model_buckets(const vg_model *m) {
  return m && vg_buckets_active(m) ? &m->spec.buckets : NULL;
}

static bool warmup_wanted(const vg_model *m) {
  return vg_buckets_active(m) &&
         (m->spec.warmup == 1 || (m->spec.warmup == -1 && m->report.used != VG_PROVIDER_CPU));
}

static void list_str(const int64_t *v, int n, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = 0;
  for (int i = 0; i < n && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? "," : "", (long long)v[i]);
}

/* spec.fit_batch: a fixed batch B becomes the only batch bucket, on every provider. */
static void fit_fixed_batch(vg_model *m) {
  vg_shape_buckets *b = &m->spec.buckets;
  const vg_model_io *io = m->nin == 1 ? &m->inputs[0] : NULL;
  if (!m->spec.fit_batch || !io || io->ndim < 1 || io->shape[0] <= 0) return;
  int64_t fixed = io->shape[0];
  if (b->nbatch == 1 && b->batch[0] == fixed && b->enabled == 1) return;
  char was[96] = "";
  list_str(b->batch, b->nbatch, was, sizeof was);
  b->nbatch = 1;
  b->batch[0] = fixed;
  b->enabled = 1;
  if (was[0])
    vg_log(VG_LOG_INFO, "infer", NULL,
           "model '%s': input '%s' has a fixed batch of %lld: batch buckets %s replaced by %lld; "
           "a larger batch runs in chunks of %lld (a model exported with a dynamic batch runs it "
           "at once)",
           m->spec.name, io->name, (long long)fixed, was, (long long)fixed, (long long)fixed);
  else
    vg_log(VG_LOG_DEBUG, "infer", NULL,
           "model '%s': input '%s' has a fixed batch of %lld: other batches run in chunks of it",
           m->spec.name, io->name, (long long)fixed);
}

vg_status vg_buckets_check(vg_model *m) {
  fit_fixed_batch(m);
  const vg_shape_buckets *b = &m->spec.buckets;
  vg_model_report *r = &m->report;
  r->buckets_on = vg_buckets_active(m);
  r->buckets[0] = 0;
  if (!b->nbatch && !b->nwidth) return VG_OK;
  if (m->nin != 1)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': shape buckets need a model with one input (it has %d)",
                        m->spec.name, m->nin);
  const vg_model_io *io = &m->inputs[0];
  if (io->ndim < 1 || (b->nwidth && io->ndim < 2))
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': input '%s' has %d dimensions: no axis to pad for buckets",
                        m->spec.name, io->name, io->ndim);
  if (b->nbatch && io->shape[0] >= 0 && io->shape[0] < b->batch[b->nbatch - 1])
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': input '%s' has a fixed batch of %lld: batch buckets up to "
                        "%lld do not fit",
                        m->spec.name, io->name, (long long)io->shape[0],
                        (long long)b->batch[b->nbatch - 1]);
  if (b->nwidth && io->shape[io->ndim - 1] >= 0)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': input '%s' has a fixed last axis (%lld): width buckets need "
                        "a dynamic one",
                        m->spec.name, io->name, (long long)io->shape[io->ndim - 1]);
  char bl[96] = "", wl[96] = "";
  list_str(b->batch, b->nbatch, bl, sizeof bl);
  list_str(b->width, b->nwidth, wl, sizeof wl);
  snprintf(r->buckets, sizeof r->buckets, "%s%s%s%s%s (%s)", b->nbatch ? "batch " : "", bl,
           b->nbatch && b->nwidth ? " x " : "", b->nwidth ? "width " : "", wl,
           r->buckets_on ? "on" : b->enabled == 0 ? "off" : "off on the cpu provider");
  return VG_OK;
}

/* ----------------------------------------------------------------- shapes seen */

/* Index of the calling thread among those that ran the model (the last one when full). */
static int thread_index(vg_model *m) {
  pthread_t me = pthread_self();
  for (int i = 0; i < m->nthreads; i++)
    if (pthread_equal(m->threads[i], me)) return i;
  int cap = (int)(sizeof m->threads / sizeof m->threads[0]);
  if (m->nthreads < cap) m->threads[m->nthreads++] = me;
  return m->nthreads - 1;
}

static void shape_key(vg_model *m, const vg_tensor *x, int64_t *key) {
  memset(key, 0, sizeof(int64_t) * (VG_MAX_DIMS + 2));
  key[0] = x->ndim;
  for (int d = 0; d < x->ndim; d++)
    key[1 + d] = x->shape[d];
  key[VG_MAX_DIMS + 1] = thread_index(m);
}

bool vg_shape_first_seen(vg_model *m, const vg_tensor *x) {
  int64_t key[VG_MAX_DIMS + 2];
  shape_key(m, x, key);
  for (int i = 0; i < m->nseen; i++)
    if (memcmp(m->seen[i], key, sizeof key) == 0) return false;
  if (m->nseen < (int)(sizeof m->seen / sizeof m->seen[0]))
    memcpy(m->seen[m->nseen++], key, sizeof key);
  return true;
}

/* ----------------------------------------------------------------- warm-up */

/* One run of zeros at shape (ndim, shape) on the model's input device. */
static vg_status run_zeros(vg_model *m, vg_dtype dt, int ndim, const int64_t *shape) {
  vg_device dev = m->bind ? m->dev : vg_cpu();
  vg_tensor z = {0};
  VG_TRY(vg_tensor_alloc(dt, ndim, shape, dev, NULL, &z));
  vg_status st = vg_memset_async(vg_tensor_data(&z), dev, 0, vg_tensor_nbytes(&z), NULL);
  if (st == VG_OK && dev.kind == VG_DEVICE_CUDA) st = vg_stream_sync(NULL);
  const vg_tensor *ord[1] = {&z};
  if (st == VG_OK) st = vg_model_run_checked(m, ord, NULL);
  vg_tensor_release(&z);
  return st;
}

/* Runs every bucket of the family of `tmpl` (its dims other than the bucketed ones). */
static vg_status warm_family(vg_model *m, vg_dtype dt, int ndim, const int64_t *tmpl) {
  const vg_shape_buckets *b = &m->spec.buckets;
  int64_t shape[VG_MAX_DIMS];
  memcpy(shape, tmpl, sizeof shape[0] * (size_t)ndim);
  int nb = b->nbatch ? b->nbatch : 1, nw = b->nwidth ? b->nwidth : 1;
  int64_t t0 = vg_now_ns();
  m->warming = true;
  vg_status st = VG_OK;
  for (int i = 0; i < nb && st == VG_OK; i++)
    for (int j = 0; j < nw && st == VG_OK; j++) {
      if (b->nbatch) shape[0] = b->batch[i];
      if (b->nwidth) shape[ndim - 1] = b->width[j];
      /* with CUDA graphs ONNX Runtime captures at a shape's second run: both at warm-up */
      for (int rep = 0; rep < (m->graph ? 2 : 1) && st == VG_OK; rep++)
        st = run_zeros(m, dt, ndim, shape);
      if (!vg_buckets_active(m)) i = nb; /* the GPU provider failed: the CPU runs unpadded */
    }
  m->warming = false;
  if (st != VG_OK) return st;
  double ms = (double)(vg_now_ns() - t0) / 1e6;
  m->report.warmup_shapes += nb * nw;
  m->report.warmup_ms += ms;
  vg_tensor t = {.dtype = dt, .ndim = ndim};
  memcpy(t.shape, shape, sizeof shape[0] * (size_t)ndim);
  char sh[160];
  vg_tensor_str(&t, sh, sizeof sh);
  char fields[160], nm[VG_MODEL_NAME_MAX * 2];
  snprintf(fields, sizeof fields, "\"model\":\"%s\",\"warmup_shapes\":%d,\"warmup_ms\":%.1f",
           vg_json_escape(m->spec.name, nm, sizeof nm), nb * nw, ms);
  vg_log(VG_LOG_INFO, "infer", fields, "model '%s': warmed %d shape buckets (%s; last %s) in %.1f ms",
         m->spec.name, nb * nw, m->report.buckets, sh, ms);
  return VG_OK;
}

/* The family of a shape: its dims with the bucketed ones zeroed. Warmed once per family and
 * calling thread: the warm-up at load runs on the loading thread, a graph runs the model on a
 * worker, and the CUDA provider keeps cuDNN/cuBLAS state per thread (measured on the H200: runs
 * at warmed shapes still took 150-800 ms on the worker thread). */
static vg_status warm_if_new_family(vg_model *m, vg_dtype dt, int ndim, const int64_t *shape) {
  int64_t key[VG_MAX_DIMS + 2] = {0};
  key[VG_MAX_DIMS + 1] = thread_index(m); /* a thread of its own: warmed again (per-thread state) */
  key[0] = ndim;
  for (int d = 0; d < ndim; d++)
    key[1 + d] = shape[d];
  if (m->spec.buckets.nbatch) key[1] = 0;
  if (m->spec.buckets.nwidth) key[ndim] = 0;
  for (int i = 0; i < m->nfam; i++)
    if (memcmp(m->fam[i], key, sizeof key) == 0) return VG_OK;
  if (m->nfam >= (int)(sizeof m->fam / sizeof m->fam[0])) return VG_OK; /* logged as first runs */
  memcpy(m->fam[m->nfam++], key, sizeof key);
  return warm_family(m, dt, ndim, shape);
}

vg_status vg_buckets_warm_at_load(vg_model *m) {
  if (!m->spec.buckets.nbatch && !m->spec.buckets.nwidth) return VG_OK;
  const vg_model_io *io = &m->inputs[0];
  const vg_shape_buckets *b = &m->spec.buckets;
  if (b->nwarm && b->nwarm != io->ndim - 1)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': buckets: warm_shape has %d sizes, input '%s' has %d "
                        "dimensions after the batch axis",
                        m->spec.name, b->nwarm, io->name, io->ndim - 1);
  int64_t shape[VG_MAX_DIMS];
  for (int d = 0; d < io->ndim; d++) {
    shape[d] = io->shape[d];
    if (d > 0 && b->nwarm) {
      if (shape[d] >= 0 && shape[d] != b->warm_shape[d - 1])
        return vg_set_error(VG_ERR_INVALID_ARG,
                            "model '%s': buckets: warm_shape[%d] is %lld, input '%s' has %lld "
                            "there",
                            m->spec.name, d - 1, (long long)b->warm_shape[d - 1], io->name,
                            (long long)shape[d]);
      shape[d] = b->warm_shape[d - 1];
    }
    bool bucketed = (d == 0) || (d == io->ndim - 1 && m->spec.buckets.nwidth);
    if (d == 0 && shape[0] < 0) shape[0] = 1;
    if (!bucketed && shape[d] < 0) return VG_OK; /* e.g. a detector's H and W: at first run */
  }
  return warmup_wanted(m) ? warm_if_new_family(m, io->dtype, io->ndim, shape) : VG_OK;
}

/* ----------------------------------------------------------------- bucketed runs */

/* A tensor made per call (padded input, joined output): from the model's pool when it is on the
 * model's GPU, because the shapes change with most calls (buckets) and a cudaFree waits for the
 * whole device; VG_INFER_DEVICE_SYNC=1 (the ledger's old behaviour) allocates it plainly. */
static vg_status model_tensor_alloc(vg_model *m, vg_dtype dt, int ndim, const int64_t *shape,
                                    vg_device dev, vg_tensor *out) {
  vg_pool *pool = NULL;
  if (dev.kind == VG_DEVICE_CUDA && vg_device_eq(dev, m->dev) && !vg_infer_old_device_sync())
    VG_TRY(vg_model_pool(m, &pool));
  return vg_tensor_alloc(dt, ndim, shape, dev, pool, out);
}

/* Rows [row0, row0 + rows) of x padded to `padded` rows and width W (zeros), in m->pad. */
static vg_status pad_input(vg_model *m, const vg_tensor *x, int64_t row0, int64_t rows,
                           int64_t padded, int64_t W, vg_stream s) {
  int nd = x->ndim;
  int64_t shape[VG_MAX_DIMS];
  memcpy(shape, x->shape, sizeof shape[0] * (size_t)nd);
  shape[0] = padded;
  shape[nd - 1] = W;
  vg_device dev = vg_tensor_device(x);
  vg_tensor *p = &m->pad;
  bool same = p->buffer && p->dtype == x->dtype && p->ndim == nd &&
              memcmp(p->shape, shape, sizeof shape[0] * (size_t)nd) == 0 &&
              vg_device_eq(vg_tensor_device(p), dev) && vg_buffer_refcount(p->buffer) == 1;
  if (!same) {
    vg_tensor_release(p);
    VG_TRY(model_tensor_alloc(m, x->dtype, nd, shape, dev, p));
  }
  size_t es = vg_dtype_size(x->dtype);
  int64_t w = x->shape[nd - 1], inner = 1; /* rows of the last axis per batch item */
  for (int d = 1; d < nd - 1; d++)
    inner *= x->shape[d];
  char *dst = vg_tensor_data(p);
  const char *src = (const char *)vg_tensor_data(x) + (size_t)(row0 * inner * w) * es;
  size_t item_out = (size_t)(inner * W) * es;
  if (W != w)
    VG_TRY(vg_memset_async(dst, dev, 0, vg_tensor_nbytes(p), s));
  else if (padded > rows)
    VG_TRY(vg_memset_async(dst + (size_t)rows * item_out, dev, 0,
                           (size_t)(padded - rows) * item_out, s));
  if (W == w)
    return vg_memcpy_async(dst, dev, src, dev, (size_t)rows * item_out, s);
  return vg_memcpy2d_async(dst, (size_t)W * es, dev, src, (size_t)w * es, dev, (size_t)w * es,
                           (size_t)(rows * inner), s);
}

/* Output k of the last run cut to its first `rows` rows (whole when it has no batch axis). */
static vg_status cut(vg_model *m, int k, int64_t rows, int64_t padded, vg_tensor *out) {
  const vg_tensor *o = &m->last->outs[k];
  if (o->ndim > 0 && o->shape[0] == padded && rows != padded)
    return vg_tensor_slice(o, 0, 0, rows, out);
  vg_tensor_view(o, out);
  return VG_OK;
}

vg_status vg_buckets_run(vg_model *m, const vg_tensor *x, vg_tensor *outputs, int noutputs,
                         vg_stream s) {
  const vg_shape_buckets *b = &m->spec.buckets;
  int nd = x->ndim;
  int64_t n = x->shape[0], w = x->shape[nd - 1];
  int64_t W = b->nwidth ? vg_buckets_width(b, w) : w;
  int64_t rows[MAX_CHUNKS], padded[MAX_CHUNKS];
  int nc = vg_buckets_plan(b, n, rows, padded, MAX_CHUNKS);
  if (nc < 1)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "model '%s': batch of %lld does not fit %d chunks of the largest bucket",
                        m->spec.name, (long long)n, MAX_CHUNKS);
  if (warmup_wanted(m)) {
    int64_t shape[VG_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape[0] * (size_t)nd);
    VG_TRY(warm_if_new_family(m, x->dtype, nd, shape));
  }
  /* already a bucket shape: no copy */
  if (nc == 1 && padded[0] == n && W == w) {
    const vg_tensor *ord[1] = {x};
    VG_TRY(vg_model_run_checked(m, ord, s));
    for (int k = 0; k < noutputs; k++)
      vg_tensor_view(&m->last->outs[k], &outputs[k]);
    return VG_OK;
  }
  bool async = m->spec.stream && s == m->spec.stream && m->dev.kind == VG_DEVICE_CUDA;
  vg_stream cs = async ? s : vg_model_copy_stream(m); /* where chunk outputs are joined */
  /* padding goes to the caller's stream (its inputs are there; the run waits for it); without
   * one, to the model's copy stream, waited for here */
  vg_stream ps = s ? s : vg_model_copy_stream(m);
  vg_tensor joined[64];
  memset(joined, 0, sizeof joined);
  vg_status st = VG_OK;
  int64_t row0 = 0;
  for (int c = 0; c < nc && st == VG_OK; c++) {
    st = pad_input(m, x, row0, rows[c], padded[c], W, ps);
    if (st == VG_OK && !s) st = vg_model_copy_sync(m, ps);
    const vg_tensor *ord[1] = {&m->pad};
    if (st == VG_OK) st = vg_model_run_checked(m, ord, s);
    if (st != VG_OK) break;
    m->report.padded_rows += (uint64_t)(padded[c] - rows[c]);
    for (int k = 0; k < noutputs && st == VG_OK; k++) {
      if (nc == 1) {
        st = cut(m, k, rows[0], padded[0], &outputs[k]);
        if (st != VG_OK)
          for (int j = 0; j < k; j++)
            vg_tensor_release(&outputs[j]);
        continue;
      }
      const vg_tensor *o = &m->last->outs[k];
      if (o->ndim < 1 || o->shape[0] != padded[c]) {
        st = vg_set_error(VG_ERR_UNSUPPORTED,
                          "model '%s': output '%s' has no batch axis, so a batch of %lld cannot "
                          "run in chunks of %lld; raise the largest batch bucket",
                          m->spec.name, m->outputs[k].name, (long long)n, (long long)padded[0]);
        break;
      }
      if (!joined[k].buffer) {
        int64_t shape[VG_MAX_DIMS];
        memcpy(shape, o->shape, sizeof shape[0] * (size_t)o->ndim);
        shape[0] = n;
        st = model_tensor_alloc(m, o->dtype, o->ndim, shape, vg_tensor_device(o), &joined[k]);
        if (st != VG_OK) break;
      }
      size_t row_bytes = vg_tensor_nbytes(o) / (size_t)o->shape[0];
      st = vg_memcpy_async((char *)vg_tensor_data(&joined[k]) + (size_t)row0 * row_bytes,
                           vg_tensor_device(&joined[k]), vg_tensor_data(o), vg_tensor_device(o),
                           (size_t)rows[c] * row_bytes, cs);
    }
    /* the next chunk overwrites the outputs: the joins must be done (in stream order when
     * async, else now) */
    if (st == VG_OK && nc > 1 && !async) st = vg_model_copy_sync(m, cs);
    row0 += rows[c];
  }
  for (int k = 0; k < noutputs && nc > 1; k++) {
    if (st == VG_OK)
      outputs[k] = joined[k];
    else
      vg_tensor_release(&joined[k]);
  }
  return st;
}
