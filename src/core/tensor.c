/* tensor.c - strided tensor views over buffers, dtypes, and half-precision conversion. */
#include "vidgraph/vg_core.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  size_t size;
} dtypes[VG_DTYPE_COUNT_] = {
    [VG_DTYPE_F32] = {"f32", 4}, [VG_DTYPE_F16] = {"f16", 2}, [VG_DTYPE_U8] = {"u8", 1},
    [VG_DTYPE_I32] = {"i32", 4}, [VG_DTYPE_I64] = {"i64", 8},
};

size_t vg_dtype_size(vg_dtype t) {
  return ((int)t >= 0 && t < VG_DTYPE_COUNT_) ? dtypes[t].size : 0;
}

const char *vg_dtype_name(vg_dtype t) {
  return ((int)t >= 0 && t < VG_DTYPE_COUNT_) ? dtypes[t].name : "unknown";
}

vg_status vg_dtype_parse(const char *text, vg_dtype *out) {
  for (int i = 0; i < VG_DTYPE_COUNT_; i++) {
    if (text && strcmp(text, dtypes[i].name) == 0) {
      *out = (vg_dtype)i;
      return VG_OK;
    }
  }
  if (text && strcmp(text, "float32") == 0) return (*out = VG_DTYPE_F32), VG_OK;
  if (text && strcmp(text, "float16") == 0) return (*out = VG_DTYPE_F16), VG_OK;
  return vg_set_error(VG_ERR_INVALID_ARG, "unknown dtype '%s' (use f32, f16, u8, i32 or i64)",
                      text ? text : "(null)");
}

static vg_status check_shape(vg_dtype dtype, int ndim, const int64_t *shape, int64_t *numel) {
  if (vg_dtype_size(dtype) == 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "invalid dtype %d", (int)dtype);
  if (ndim < 0 || ndim > VG_MAX_DIMS)
    return vg_set_error(VG_ERR_INVALID_ARG, "tensor rank %d outside 0..%d", ndim, VG_MAX_DIMS);
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return vg_set_error(VG_ERR_INVALID_ARG, "negative dimension %lld at %d", (long long)shape[i],
                          i);
    if (shape[i] > 0 && n > INT64_MAX / 16 / shape[i])
      return vg_set_error(VG_ERR_INVALID_ARG, "tensor too large");
    n *= shape[i];
  }
  *numel = n;
  return VG_OK;
}

static void set_contiguous(vg_tensor *t, vg_dtype dtype, int ndim, const int64_t *shape) {
  memset(t, 0, sizeof *t);
  t->dtype = dtype;
  t->ndim = ndim;
  int64_t st = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    t->shape[i] = shape[i];
    t->strides[i] = st;
    st *= shape[i];
  }
}

vg_status vg_tensor_alloc(vg_dtype dtype, int ndim, const int64_t *shape, vg_device dev,
                          vg_pool *pool, vg_tensor *out) {
  memset(out, 0, sizeof *out);
  int64_t numel;
  VG_TRY(check_shape(dtype, ndim, shape, &numel));
  vg_buffer *b;
  VG_TRY(vg_buffer_alloc(dev, (size_t)numel * vg_dtype_size(dtype), pool, &b));
  set_contiguous(out, dtype, ndim, shape);
  out->buffer = b;
  return VG_OK;
}

vg_status vg_tensor_from_buffer(vg_buffer *buf, size_t offset, vg_dtype dtype, int ndim,
                                const int64_t *shape, vg_tensor *out) {
  memset(out, 0, sizeof *out);
  int64_t numel;
  VG_TRY(check_shape(dtype, ndim, shape, &numel));
  size_t need = (size_t)numel * vg_dtype_size(dtype);
  if (!buf || offset > vg_buffer_size(buf) || need > vg_buffer_size(buf) - offset)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "tensor of %zu bytes at offset %zu does not fit in a buffer of %zu bytes",
                        need, offset, vg_buffer_size(buf));
  set_contiguous(out, dtype, ndim, shape);
  out->offset = offset;
  out->buffer = vg_buffer_ref(buf);
  return VG_OK;
}

void vg_tensor_release(vg_tensor *t) {
  if (!t) return;
  vg_buffer_unref(t->buffer);
  memset(t, 0, sizeof *t);
}

void vg_tensor_view(const vg_tensor *t, vg_tensor *out) {
  vg_tensor tmp = *t;
  tmp.buffer = vg_buffer_ref(t->buffer);
  *out = tmp;
}

vg_status vg_tensor_slice(const vg_tensor *t, int dim, int64_t start, int64_t len, vg_tensor *out) {
  if (dim < 0 || dim >= t->ndim)
    return vg_set_error(VG_ERR_INVALID_ARG, "slice dim %d outside rank %d", dim, t->ndim);
  if (start < 0 || len < 0 || start + len > t->shape[dim])
    return vg_set_error(VG_ERR_INVALID_ARG, "slice [%lld, %lld) outside dimension %d of size %lld",
                        (long long)start, (long long)(start + len), dim, (long long)t->shape[dim]);
  vg_tensor_view(t, out);
  out->offset += (size_t)(start * t->strides[dim]) * vg_dtype_size(t->dtype);
  out->shape[dim] = len;
  return VG_OK;
}

vg_status vg_tensor_reshape(const vg_tensor *t, int ndim, const int64_t *shape, vg_tensor *out) {
  if (!vg_tensor_is_contiguous(t))
    return vg_set_error(VG_ERR_INVALID_ARG, "reshape needs a contiguous tensor");
  if (ndim < 0 || ndim > VG_MAX_DIMS)
    return vg_set_error(VG_ERR_INVALID_ARG, "reshape rank %d", ndim);
  int64_t s[VG_MAX_DIMS], known = 1, total = vg_tensor_numel(t);
  int infer = -1;
  for (int i = 0; i < ndim; i++) {
    s[i] = shape[i];
    if (s[i] == -1) {
      if (infer >= 0) return vg_set_error(VG_ERR_INVALID_ARG, "reshape: more than one -1");
      infer = i;
    } else if (s[i] < 0) {
      return vg_set_error(VG_ERR_INVALID_ARG, "reshape: negative dimension");
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) s[infer] = known ? total / known : 0;
  if (infer >= 0) known *= s[infer];
  if (known != total)
    return vg_set_error(VG_ERR_INVALID_ARG, "reshape from %lld to %lld elements", (long long)total,
                        (long long)known);
  vg_tensor tmp;
  set_contiguous(&tmp, t->dtype, ndim, s);
  tmp.offset = t->offset;
  tmp.buffer = vg_buffer_ref(t->buffer);
  *out = tmp;
  return VG_OK;
}

int64_t vg_tensor_numel(const vg_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++)
    n *= t->shape[i];
  return n;
}

size_t vg_tensor_nbytes(const vg_tensor *t) {
  return (size_t)vg_tensor_numel(t) * vg_dtype_size(t->dtype);
}

bool vg_tensor_is_contiguous(const vg_tensor *t) {
  int64_t st = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] != 1 && t->strides[i] != st) return false;
    st *= t->shape[i];
  }
  return true;
}

void *vg_tensor_data(const vg_tensor *t) {
  return t->buffer ? (char *)vg_buffer_data(t->buffer) + t->offset : NULL;
}

vg_device vg_tensor_device(const vg_tensor *t) {
  return vg_buffer_device(t->buffer);
}

vg_status vg_tensor_to_device(const vg_tensor *t, vg_device dev, vg_pool *pool, vg_stream s,
                              vg_tensor *out) {
  if (!vg_tensor_is_contiguous(t))
    return vg_set_error(VG_ERR_INVALID_ARG, "vg_tensor_to_device needs a contiguous tensor");
  VG_TRY(vg_tensor_alloc(t->dtype, t->ndim, t->shape, dev, pool, out));
  vg_status st = vg_memcpy_async(vg_tensor_data(out), dev, vg_tensor_data(t), vg_tensor_device(t),
                                 vg_tensor_nbytes(t), s);
  if (st != VG_OK) vg_tensor_release(out);
  return st;
}

const char *vg_tensor_str(const vg_tensor *t, char *buf, size_t cap) {
  size_t n = (size_t)snprintf(buf, cap, "%s[", vg_dtype_name(t->dtype));
  for (int i = 0; i < t->ndim && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? "," : "", (long long)t->shape[i]);
  char d[16];
  if (n < cap) snprintf(buf + n, cap - n, "]@%s", vg_device_str(vg_tensor_device(t), d, sizeof d));
  return buf;
}

uint16_t vg_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31) return (uint16_t)(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return (uint16_t)sign;
    mant |= 0x800000u;
    uint32_t shift = (uint32_t)(14 - exp);
    uint32_t h = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = sign | ((uint32_t)exp << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* may carry into the exponent: fine */
  return (uint16_t)h;
}

float vg_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      exp = 127 - 15 + 1;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        exp--;
      }
      x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  memcpy(&f, &x, 4);
  return f;
}
