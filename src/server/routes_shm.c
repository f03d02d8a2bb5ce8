/* routes_shm.c - POST /api/shm, GET /api/shm and DELETE /api/shm/{name}: registration of client
 * shared-memory regions in the server's registry (src/server/shm.c validates names, owners,
 * modes, sizes and every reference), and the helpers runs use for `{"shm": SHMREF}` inputs and
 * shared-memory outputs. docs/SHM.md is the protocol. */
#include "server_internal.h"

#include <string.h>

vg_status srv_shm_create(vg_server *s) {
  return vg_shm_registry_create(NULL, &s->shm);
}

void srv_shm_free(vg_server *s) {
  if (s->shm) vg_shm_registry_destroy(s->shm);
  s->shm = NULL;
}

static int status_of(vg_status st) {
  switch (st) {
  case VG_ERR_NOT_FOUND:
    return 404;
  case VG_ERR_STATE:
    return 409;
  case VG_ERR_NO_MEMORY:
    return 507;
  default:
    return 400;
  }
}

static enum MHD_Result post_shm(srv_req *rq) {
  enum MHD_Result ret;
  json_t *b = srv_body_object(rq, &ret);
  if (!b) return ret;
  const char *k;
  json_t *v;
  json_object_foreach(b, k, v) {
    if (strcmp(k, "name") && strcmp(k, "bytes")) {
      enum MHD_Result bad =
          srv_reply_error(rq, 400, "bad_field", "%s: unknown field (name, bytes)", k);
      json_decref(b); /* after the reply: k points into it */
      return bad;
    }
  }
  json_t *name = json_object_get(b, "name"), *bytes = json_object_get(b, "bytes");
  if (!json_is_string(name) || !json_is_integer(bytes) || json_integer_value(bytes) <= 0) {
    const char *what = !json_is_string(name) ? "name: a region name such as \"/vg-client-1\""
                                             : "bytes: a positive integer";
    json_decref(b);
    return srv_reply_error(rq, 400, "bad_field", "%s", what);
  }
  char nm[VG_SHM_NAME_MAX + 1];
  snprintf(nm, sizeof nm, "%s", json_string_value(name));
  size_t n = (size_t)json_integer_value(bytes);
  json_decref(b);
  vg_status st = vg_shm_name_check(nm);
  if (st == VG_OK) st = vg_shm_register(rq->srv->shm, nm, n);
  if (st != VG_OK)
    return srv_reply_error(rq, status_of(st), st == VG_ERR_STATE ? "exists" : "bad_shm", "%s",
                           vg_last_error());
  return srv_reply_json(rq, 201, json_pack("{s:s,s:I}", "name", nm, "bytes", (json_int_t)n));
}

enum MHD_Result srv_route_shm(srv_req *rq, const char *name) {
  vg_server *s = rq->srv;
  if (!name && strcmp(rq->method, "POST") == 0) return post_shm(rq);
  if (!name && strcmp(rq->method, "GET") == 0)
    return srv_reply_json(rq, 200, vg_shm_registry_json(s->shm));
  if (name && strcmp(rq->method, "DELETE") == 0) {
    char nm[VG_SHM_NAME_MAX + 1];
    vg_status st = vg_shm_name_from_path(name, nm, sizeof nm);
    if (st == VG_OK) st = vg_shm_unregister(s->shm, nm);
    if (st != VG_OK)
      return srv_reply_error(rq, status_of(st), st == VG_ERR_NOT_FOUND ? "not_found" : "bad_shm",
                             "%s", vg_last_error());
    return srv_reply_json(rq, 204, NULL);
  }
  return srv_reply_error(rq, 405, "method_not_allowed",
                         "shm: POST /api/shm, GET /api/shm, DELETE /api/shm/{name}");
}

vg_status srv_shm_packet(vg_server *s, const json_t *ref, const char *tensor_name,
                         vg_packet **out) {
  vg_shm_view v;
  VG_TRY(vg_shm_ref_resolve(s->shm, ref, &v));
  vg_packet *p;
  vg_status st = vg_packet_new(&p);
  if (st == VG_OK) {
    vg_packet_set_stream(p, 0, v.ref.frame_id);
    vg_packet_set_pts(p, v.ref.frame_id, vg_now_ns());
    if (v.is_frame)
      vg_packet_set_frame(p, &v.frame);
    else
      st = vg_packet_set_tensor(p, tensor_name, &v.tensor);
    if (st != VG_OK) vg_packet_unref(p);
  }
  vg_shm_view_release(&v);
  if (st == VG_OK) *out = p;
  return st;
}

json_t *srv_shm_export(vg_server *s, const vg_packet *p) {
  json_t *ref = NULL;
  const vg_frame *f = vg_packet_frame(p);
  if (f && vg_shm_export_frame(s->shm, f, vg_packet_frame_no(p), &ref) == VG_OK) return ref;
  const char *name;
  const vg_tensor *t = vg_packet_ntensors(p) ? vg_packet_tensor_at(p, 0, &name) : NULL;
  if (t && vg_shm_export_tensor(s->shm, t, vg_packet_frame_no(p), &ref) == VG_OK) return ref;
  vg_clear_error();
  return NULL;
}
