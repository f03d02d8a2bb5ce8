/* routes_shm.c - POST /api/shm and DELETE /api/shm/{name}: registration of client shared-memory
 * regions. The validation library (shm.c/shm.h, POSIX shm names, bounds and shape checks) comes
 * from the dashboard/data-plane work; until it is in the tree these routes answer 501 with a
 * message saying so, and runs refuse {"shm": ...} inputs with a 400 naming the field. */
#include "server_internal.h"

#include <string.h>

enum MHD_Result srv_route_shm(srv_req *rq, const char *name) {
  if (!name && strcmp(rq->method, "POST") != 0)
    return srv_reply_error(rq, 405, "method_not_allowed", "/api/shm: POST");
  if (name && strcmp(rq->method, "DELETE") != 0)
    return srv_reply_error(rq, 405, "method_not_allowed", "/api/shm/{name}: DELETE");
  return srv_reply_error(rq, 501, "not_implemented",
                         "shared-memory regions are not supported by this build yet");
}
