/* shm_client.c - the shared-memory round trip against a running `vidgraph serve`, with the C
 * client library (vg_client.h):
 *   1. create a region (mode 0600) and register it (POST /api/shm);
 *   2. write N synthetic RGB frames into it and build their references;
 *   3. check that the server refuses a bad reference (past the region's end) with a 400 naming
 *      the field, and an unregistered region;
 *   4. with --graph: POST /api/runs {"graph", "inputs":[{"shm": REF}...]}, poll the run until it
 *      ends, map every output reference it lists (server regions), check their sizes, and release
 *      them (DELETE /api/shm/{name});
 *   5. release and unlink the region.
 * Prints one line per step; exit status 0 when every step passed.
 *
 *   shm_client [--url http://127.0.0.1:8080] [--token TOKEN] [--graph NAME] [--frames N]
 *              [--width W] [--height H] [--timeout-s S]
 * The token can also come from VG_TOKEN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "vidgraph/vg_client.h"

typedef struct options {
  const char *url, *token, *graph;
  int frames, width, height, timeout_s;
} options;

static int fail(const char *step, const char *why) {
  fprintf(stderr, "shm_client: FAILED at %s: %s\n", step, why);
  return 1;
}

static int parse_args(int argc, char **argv, options *o) {
  *o = (options){"http://127.0.0.1:8080", getenv("VG_TOKEN"), NULL, 4, 320, 240, 60};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return fail("arguments", "every option takes a value");
    if (!strcmp(a, "--url"))
      o->url = v;
    else if (!strcmp(a, "--token"))
      o->token = v;
    else if (!strcmp(a, "--graph"))
      o->graph = v;
    else if (!strcmp(a, "--frames"))
      o->frames = atoi(v);
    else if (!strcmp(a, "--width"))
      o->width = atoi(v);
    else if (!strcmp(a, "--height"))
      o->height = atoi(v);
    else if (!strcmp(a, "--timeout-s"))
      o->timeout_s = atoi(v);
    else
      return fail("arguments", "unknown option (see the comment on top of shm_client.c)");
    i++;
  }
  if (o->frames < 1 || o->frames > 64 || o->width < 2 || o->height < 2 || o->width > 8192 ||
      o->height > 8192)
    return fail("arguments", "--frames 1..64, --width/--height 2..8192");
  return 0;
}

/* A moving bright square on a gradient, different in every frame. */
static void draw(uint8_t *rgb, int w, int h, int n) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *p = rgb + ((size_t)y * w + x) * 3;
      int in = x >= n * 8 && x < n * 8 + w / 4 && y >= h / 3 && y < h / 3 + h / 4;
      p[0] = in ? 250 : (uint8_t)(x * 255 / w);
      p[1] = in ? 250 : (uint8_t)(y * 255 / h);
      p[2] = in ? 250 : 60;
    }
}

/* POST /api/runs with one input reference; returns the HTTP status, the answer in *rsp. */
static int post_run(vg_client *c, const char *graph, const char *refs, vg_client_response *rsp) {
  size_t cap = strlen(refs) + 512;
  char *body = malloc(cap);
  json_t *g = json_string(graph ? graph : "default");
  char *gs = json_dumps(g, JSON_ENCODE_ANY);
  snprintf(body, cap, "{\"graph\":%s,\"inputs\":[%s]}", gs, refs);
  free(gs);
  json_decref(g);
  vg_status s = vg_client_request(c, "POST", "/api/runs", body, rsp);
  free(body);
  return s == VG_OK ? rsp->status : -1;
}

/* The server must answer a bad reference with a 400 whose detail names `field`. */
static int expect_refused(vg_client *c, const char *graph, const char *ref, const char *field) {
  vg_client_response rsp;
  char wrapped[1024];
  snprintf(wrapped, sizeof wrapped, "{\"shm\":%s}", ref);
  int st = post_run(c, graph, wrapped, &rsp);
  int ok = st == 400 && rsp.body && strstr(rsp.body, field);
  printf("bad reference (%s): HTTP %d %s\n", field, st, rsp.body ? rsp.body : "");
  vg_client_response_free(&rsp);
  return ok ? 0 : fail("bad reference", "expected a 400 naming the field");
}

/* Polls the run until it leaves "running"; maps, checks and releases its output regions. */
static int follow_run(vg_client *c, const char *id, int timeout_s) {
  char path[128];
  snprintf(path, sizeof path, "/api/runs/%s", id);
  for (int i = 0; i < timeout_s * 10; i++) {
    vg_client_response rsp;
    if (vg_client_request(c, "GET", path, NULL, &rsp) != VG_OK) return fail("run", vg_last_error());
    json_t *run = json_loads(rsp.body, 0, NULL);
    vg_client_response_free(&rsp);
    const char *state = json_string_value(json_object_get(run, "state"));
    if (!state) {
      json_decref(run);
      return fail("run", "GET /api/runs/{id} without a state");
    }
    if (strcmp(state, "running") != 0) {
      json_t *outs = json_object_get(run, "outputs");
      printf("run %s: %s, %lld frames, %zu output references\n", id, state,
             (long long)json_integer_value(json_object_get(run, "frames")), json_array_size(outs));
      int bad = strcmp(state, "succeeded") != 0;
      size_t k;
      json_t *ref;
      json_array_foreach(outs, k, ref) {
        const char *name = json_string_value(json_object_get(ref, "shm_name"));
        json_int_t bytes = json_integer_value(json_object_get(ref, "bytes"));
        vg_client_region *o = NULL;
        if (!name || vg_client_region_open(name, &o) != VG_OK ||
            (json_int_t)vg_client_region_size(o) < bytes) {
          bad = 1;
          fprintf(stderr, "output %zu: %s\n", k, vg_last_error());
        } else {
          printf("output %zu: %s %s %lld bytes mapped\n", k, name,
                 json_string_value(json_object_get(ref, "format")), (long long)bytes);
        }
        vg_client_region_destroy(o);
        if (name && vg_client_release(c, name) != VG_OK) bad = 1;
      }
      json_decref(run);
      return bad ? fail("run", "the run did not succeed or an output was unreadable") : 0;
    }
    json_decref(run);
    usleep(100 * 1000);
  }
  return fail("run", "still running after the timeout");
}

static int round_trip(vg_client *c, const options *o) {
  vg_client_response rsp;
  if (vg_client_request(c, "GET", "/api/health", NULL, &rsp) != VG_OK || rsp.status != 200)
    return fail("health", rsp.status ? rsp.body : vg_last_error());
  vg_client_response_free(&rsp);
  size_t fbytes = (size_t)o->width * o->height * 3;
  vg_client_region *reg = NULL;
  if (vg_client_region_create(NULL, fbytes * (size_t)o->frames, &reg) != VG_OK)
    return fail("create region", vg_last_error());
  int rc = 0;
  if (vg_client_register(c, reg) != VG_OK) {
    rc = fail("register", vg_last_error());
    goto done;
  }
  printf("registered %s (%zu bytes)\n", vg_client_region_name(reg), vg_client_region_size(reg));
  uint8_t *rgb = malloc(fbytes);
  size_t cap = (size_t)o->frames * 600;
  char *refs = calloc(1, cap), ref[512];
  for (int n = 0; n < o->frames; n++) {
    draw(rgb, o->width, o->height, n);
    const uint8_t *planes[2] = {rgb, NULL};
    const int pitches[2] = {o->width * 3, 0};
    if (vg_client_write_frame(reg, fbytes * (size_t)n, VG_PIX_RGB24, o->width, o->height, planes,
                              pitches, n, ref, sizeof ref) != VG_OK) {
      rc = fail("write frame", vg_last_error());
      break;
    }
    size_t l = strlen(refs);
    snprintf(refs + l, cap - l, "%s{\"shm\":%s}", n ? "," : "", ref);
  }
  free(rgb);
  printf("wrote %d frames %dx%d rgb24\n", o->frames, o->width, o->height);
  if (rc == 0) {
    /* past the end of the region: the first frame's reference moved to the last byte */
    char bad[512];
    snprintf(bad, sizeof bad,
             "{\"shm_name\":\"%s\",\"offset\":%zu,\"bytes\":%zu,\"dtype\":\"uint8\","
             "\"shape\":[%d,%d,3],\"format\":\"rgb24\"}",
             vg_client_region_name(reg), vg_client_region_size(reg) - 1, fbytes, o->height,
             o->width);
    rc = expect_refused(c, o->graph, bad, "bytes");
  }
  if (rc == 0) {
    char bad[512];
    snprintf(bad, sizeof bad,
             "{\"shm_name\":\"/vg-not-registered\",\"offset\":0,\"bytes\":12,\"dtype\":\"uint8\","
             "\"shape\":[2,2,3],\"format\":\"rgb24\"}");
    rc = expect_refused(c, o->graph, bad, "shm_name");
  }
  if (rc == 0 && o->graph) {
    int st = post_run(c, o->graph, refs, &rsp);
    json_t *j = st == 201 ? json_loads(rsp.body, 0, NULL) : NULL;
    const char *id = json_string_value(json_object_get(j, "id"));
    if (!id)
      rc = fail("POST /api/runs", rsp.body ? rsp.body : vg_last_error());
    else
      rc = follow_run(c, id, o->timeout_s);
    json_decref(j);
    vg_client_response_free(&rsp);
  }
  free(refs);
  if (vg_client_release(c, vg_client_region_name(reg)) != VG_OK && rc == 0)
    rc = fail("release", vg_last_error());
done:
  vg_client_region_destroy(reg);
  return rc;
}

int main(int argc, char **argv) {
  options o;
  if (parse_args(argc, argv, &o)) return 2;
  vg_client *c = NULL;
  if (vg_client_create(o.url, o.token, &c) != VG_OK) return fail("url", vg_last_error()) + 1;
  int rc = round_trip(c, &o);
  vg_client_destroy(c);
  if (rc == 0) printf("shm round trip: ok\n");
  return rc;
}
