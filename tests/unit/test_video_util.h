/* test_video_util.h - what the video tests share: the generated fixtures (made once per machine
 * by scripts/make_video_fixtures.sh into $VG_VIDEO_FIXTURES or /tmp/vidgraph-video-fixtures)
 * and paths inside that folder. Header-only. */
#ifndef VIDGRAPH_TEST_VIDEO_UTIL_H
#define VIDGRAPH_TEST_VIDEO_UTIL_H

#include "vg_test.h"

/* The fixture folder, generated (idempotently) on the first call. */
static inline const char *fixtures(void) {
  static char dir[512];
  if (dir[0]) return dir;
  const char *env = getenv("VG_VIDEO_FIXTURES");
  snprintf(dir, sizeof dir, "%s", env ? env : "/tmp/vidgraph-video-fixtures");
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "bash '%s/scripts/make_video_fixtures.sh' '%s' >/dev/null",
           vg_test_root(), dir);
  int rc = system(cmd);
  if (rc != 0) {
    printf("FAIL: fixture generation failed (%d): %s\n", rc, cmd);
    exit(1);
  }
  return dir;
}

/* fixtures()/name; the last 8 results stay valid. */
static inline const char *fx(const char *name) {
  static char path[8][700];
  static int k;
  k = (k + 1) % 8;
  snprintf(path[k], sizeof path[k], "%s/%s", fixtures(), name);
  return path[k];
}

#endif
