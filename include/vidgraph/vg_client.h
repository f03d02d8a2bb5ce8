/* vg_client.h - a small C client of `vidgraph serve`: a minimal HTTP/1.1 client over a socket
 * (JSON requests, bearer token) and the client side of the shared-memory data plane: create a
 * POSIX shared-memory region (mode 0600), write frames or tensors into it, build the reference
 * JSON the server validates, register and release regions, map output regions the server
 * created. No dependency beyond libc. The protocol is in docs/SHM.md; examples/shm_client.c does
 * the whole round trip. */
#ifndef VIDGRAPH_VG_CLIENT_H
#define VIDGRAPH_VG_CLIENT_H

#include "vidgraph/vg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

VG_API_BEGIN

/* ===================================================================== HTTP */

typedef struct vg_client vg_client;

typedef struct vg_client_response {
  int status; /* HTTP status code */
  char *body; /* NUL-terminated body (chunked encoding undone); free with _free */
  size_t body_len;
  char content_type[128];
} vg_client_response;

/* base_url: "http://HOST:PORT" (IPv4 literal or name; no TLS). token may be NULL. */
vg_status vg_client_create(const char *base_url, const char *token, vg_client **out);
void vg_client_destroy(vg_client *c);
/* One request on a fresh connection (Connection: close). body may be NULL (then no body); it is
 * sent as application/json. Bodies up to 64 MiB are read; a timeout of 30 s applies to each
 * socket read/write. A 4xx/5xx answer is VG_OK here: look at out->status. */
vg_status vg_client_request(vg_client *c, const char *method, const char *path, const char *body,
                            vg_client_response *out);
void vg_client_response_free(vg_client_response *r);

/* ===================================================================== shared memory */

typedef struct vg_client_region vg_client_region;

/* Creates a region (O_CREAT|O_EXCL, mode 0600) of `bytes` bytes and maps it read-write. name
 * NULL picks "/vg-client-<pid>-<n>". It is unlinked by vg_client_region_destroy. */
vg_status vg_client_region_create(const char *name, size_t bytes, vg_client_region **out);
/* Maps an existing region (e.g. a server output) read-only; destroy only unmaps it. */
vg_status vg_client_region_open(const char *name, vg_client_region **out);
void vg_client_region_destroy(vg_client_region *r);
void *vg_client_region_data(const vg_client_region *r);
size_t vg_client_region_size(const vg_client_region *r);
const char *vg_client_region_name(const vg_client_region *r);

/* POST /api/shm {"name","bytes"}; a non-201 answer is an error carrying the server's detail. */
vg_status vg_client_register(vg_client *c, const vg_client_region *r);
/* DELETE /api/shm/{name} (name with or without its leading '/'); expects 204. */
vg_status vg_client_release(vg_client *c, const char *name);

/* Copies a picture (planes with their pitches, as in vg_frame) into the region at `offset`, rows
 * packed, and writes its reference JSON into ref_json (cap bytes; 512 are always enough).
 * NV12 needs even sides. Fails when it does not fit in the region. */
vg_status vg_client_write_frame(vg_client_region *r, size_t offset, vg_pixfmt fmt, int width,
                                int height, const uint8_t *const planes[2], const int pitches[2],
                                int64_t frame_id, char *ref_json, size_t cap);
/* Copies a contiguous tensor into the region at `offset` (a multiple of the element size) and
 * writes its reference JSON. */
vg_status vg_client_write_tensor(vg_client_region *r, size_t offset, vg_dtype dtype, int ndim,
                                 const int64_t *shape, const void *data, int64_t frame_id,
                                 char *ref_json, size_t cap);

VG_API_END

#ifdef __cplusplus
}
#endif

#endif
