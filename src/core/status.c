/* status.c - status names, the thread-local error message, and internal assertions. */
#include "vidgraph/vg_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VG_ERRMSG_CAP 2048

static _Thread_local char tl_msg[VG_ERRMSG_CAP];
static _Thread_local vg_status tl_status = VG_OK;

static const char *const status_names[VG_STATUS_COUNT_] = {
    [VG_OK] = "ok",
    [VG_ERR_INVALID_ARG] = "invalid_arg",
    [VG_ERR_NO_MEMORY] = "no_memory",
    [VG_ERR_IO] = "io",
    [VG_ERR_PARSE] = "parse",
    [VG_ERR_NOT_FOUND] = "not_found",
    [VG_ERR_UNSUPPORTED] = "unsupported",
    [VG_ERR_DEVICE] = "device",
    [VG_ERR_BACKEND] = "backend",
    [VG_ERR_TIMEOUT] = "timeout",
    [VG_ERR_CANCELED] = "canceled",
    [VG_ERR_EOF] = "eof",
    [VG_ERR_STATE] = "state",
    [VG_ERR_INTERNAL] = "internal",
};

const char *vg_status_name(vg_status s) {
  if ((int)s < 0 || s >= VG_STATUS_COUNT_) return "unknown";
  return status_names[s];
}

const char *vg_last_error(void) {
  return tl_msg;
}

vg_status vg_last_status(void) {
  return tl_status;
}

void vg_clear_error(void) {
  tl_msg[0] = '\0';
  tl_status = VG_OK;
}

vg_status vg_set_error(vg_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tl_msg, sizeof tl_msg, fmt, ap);
  va_end(ap);
  tl_status = s;
  return s;
}

vg_status vg_wrap_error(vg_status s, const char *fmt, ...) {
  char prev[VG_ERRMSG_CAP];
  char ctx[VG_ERRMSG_CAP];
  memcpy(prev, tl_msg, sizeof prev);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx, sizeof ctx, fmt, ap);
  va_end(ap);
  if (prev[0])
    snprintf(tl_msg, sizeof tl_msg, "%s: %s", ctx, prev);
  else
    snprintf(tl_msg, sizeof tl_msg, "%s", ctx);
  tl_status = s;
  return s;
}

void vg_assert_fail(const char *expr, const char *file, int line) {
  vg_log(VG_LOG_ERROR, "core", NULL, "internal assertion failed: %s at %s:%d", expr, file, line);
  vg_log_flush();
  fprintf(stderr, "vidgraph: assertion failed: %s (%s:%d)\n", expr, file, line);
  abort();
}
