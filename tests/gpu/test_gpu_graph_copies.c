/* test_gpu_graph_copies.c - on a GPU: the scheduler places nodes on CUDA streams, moves pictures
 * between host and device only where a consumer needs them elsewhere, counts every copy, and a
 * pipeline whose CPU consumers read only objects makes zero picture copies to the host. Also
 * checks that pictures that do come back hold the right pixels (cross-stream events + copies). */
#include "vg_test.h"

#include <pthread.h>

#include "vidgraph/vg_graph.h"
#include "vg_test_nodes.h"

/* Needs the picture on its own device; adds one object carrying the device it ran on. */
static vg_status frame_user_process(vg_call *c) {
  for (int i = 0; i < c->n; i++) {
    const vg_frame *f = vg_packet_frame(c->io[i].in[0]);
    if (!f || !vg_device_eq(vg_frame_device(f), vg_node_device(c->node)))
      return vg_node_error(c->node, VG_ERR_STATE, "picture not on the node's device");
    vg_packet *p;
    VG_TRY(vg_packet_derive(c->io[i].in[0], &p));
    vg_objects *objs;
    vg_status s = vg_packet_objects_edit(p, &objs);
    vg_object o = vg_object_init();
    o.class_id = vg_node_device(c->node).kind;
    if (s == VG_OK) s = vg_objects_push(objs, &o);
    if (s != VG_OK) {
      vg_packet_unref(p);
      return s;
    }
    c->io[i].out[0] = p;
  }
  return VG_OK;
}

static const vg_node_type frame_user = {
    .name = "frame_user",
    .inputs = {{"in", VG_PORT_FRAME}},
    .outputs = {{"out", VG_PORT_FORWARD | VG_PORT_OBJECTS}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA,
    .preferred = VG_DEVICE_CUDA,
    .process = frame_user_process,
};

/* Reads objects only (a JSON-like sink); counts frames. */
typedef struct tally {
  pthread_mutex_t mu;
  int frames, objects, pixels_ok;
} tally;
static tally g_tally;

static vg_status objects_user_process(vg_call *c) {
  pthread_mutex_lock(&g_tally.mu);
  for (int i = 0; i < c->n; i++) {
    g_tally.frames++;
    g_tally.objects += (int)vg_packet_objects(c->io[i].in[0])->count;
  }
  pthread_mutex_unlock(&g_tally.mu);
  return VG_OK;
}
static const vg_node_type objects_user = {
    .name = "objects_user",
    .inputs = {{"in", VG_PORT_OBJECTS}},
    .devices = VG_DEVICES_CPU,
    .flags = VG_NODE_ORDERED,
    .process = objects_user_process,
};

/* Needs the picture on the host and checks test_source's grey level survived the round trip. */
static vg_status host_frame_process(vg_call *c) {
  pthread_mutex_lock(&g_tally.mu);
  for (int i = 0; i < c->n; i++) {
    const vg_frame *f = vg_packet_frame(c->io[i].in[0]);
    int64_t fno = vg_packet_frame_no(c->io[i].in[0]);
    int st = vg_packet_stream(c->io[i].in[0]);
    if (f && vg_frame_device(f).kind == VG_DEVICE_CPU &&
        vg_frame_plane(f,
                       0)[(size_t)f->pitch[0] * (size_t)(f->height - 1) + (size_t)f->width - 1] ==
            ((fno + st) & 255))
      g_tally.pixels_ok++;
  }
  pthread_mutex_unlock(&g_tally.mu);
  return VG_OK;
}
static const vg_node_type host_frame = {
    .name = "host_frame",
    .inputs = {{"in", VG_PORT_FRAME}},
    .devices = VG_DEVICES_CPU,
    .process = host_frame_process,
};

static vg_registry *registry(void) {
  vg_registry *reg;
  VG_ASSERT_OK(vg_test_registry_create(&reg));
  VG_ASSERT_OK(vg_registry_add(reg, &frame_user));
  VG_ASSERT_OK(vg_registry_add(reg, &objects_user));
  VG_ASSERT_OK(vg_registry_add(reg, &host_frame));
  return reg;
}

static void run_graph(const char *yaml, int cuda_streams, vg_run_summary *sum) {
  vg_registry *reg = registry();
  vg_graph *g;
  VG_ASSERT_OK(vg_graph_load_string(yaml, "gpu.yaml", NULL, 0, reg, &g));
  memset(&g_tally, 0, sizeof g_tally);
  pthread_mutex_init(&g_tally.mu, NULL);
  vg_run_options opt = {.workers = 2, .cuda_streams = cuda_streams};
  vg_run *r;
  VG_ASSERT_OK(vg_run_once(g, &opt, NULL, NULL, 0, 60000, &r));
  VG_ASSERT_OK(vg_run_get_summary(r, sum));
  char *json = vg_run_summary_json(sum);
  printf("%s\n", json);
  free(json);
  vg_run_destroy(r);
  vg_graph_free(g);
  vg_registry_free(reg);
}

/* source (host) -> up (cuda: 1 upload) -> det (cuda, other stream) -> sink (cpu, objects only) */
static void test_gpu_pipeline_no_frame_copies_to_host(void **state) {
  (void)state;
  vg_run_summary s;
  run_graph(
      "nodes:\n"
      "  - {id: src, type: test_source, params: {count: 40, streams: 2, width: 320, height: 240}}\n"
      "  - {id: up, type: frame_user, device: cuda}\n"
      "  - {id: det, type: frame_user, device: auto}\n"
      "  - {id: sink, type: objects_user}\n"
      "edges: [src -> up, up -> det, det -> sink]\n",
      2, &s);
  assert_int_equal(s.state, VG_RUN_SUCCEEDED);
  assert_int_equal(s.frames_done, 80);
  assert_int_equal(g_tally.frames, 80);
  assert_int_equal(g_tally.objects, 160); /* two objects per frame, both made on CUDA */
  assert_int_equal(s.copies_to_device, 80);
  assert_int_equal(s.frame_copies_to_host, 0);
  assert_int_equal(s.copies_to_host, 0);
  assert_int_equal(s.nodes[2].device.kind, VG_DEVICE_CUDA); /* auto chose the GPU */
  vg_run_summary_free(&s);
}

/* The same with a CPU consumer that needs the picture: one counted copy back per frame. */
static void test_gpu_frame_copy_back_counted(void **state) {
  (void)state;
  vg_run_summary s;
  run_graph("nodes:\n"
            "  - {id: src, type: test_source, params: {count: 25, width: 97, height: 31}}\n"
            "  - {id: up, type: frame_user, device: cuda:0}\n"
            "  - {id: check, type: host_frame}\n"
            "edges: [src -> up, up -> check]\n",
            1, &s);
  assert_int_equal(s.state, VG_RUN_SUCCEEDED);
  assert_int_equal(s.copies_to_device, 25);
  assert_int_equal(s.frame_copies_to_host, 25);
  assert_int_equal(g_tally.pixels_ok, 25);
  vg_run_summary_free(&s);
}

int main(void) {
  vg_test_require_gpu();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gpu_pipeline_no_frame_copies_to_host),
      cmocka_unit_test(test_gpu_frame_copy_back_counted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
