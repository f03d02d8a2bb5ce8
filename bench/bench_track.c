/* bench_track.c - the tracker on crowded frames (docs/PERF.md, "The tracker on crowded
 * frames"): N objects move across a 3840x2160 picture (boxes 24..120 px, constant velocities,
 * many overlapping), detected with jitter, 5% misses and 5% false boxes; vg_tracker_update per
 * frame, timed. Each N runs twice in the same process: the assignment split into the
 * components of overlapping boxes (the default) and the whole matrix at once
 * (VG_ASSIGN_DENSE=1, the way it was; only up to --dense-max objects: at 1000 a frame takes
 * seconds). Prints mean / p50 / p99 / max ms per frame and the confirmed tracks at the end.
 *
 *   bench_track [--frames 300] [--objects 50,300,1000] [--dense-max 300]   (CPU only)
 */
#include "vidgraph/vg_core.h"
#include "vidgraph/vg_track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct obj {
  float x, y, w, h, vx, vy;
} obj;

static unsigned g_rng = 12345;
static float rnd(void) { /* [0, 1) */
  g_rng = g_rng * 1664525u + 1013904223u;
  return (float)(g_rng >> 8) / 16777216.0f;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One run: n objects, frames frames; fills ms[frames]. Returns the confirmed tracks at the end. */
static int run(int n, int frames, double *ms) {
  const float W = 3840, H = 2160;
  obj *o = malloc(sizeof *o * (size_t)n);
  if (!o) return -1;
  g_rng = 12345 + (unsigned)n; /* the same scene for both variants */
  for (int i = 0; i < n; i++) {
    o[i].w = 24 + rnd() * 96, o[i].h = o[i].w * (0.8f + rnd() * 1.6f);
    o[i].x = rnd() * (W - o[i].w), o[i].y = rnd() * (H - o[i].h);
    o[i].vx = (rnd() - 0.5f) * 16, o[i].vy = (rnd() - 0.5f) * 8;
  }
  vg_tracker_params p;
  vg_tracker_params_default(&p);
  p.max_lost = 30;
  p.max_tracks = 4 * n > 512 ? 4 * n : 512; /* room for every object and its lost tracks */
  vg_tracker *t = NULL;
  if (vg_tracker_create(&p, &t) != VG_OK) {
    free(o);
    return -1;
  }
  vg_objects d = {0};
  for (int f = 0; f < frames; f++) {
    vg_objects_clear(&d);
    for (int i = 0; i < n; i++) {
      obj *b = &o[i];
      b->x += b->vx, b->y += b->vy;
      if (b->x < 0 || b->x + b->w > W) b->vx = -b->vx, b->x += 2 * b->vx;
      if (b->y < 0 || b->y + b->h > H) b->vy = -b->vy, b->y += 2 * b->vy;
      if (rnd() < 0.05f) continue; /* missed */
      vg_object x = vg_object_init();
      float j = 0.03f * b->w;
      x.box = (vg_box){b->x + (rnd() - 0.5f) * j, b->y + (rnd() - 0.5f) * j,
                       b->x + b->w + (rnd() - 0.5f) * j, b->y + b->h + (rnd() - 0.5f) * j};
      x.score = 0.35f + rnd() * 0.6f;
      vg_objects_push(&d, &x);
    }
    for (int i = 0; i < n / 20; i++) { /* false boxes */
      vg_object x = vg_object_init();
      float w = 24 + rnd() * 96, px = rnd() * (W - w), py = rnd() * (H - w);
      x.box = (vg_box){px, py, px + w, py + w};
      x.score = 0.2f + rnd() * 0.5f;
      vg_objects_push(&d, &x);
    }
    int64_t t0 = vg_now_ns();
    if (vg_tracker_update(t, f, &d) != VG_OK) {
      fprintf(stderr, "bench_track: %s\n", vg_last_error());
      exit(1);
    }
    ms[f] = (double)(vg_now_ns() - t0) / 1e6;
  }
  int tentative = 0, tracked = 0, lost = 0;
  vg_tracker_counts(t, &tentative, &tracked, &lost);
  vg_objects_free(&d);
  vg_tracker_destroy(t);
  free(o);
  return tracked;
}

int main(int argc, char **argv) {
  int frames = 300, dense_max = 300;
  vg_log_set_level("track", VG_LOG_ERROR);
  char list[256] = "50,300,1000";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--frames") && i + 1 < argc)
      frames = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--dense-max") && i + 1 < argc)
      dense_max = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--objects") && i + 1 < argc)
      snprintf(list, sizeof list, "%s", argv[++i]);
    else {
      fprintf(stderr, "usage: bench_track [--frames N] [--objects N,N,...] [--dense-max N]\n");
      return 2;
    }
  }
  if (frames < 10) frames = 10;
  double *ms = malloc(sizeof *ms * (size_t)frames);
  if (!ms) return 1;
  printf("%-8s %-11s %9s %9s %9s %9s %7s\n", "objects", "assignment", "mean_ms", "p50_ms",
         "p99_ms", "max_ms", "tracked");
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    int n = atoi(tok);
    if (n < 1) continue;
    for (int dense = 0; dense < (n <= dense_max ? 2 : 1); dense++) {
      setenv("VG_ASSIGN_DENSE", dense ? "1" : "0", 1);
      int tracked = run(n, frames, ms);
      double sum = 0;
      for (int f = 0; f < frames; f++)
        sum += ms[f];
      qsort(ms, (size_t)frames, sizeof *ms, cmp_d);
      printf("%-8d %-11s %9.3f %9.3f %9.3f %9.3f %7d\n", n, dense ? "whole" : "components",
             sum / frames, ms[frames / 2], ms[(int)(frames * 0.99)], ms[frames - 1], tracked);
      fflush(stdout);
    }
  }
  unsetenv("VG_ASSIGN_DENSE");
  free(ms);
  return 0;
}
