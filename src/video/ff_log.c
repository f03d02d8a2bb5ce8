/* ff_log.c - routes FFmpeg's own log lines into vidgraph's logger (component "ffmpeg") instead of
 * stderr: damaged input makes FFmpeg talk a lot, and those lines belong at debug level next to
 * vidgraph's counted, summarised view of the same problems. Installed once per process. */
#ifdef VG_HAVE_FFMPEG
#include "video_internal.h"

#include <libavutil/log.h>
#include <pthread.h>
#include <stdio.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void on_av_log(void *avcl, int level, const char *fmt, va_list ap) {
  (void)avcl;
  if (level > AV_LOG_INFO) return;
  vg_log_level l = level <= AV_LOG_FATAL ? VG_LOG_WARN : VG_LOG_DEBUG;
  if (vg_log_get_level("ffmpeg") > l) return;
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  line[strcspn(line, "\n")] = 0;
  if (line[0]) vg_log(l, "ffmpeg", NULL, "%s", line);
}

static void install(void) {
  av_log_set_callback(on_av_log);
}

void vgv_ff_log_install(void) {
  pthread_once(&g_once, install);
}
#endif
