/* bench_video_nvdec.c - decoding throughput with 1, 2, 4, 7, 8, 16 parallel sessions.
 *
 *   bench_video_nvdec [STREAM] [--sessions 1,2,4,7,8,16] [--frames N] [--decoder nvdec|cpu]
 *
 * Each session is one vg_source on STREAM (default: the committed 1080p H.264 clip
 * tests/fixtures-gpu/h264_1920x1080_bench.h264), looped until it delivered N frames (default
 * 1200), frames released as soon as they arrive (device NV12 frames, so the copy out of the
 * decode surface is included; nothing crosses to the host). One thread per session (the reader
 * thread of its vg_source does the parsing and decoding; the session's thread only takes frames).
 * Opening the sessions (file, demuxer, first decoder) is outside the timing: time runs from when
 * every session is open to when the last one is done. Prints one JSON object with total fps and
 * every session's own fps (its frames over its own time) per session count, and a KEY line on
 * stderr. The VG_NVDEC_* experiment knobs of src/video/dec_nvdec.c apply and are echoed. Exits 77
 * when NVDEC is asked for and not usable. */
#include "vidgraph/vg_video.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SESSIONS 64

typedef struct session {
  const char *path;
  vg_source_opts opts;
  pthread_barrier_t *ready;
  int64_t frames;
  int64_t t_start, t_end;
  vg_status st;
  char err[256];
} session;

static void *run(void *p) {
  session *s = p;
  vg_source *src = NULL;
  s->st = vg_source_open(s->path, &s->opts, &src);
  if (s->st != VG_OK) snprintf(s->err, sizeof s->err, "%s", vg_last_error());
  pthread_barrier_wait(s->ready);
  s->t_start = vg_now_ns();
  if (!src) return NULL;
  vg_frame f;
  while ((s->st = vg_source_read(src, &f, 60000)) == VG_OK) {
    vg_frame_release(&f);
    s->frames++;
  }
  if (s->st == VG_ERR_EOF)
    s->st = VG_OK;
  else
    snprintf(s->err, sizeof s->err, "%s", vg_last_error());
  s->t_end = vg_now_ns();
  vg_source_close(src);
  return NULL;
}

/* Runs n sessions; returns seconds (or -1 with a message on stderr). */
static double run_sessions(const char *path, const vg_source_opts *o, int n, int64_t *total,
                           double *per) {
  session ss[MAX_SESSIONS];
  pthread_t th[MAX_SESSIONS];
  pthread_barrier_t ready;
  pthread_barrier_init(&ready, NULL, (unsigned)n + 1);
  for (int i = 0; i < n; i++) {
    memset(&ss[i], 0, sizeof ss[i]);
    ss[i].path = path;
    ss[i].opts = *o;
    ss[i].opts.stream_id = i;
    ss[i].ready = &ready;
    pthread_create(&th[i], NULL, run, &ss[i]);
  }
  pthread_barrier_wait(&ready);
  int64_t t0 = vg_now_ns(), t1 = t0;
  *total = 0;
  bool ok = true;
  for (int i = 0; i < n; i++) {
    pthread_join(th[i], NULL);
    if (ss[i].st != VG_OK) {
      fprintf(stderr, "bench_video_nvdec: session %d: %s\n", i, ss[i].err);
      ok = false;
    }
    *total += ss[i].frames;
    if (ss[i].t_end > t1) t1 = ss[i].t_end;
    double sec = (ss[i].t_end - ss[i].t_start) / 1e9;
    per[i] = sec > 0 ? ss[i].frames / sec : 0;
  }
  pthread_barrier_destroy(&ready);
  return ok ? (t1 - t0) / 1e9 : -1;
}

int main(int argc, char **argv) {
  char def[600];
  const char *root = getenv("VG_SOURCE_DIR");
  snprintf(def, sizeof def, "%s/tests/fixtures-gpu/h264_1920x1080_bench.h264", root ? root : ".");
  const char *path = def, *list = "1,2,4,7,8,16";
  long frames = 1200;
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.decoder = VG_DECODER_NVDEC;
  o.loop = true;
  o.output_frames = 4;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--sessions") == 0 && i + 1 < argc)
      list = argv[++i];
    else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
      frames = atol(argv[++i]);
    else if (strcmp(argv[i], "--decoder") == 0 && i + 1 < argc) {
      if (vg_decoder_parse(argv[++i], &o.decoder) != VG_OK) {
        fprintf(stderr, "bench_video_nvdec: %s\n", vg_last_error());
        return 2;
      }
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: bench_video_nvdec [STREAM] [--sessions 1,2,4,7,8,16] [--frames N] "
                      "[--decoder nvdec|cpu]\n");
      return 2;
    } else
      path = argv[i];
  }
  if (frames < 1) frames = 1;
  o.max_frames = frames;
  vg_log_set_level(NULL, VG_LOG_ERROR);
  char why[320];
  if (o.decoder == VG_DECODER_NVDEC && !vg_nvdec_available(0, why, sizeof why)) {
    printf("{\"bench\":\"video_nvdec\",\"skipped\":\"%s\"}\n", why);
    return 77;
  }
  /* describe the input once and warm up (driver, decoder, frame pool): 30 frames, untimed, so
   * that the first session count does not pay one-time costs the others do not */
  vg_source_opts probe = o;
  probe.max_frames = 30;
  vg_source *s;
  if (vg_source_open(path, &probe, &s) != VG_OK) {
    fprintf(stderr, "bench_video_nvdec: %s\n", vg_last_error());
    return 1;
  }
  vg_frame f;
  while (vg_source_read(s, &f, 60000) == VG_OK)
    vg_frame_release(&f);
  vg_source_info info;
  vg_source_get_info(s, &info);
  vg_source_close(s);
  char esc[700], knobs[300];
  static const char *const k_knobs[] = {"VG_NVDEC_DISPLAY_DELAY", "VG_NVDEC_RECREATE",
                                        "VG_NVDEC_CONTEXT", "VG_NVDEC_DEINTERLACE"};
  int kl = 0;
  knobs[0] = 0;
  for (size_t i = 0; i < sizeof k_knobs / sizeof k_knobs[0]; i++) {
    const char *v = getenv(k_knobs[i]);
    if (v && *v && kl < (int)sizeof knobs - 80)
      kl += snprintf(knobs + kl, sizeof knobs - (size_t)kl, "%s%s=%.20s", kl ? " " : "", k_knobs[i],
                     v);
  }
  printf("{\"bench\":\"video_nvdec\",\"input\":\"%s\",\"codec\":\"%s\",\"width\":%d,\"height\":%d,"
         "\"decoder\":\"%s\",\"detail\":\"%s\",\"knobs\":\"%s\",\"frames_per_session\":%ld,"
         "\"results\":[",
         vg_json_escape(path, esc, sizeof esc), info.codec, info.width, info.height,
         vg_decoder_name(info.decoder), info.decoder_detail, knobs, frames);
  int first = 1, rc = 0, keyl = 0;
  char buf[256], key[400] = "";
  double per[MAX_SESSIONS];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    int n = atoi(tok);
    if (n < 1 || n > MAX_SESSIONS) continue;
    int64_t total;
    double sec = run_sessions(path, &o, n, &total, per);
    if (sec <= 0) {
      rc = 1;
      continue;
    }
    double lo = per[0], hi = per[0];
    for (int i = 1; i < n; i++) {
      if (per[i] < lo) lo = per[i];
      if (per[i] > hi) hi = per[i];
    }
    printf("%s{\"sessions\":%d,\"frames\":%lld,\"seconds\":%.3f,\"total_fps\":%.1f,"
           "\"per_session_fps\":%.1f,\"session_fps_min\":%.1f,\"session_fps_max\":%.1f,"
           "\"sessions_fps\":[",
           first ? "" : ",", n, (long long)total, sec, total / sec, total / sec / n, lo, hi);
    for (int i = 0; i < n; i++)
      printf("%s%.1f", i ? "," : "", per[i]);
    printf("]}");
    fflush(stdout);
    if (keyl < (int)sizeof key - 40)
      keyl += snprintf(key + keyl, sizeof key - (size_t)keyl, " %d:%.0f", n, total / sec);
    first = 0;
  }
  printf("]}\n");
  fprintf(stderr, "KEY: nvdec total fps by sessions%s%s%s\n", key, knobs[0] ? " " : "", knobs);
  return rc;
}
