/* A live RTSP source on the loopback address, read, dropped and reconnected, both ways round.
 * - vidgraph listens (rtsp_listen: FFmpeg's RTSP server side is its demuxer with `-rtsp_flags
 *   listen`) and an `ffmpeg -re -f rtsp` process publishes a looping fixture to it; the
 *   publisher is killed and a new one started.
 * - vidgraph is the client of a camera: tests/tools/rtsp_server.py (the ffmpeg CLI cannot serve
 *   RTSP to a client) serves the raw H.264 fixture; the server is killed and, 300 ms later, a new
 *   one started on the same port.
 * Either way the source reports the disconnect, reconnects with backoff and goes on delivering
 * frames with increasing frame numbers and timestamps; the reconnect time is printed, never
 * asserted. Bounded: every read has a timeout and the whole test a deadline. */
#include "unit/test_video_util.h"
#include "vidgraph/vg_video.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
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

/* $VG_PYTHON, else Debian's python3 (a pyenv shim on PATH costs ~1 s a start here), else PATH's */
static const char *python(void) {
  if (getenv("VG_PYTHON")) return getenv("VG_PYTHON");
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* The camera: tests/tools/rtsp_server.py serving the raw H.264 fixture at 25 fps on
 * rtsp://127.0.0.1:port/cam, in its own process group. It starts after delay_ms (in the child, so
 * the reader goes on meanwhile); with wait, this returns once it printed its "listening" line.
 * Its stdout stays in *out (closed by stop_camera), its stderr is quiet unless VG_TEST_VERBOSE. */
static pid_t start_camera(int port, int delay_ms, bool wait, int *out) {
  char script[700], file[700], p[16];
  snprintf(script, sizeof script, "%s/tests/tools/rtsp_server.py", vg_test_root());
  snprintf(file, sizeof file, "%s", fx("h264_raw.h264")); /* generated before the fork */
  snprintf(p, sizeof p, "%d", port);
  if (access(script, R_OK) != 0) fail_msg("%s: not found (VG_SOURCE_DIR?)", script);
  const char *py = python();
  bool quiet = !getenv("VG_TEST_VERBOSE");
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork(); /* the reader thread may run: only async-signal-safe calls in the child */
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    if (quiet) {
      int nul = open("/dev/null", O_WRONLY);
      if (nul >= 0) dup2(nul, 2);
    }
    if (delay_ms > 0) usleep((useconds_t)delay_ms * 1000);
    execlp(py, "python3", script, "--port", p, "--file", file, "--fps", "25", (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid);
  close(fds[1]);
  *out = fds[0];
  if (!wait) return pid;
  char line[256];
  size_t n = 0;
  int64_t deadline = vg_now_ns() + 30LL * 1000000000;
  while (n < sizeof line - 1 && !memchr(line, '\n', n)) {
    int left = (int)((deadline - vg_now_ns()) / 1000000);
    struct pollfd pf = {.fd = fds[0], .events = POLLIN};
    if (left <= 0 || poll(&pf, 1, left) <= 0) break;
    ssize_t r = read(fds[0], line + n, sizeof line - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  line[n] = 0;
  if (!strstr(line, "rtsp_server: listening on")) {
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("the RTSP server did not start (VG_TEST_VERBOSE=1 shows its errors): '%s'", line);
  }
  return pid;
}

/* the publisher's or camera's process group (and the camera's stdout), killed by the teardown
 * also when an assertion fails */
static pid_t g_pub;
static int g_port, g_cam_out = -1;

static void stop_camera(void) {
  if (g_pub > 0) stop_publisher(g_pub);
  g_pub = 0;
  if (g_cam_out >= 0) close(g_cam_out);
  g_cam_out = -1;
}

static int teardown(void **st) {
  stop_camera();
  return 0;
}

typedef struct counts {
  atomic_int disconnected, reconnecting, reconnected, gave_up;
  _Atomic int64_t t_reconnected; /* when the first RECONNECTED event came */
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
    if (!c->t_reconnected) c->t_reconnected = vg_now_ns();
    c->reconnected++;
    break;
  case VG_VIDEO_EVENT_GAVE_UP:
    c->gave_up++;
    break;
  }
}

/* the camera goes away (SIGKILL of its process group) and comes back */
static void restart_publisher(const char *url) {
  stop_publisher(g_pub);
  g_pub = start_publisher(url);
}

static void restart_server(const char *url) {
  stop_camera();
  g_pub = start_camera(g_port, 300, false, &g_cam_out);
}

/* Opens url, reads 10 frames, restarts the camera, reads until 10 frames of the new stream came;
 * frame numbers and timestamps must go on increasing. */
static void read_through_restart(const char *url, bool listen, int width,
                                 void (*restart)(const char *url), const char *what) {
  int64_t t_start = vg_now_ns();
  counts c = {0};
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.rtsp_listen = listen;
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
  if (rc != VG_OK) fail_msg("open %s: %s", url, vg_last_error());
  vg_source_info info;
  vg_source_get_info(s, &info);
  assert_true(info.live);
  assert_string_equal(info.codec, "h264");
  assert_int_equal(info.width, width);

  int64_t deadline = vg_now_ns() + 90LL * 1000000000;
  int n = 0, after = 0; /* frames; of the new stream (their packets read after RECONNECTED) */
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
    int64_t t_back_from = c.t_reconnected;
    bool fresh = restarted && t_back_from && f.t_capture_ns >= t_back_from;
    vg_frame_release(&f);
    n++;
    if (fresh) {
      after++;
      if (!t_back) t_back = vg_now_ns();
    }
    if (n == 10 && !restarted) {
      t_kill = vg_now_ns();
      restart(url);
      restarted = true;
    }
    if (getenv("VG_TEST_VERBOSE")) {
      vg_source_get_info(s, &info);
      printf("%.3f frame %d t %.3f reconnects %lld%s\n", (vg_now_ns() - t_start) / 1e9, n, t,
             (long long)info.reconnects, fresh ? " (new stream)" : "");
    }
  }
  vg_source_get_info(s, &info);
  printf("%s: %d frames, %lld reconnects; events: %d disconnected, %d reconnecting, %d "
         "reconnected, %d gave up\n",
         what, n, (long long)info.reconnects, c.disconnected, c.reconnecting, c.reconnected,
         c.gave_up);
  /* measured, not asserted (no timed assertions in unit tests): docs/RELIABILITY.md */
  if (t_back)
    printf("%s: camera killed and restarted: reconnected after %.0f ms, first new frame after "
           "%.0f ms (%s)\n",
           what, (double)(c.t_reconnected - t_kill) / 1e6, (double)(t_back - t_kill) / 1e6,
           listen ? "a new publisher process and its connect retries included"
                  : "a new server process started 300 ms after the kill included");
  vg_source_close(s);
  stop_camera();
  if (after < 10) fail_msg("no frames after the reconnect (%s)", vg_last_error());
  assert_true(info.reconnects >= 1);
  assert_true(c.disconnected >= 1);
  assert_true(c.reconnected >= 1);
  assert_int_equal(c.gave_up, 0);
}

/* vidgraph listens, an ffmpeg process publishes to it */
static void test_rtsp_read_drop_reconnect(void **st) {
  char url[128];
  snprintf(url, sizeof url, "rtsp://127.0.0.1:%d/live", free_port());
  g_pub = start_publisher(url);
  read_through_restart(url, true, 320, restart_publisher, "rtsp");
}

/* vidgraph is the client of a camera server that dies and comes back on the same port */
static void test_rtsp_client_server_restart(void **st) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "command -v '%s' >/dev/null 2>&1", python());
  if (system(cmd) != 0) {
    printf("SKIP: %s is not installed (tests/tools/rtsp_server.py)\n", python());
    skip();
  }
  g_port = free_port();
  char url[128];
  snprintf(url, sizeof url, "rtsp://127.0.0.1:%d/cam", g_port);
  g_pub = start_camera(g_port, 0, true, &g_cam_out);
  read_through_restart(url, false, 352, restart_server, "rtsp client");
}

int main(void) {
  vg_log_set_level(NULL, VG_LOG_ERROR);
  if (!vg_video_have_ffmpeg()) {
    printf("SKIP: this build has no FFmpeg (no RTSP)\n");
    return 77;
  }
  if (system("command -v ffmpeg >/dev/null") != 0) {
    printf("SKIP: the ffmpeg CLI is not installed (publisher, fixtures)\n");
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_rtsp_read_drop_reconnect, teardown),
      cmocka_unit_test_teardown(test_rtsp_client_server_restart, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
