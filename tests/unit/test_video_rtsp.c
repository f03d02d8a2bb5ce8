/* A live RTSP source on the loopback address, read, dropped and reconnected. vidgraph listens
 * (rtsp_listen: FFmpeg's RTSP server side is its demuxer with `-rtsp_flags listen`, the ffmpeg
 * CLI cannot serve RTSP to a client) and an `ffmpeg -re -f rtsp` process publishes a looping
 * fixture to it. The publisher is killed and a new one started; the source reports the
 * disconnect, reconnects with backoff and goes on delivering frames with increasing frame
 * numbers and timestamps. Bounded: every read has a timeout and the whole test a deadline. */
#include "unit/test_video_util.h"
#include "vidgraph/vg_video.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  close(fd);
  return ntohs(a.sin_port);
}

/* Starts a publisher in its own process group: it retries until the listener is up. */
static pid_t start_publisher(const char *url) {
  char cmd[1600];
  snprintf(cmd, sizeof cmd,
           "for i in $(seq 100); do ffmpeg -hide_banner -loglevel quiet -nostdin -re "
           "-stream_loop -1 -i '%s/h264_320x240.mp4' -c copy -f rtsp -rtsp_transport tcp '%s' "
           "&& break; sleep 0.2; done",
           fixtures(), url);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/bash", "bash", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid);
  return pid;
}

static void stop_publisher(pid_t pid) {
  kill(-pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/* the publisher's process group, killed by the teardown also when an assertion fails */
static pid_t g_pub;

static int teardown(void **st) {
  if (g_pub > 0) stop_publisher(g_pub);
  g_pub = 0;
  return 0;
}

typedef struct counts {
  int disconnected, reconnecting, reconnected, gave_up;
  int64_t t_reconnected; /* when the first RECONNECTED event came */
} counts;

static void on_event(void *user, const vg_video_event *ev) {
  counts *c = user;
  switch (ev->kind) {
  case VG_VIDEO_EVENT_DISCONNECTED:
    c->disconnected++;
    break;
  case VG_VIDEO_EVENT_RECONNECTING:
    c->reconnecting++;
    break;
  case VG_VIDEO_EVENT_RECONNECTED:
    if (!c->reconnected++) c->t_reconnected = vg_now_ns();
    break;
  case VG_VIDEO_EVENT_GAVE_UP:
    c->gave_up++;
    break;
  }
}

static void test_rtsp_read_drop_reconnect(void **st) {
  char url[128];
  snprintf(url, sizeof url, "rtsp://127.0.0.1:%d/live", free_port());
  int64_t t_start = vg_now_ns();
  g_pub = start_publisher(url);
  counts c = {0};
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.rtsp_listen = true;
  o.open_timeout_ms = 15000;
  o.read_timeout_ms = 3000;
  o.reconnect_attempts = 10;
  o.reconnect_initial_ms = 100;
  o.reconnect_max_ms = 400;
  o.on_event = on_event;
  o.event_user = &c;
  o.stream_id = 9;
  vg_source *s = NULL;
  vg_status rc = vg_source_open(url, &o, &s);
  if (rc != VG_OK) {
    stop_publisher(g_pub);
    g_pub = 0;
    fail_msg("open %s: %s", url, vg_last_error());
  }
  vg_source_info info;
  vg_source_get_info(s, &info);
  assert_true(info.live);
  assert_string_equal(info.codec, "h264");
  assert_int_equal(info.width, 320);

  int64_t deadline = vg_now_ns() + 90LL * 1000000000;
  int n = 0, after = 0;
  double last_t = -1;
  bool restarted = false;
  int64_t t_kill = 0, t_back = 0; /* the camera killed; its first frame delivered after that */
  while (after < 10) {
    if (vg_now_ns() > deadline) break;
    vg_frame f;
    rc = vg_source_read(s, &f, 15000);
    if (rc != VG_OK) break;
    assert_int_equal(f.frame_no, n);
    assert_int_equal(f.stream_id, 9);
    double t = (double)f.pts * f.tb_num / f.tb_den;
    if (t <= last_t)
      fail_msg("frame %d at %.4f s, not after %.4f s (pts %lld tb %d/%d)", n, t, last_t,
               (long long)f.pts, f.tb_num, f.tb_den);
    last_t = t;
    vg_frame_release(&f);
    n++;
    if (restarted && !t_back && c.reconnected) t_back = vg_now_ns(); /* a frame of the new stream */
    if (n == 10 && !restarted) {
      t_kill = vg_now_ns();
      stop_publisher(g_pub);        /* the camera goes away ... */
      g_pub = start_publisher(url); /* ... and comes back */
      restarted = true;
    }
    vg_source_get_info(s, &info);
    if (info.reconnects > 0) after++;
    if (getenv("VG_TEST_VERBOSE"))
      printf("%.3f frame %d t %.3f reconnects %lld\n", (vg_now_ns() - t_start) / 1e9, n, t,
             (long long)info.reconnects);
  }
  vg_source_get_info(s, &info);
  printf("rtsp: %d frames, %lld reconnects; events: %d disconnected, %d reconnecting, %d "
         "reconnected, %d gave up\n",
         n, (long long)info.reconnects, c.disconnected, c.reconnecting, c.reconnected, c.gave_up);
  /* measured, not asserted (no timed assertions in unit tests): docs/RELIABILITY.md */
  if (t_back)
    printf("rtsp: camera killed and restarted: reconnected after %.0f ms, first new frame after "
           "%.0f ms (a new publisher process and its connect retries included)\n",
           (double)(c.t_reconnected - t_kill) / 1e6, (double)(t_back - t_kill) / 1e6);
  vg_source_close(s);
  stop_publisher(g_pub);
  g_pub = 0;
  if (after < 10) fail_msg("no frames after the reconnect (%s)", vg_last_error());
  assert_true(info.reconnects >= 1);
  assert_true(c.disconnected >= 1);
  assert_true(c.reconnected >= 1);
  assert_int_equal(c.gave_up, 0);
}

int main(void) {
  vg_log_set_level(NULL, VG_LOG_ERROR);
  if (!vg_video_have_ffmpeg()) {
    printf("SKIP: this build has no FFmpeg (no RTSP)\n");
    return 77;
  }
  if (system("command -v ffmpeg >/dev/null") != 0) {
    printf("SKIP: the ffmpeg CLI is not installed (publisher)\n");
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_rtsp_read_drop_reconnect, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
