/* shm.h - the shared-memory data plane of `vidgraph serve`: a registry of POSIX shared-memory
 * regions (client regions registered through POST /api/shm, and regions the server creates for
 * outputs), reference-counted mappings, and the validation of shared-memory references
 * {shm_name, offset, bytes, dtype, shape, strides, format, frame_id} into vg_frame / vg_tensor
 * views. The protocol is documented in docs/SHM.md.
 *
 * Every failure sets a message that starts with the name of the bad field (e.g.
 * "shm reference field 'shape[1]': ..."), meant to be the `detail` of a 400 response. Nothing in
 * here trusts the client: names, sizes, modes, owners, bounds and size arithmetic are checked
 * before anything is mapped or read. Thread-safe: one registry is shared by all request threads. */
#ifndef VIDGRAPH_SERVER_SHM_H
#define VIDGRAPH_SERVER_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vidgraph/vg_core.h"

/* Longest region name, the leading '/' included (NAME_MAX of /dev/shm is 255; we keep it short). */
#define VG_SHM_NAME_MAX 64
/* Largest frame side accepted in a reference (matches vg_frame_alloc). */
#define VG_SHM_MAX_SIDE 32768

typedef struct vg_shm_registry vg_shm_registry;
typedef struct vg_shm_region vg_shm_region;

typedef struct vg_shm_limits {
  size_t max_regions;      /* registered at once (client + server regions); 0 = 64 */
  size_t max_region_bytes; /* one region; 0 = 1 GiB */
  size_t max_total_bytes;  /* all regions together; 0 = 4 GiB */
} vg_shm_limits;

/* ===================================================================== names */

/* Checks a region name: one leading '/', then 1..VG_SHM_NAME_MAX-1 characters of
 * [A-Za-z0-9._-], not "." or "..". */
vg_status vg_shm_name_check(const char *name);
/* Turns the {name} segment of /api/shm/{name} into a region name: "vg-a", "%2Fvg-a" and "/vg-a"
 * all give "/vg-a". out must hold VG_SHM_NAME_MAX + 1 bytes. The result is checked. */
vg_status vg_shm_name_from_path(const char *segment, char *out, size_t cap);

/* ===================================================================== registry */

/* limits may be NULL (defaults). */
vg_status vg_shm_registry_create(const vg_shm_limits *limits, vg_shm_registry **out);
/* Drops the registry's reference to every region (mappings still held elsewhere stay valid until
 * released); regions the server created are unlinked. */
void vg_shm_registry_destroy(vg_shm_registry *reg);

/* Registers a client region: shm_open(name, O_RDWR), then fstat must show a regular object owned
 * by this user with mode 0600 (no group/other bits) and at least `bytes` bytes; the first `bytes`
 * are mapped. VG_ERR_INVALID_ARG for a bad name/size/mode, VG_ERR_NOT_FOUND when no such region
 * exists, VG_ERR_STATE when already registered, VG_ERR_NO_MEMORY over the limits. */
vg_status vg_shm_register(vg_shm_registry *reg, const char *name, size_t bytes);
/* Creates a server-owned region (O_CREAT|O_EXCL, mode 0600) of `bytes` bytes and registers it.
 * name_out (VG_SHM_NAME_MAX + 1 bytes) receives "/vg-out-<pid>-<n>". It is unlinked when it is
 * unregistered (DELETE /api/shm/{name}, the client's explicit release) or the registry ends. */
vg_status vg_shm_create(vg_shm_registry *reg, size_t bytes, char *name_out, size_t cap);
/* Removes a region from the registry (new references to it fail from now on). Mappings held by
 * frames/tensors stay valid until their last release; then it is unmapped (and unlinked when the
 * server created it). VG_ERR_NOT_FOUND when not registered. */
vg_status vg_shm_unregister(vg_shm_registry *reg, const char *name);
/* Number of registered regions and their total bytes. */
void vg_shm_registry_stats(vg_shm_registry *reg, size_t *regions, size_t *bytes);
/* {"regions":[{"name","bytes","owner":"client|server","refs":int}]} (new reference). */
json_t *vg_shm_registry_json(vg_shm_registry *reg);

/* ===================================================================== regions */

/* A new reference to a registered region (VG_ERR_NOT_FOUND if it is not registered). */
vg_status vg_shm_acquire(vg_shm_registry *reg, const char *name, vg_shm_region **out);
vg_shm_region *vg_shm_region_ref(vg_shm_region *rg);
/* Drops one reference; the last one unmaps (and unlinks a server region). NULL is fine. */
void vg_shm_release(vg_shm_region *rg);
void *vg_shm_region_data(const vg_shm_region *rg);
size_t vg_shm_region_size(const vg_shm_region *rg);
const char *vg_shm_region_name(const vg_shm_region *rg);
/* A host vg_buffer over [offset, offset+bytes) of the region that holds a region reference
 * (released with the buffer). Bounds are checked. */
vg_status vg_shm_region_buffer(vg_shm_region *rg, size_t offset, size_t bytes, vg_buffer **out);

/* ===================================================================== references */

typedef enum vg_shm_format {
  VG_SHM_FMT_TENSOR = 0,
  VG_SHM_FMT_NV12,
  VG_SHM_FMT_RGB24,
  VG_SHM_FMT_BGR24,
  VG_SHM_FMT_GRAY8,
  VG_SHM_FMT_COUNT_
} vg_shm_format;

/* A parsed reference. Strides are in bytes; has_strides is false when the client left them out
 * (then they are the contiguous row-major ones, filled in by vg_shm_ref_parse). */
typedef struct vg_shm_ref {
  char shm_name[VG_SHM_NAME_MAX + 1];
  uint64_t offset;
  uint64_t bytes;
  vg_dtype dtype;
  int ndim;
  int64_t shape[VG_MAX_DIMS];
  int64_t strides[VG_MAX_DIMS];
  bool has_strides;
  vg_shm_format format;
  int64_t frame_id;
  uint64_t extent; /* bytes from `offset` to one past the last byte the view touches */
} vg_shm_ref;

/* "tensor", "nv12", "rgb24", "bgr24", "gray8". */
const char *vg_shm_format_name(vg_shm_format f);
/* The wire names: "uint8", "float32", "float16", "int32", "int64" (vg_dtype_name's short names
 * are accepted too). */
const char *vg_shm_dtype_name(vg_dtype t);

/* Parses and checks a reference on its own (no registry): types of every field, name, dtype,
 * format, rank 1..VG_MAX_DIMS, dims > 0, strides (positive, element-aligned, not overlapping,
 * one per dim), the size arithmetic without overflow, extent <= bytes, and the format's layout
 * (uint8, [H,W,3] for rgb24/bgr24, [H,W] or [H,W,1] for gray8, [H*3/2,W] with even H and W for
 * nv12, contiguous rows). */
vg_status vg_shm_ref_parse(const json_t *obj, vg_shm_ref *out);
/* Same from JSON text (the fuzzing entry point: any bytes in, a status out, never a crash). */
vg_status vg_shm_ref_parse_text(const char *text, size_t len, vg_shm_ref *out);

/* A resolved reference: the region mapping (one reference held by the frame/tensor buffer). */
typedef struct vg_shm_view {
  vg_shm_ref ref;
  bool is_frame; /* format != tensor: `frame` is set; else `tensor` */
  vg_frame frame;
  vg_tensor tensor;
  void *data; /* region data + offset */
} vg_shm_view;

/* Parses obj, checks that the region is registered and that offset + bytes lie inside it (with
 * the region's current size re-checked with fstat), and builds the view. The view's frame or
 * tensor owns a buffer that keeps the mapping alive: release it with vg_shm_view_release. */
vg_status vg_shm_ref_resolve(vg_shm_registry *reg, const json_t *obj, vg_shm_view *out);
void vg_shm_view_release(vg_shm_view *v);

/* The reference JSON of a parsed/built reference (new reference; strides always written). */
json_t *vg_shm_ref_to_json(const vg_shm_ref *ref);

/* Outputs as references: copies a frame (host or device) / contiguous tensor into a new
 * server-owned region (rows packed) and returns its reference JSON. The client maps the region,
 * reads it and releases it with DELETE /api/shm/{name}. */
vg_status vg_shm_export_frame(vg_shm_registry *reg, const vg_frame *f, int64_t frame_id,
                              json_t **ref_out);
vg_status vg_shm_export_tensor(vg_shm_registry *reg, const vg_tensor *t, int64_t frame_id,
                               json_t **ref_out);

#endif
