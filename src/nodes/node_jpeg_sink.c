/* node_jpeg_sink.c - the `jpeg_sink` node: JPEG snapshots of frames into a folder, every N-th
 * frame of a stream (params.every) and/or whenever the packet carries objects (params.on_objects:
 * connect a count node's `events` port to snapshot crossings), named
 * <prefix>_s<stream>_f<frame>.jpg, at most max_files files per run. params.path is the folder
 * (created when absent; `vidgraph run` puts a relative one inside its --output folder, as it
 * does for every sink's path).
 *
 * The input port takes the packet as it is (no scheduler copy): most frames are not written, so
 * a device frame is only touched for the snapshots actually taken: encoded on its GPU with nvJPEG
 * when the library is there (only the JPEG bytes cross: counted as nvjpeg/jpeg_bytes_to_host), or
 * read back once by vg_jpeg_write (counted as copies in the summary). */
#include "node_det_util.h"
#include "vidgraph/vg_video.h"

#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct jpeg_state {
  const char *dir, *prefix;
  int64_t every;
  int64_t max_files;
  bool on_objects;
  int quality;
  atomic_llong slots; /* files reserved so far (max_files caps them) */
} jpeg_state;

enum { STAT_WRITTEN = VG_STAT_NODE0, STAT_NOT_WRITTEN, STAT_NVJPEG, STAT_JPEG_BYTES };

static const vg_param k_params[] = {
    VG_P_STRING(jpeg_state, dir, "path", NULL, "folder of the snapshots (created when absent)",
                .required = true),
    VG_P_INT64(jpeg_state, every, "every", 0, 0, INT64_MAX / 2,
               "snapshot every N-th frame of a stream; 0 = never"),
    VG_P_BOOL(jpeg_state, on_objects, "on_objects", false, "snapshot frames that carry objects"),
    VG_P_INT(jpeg_state, quality, "quality", 90, 1, 100, "JPEG quality"),
    VG_P_STRING(jpeg_state, prefix, "prefix", "snap",
                "file names: <prefix>_s<stream>_f<frame>.jpg"),
    VG_P_INT64(jpeg_state, max_files, "max_files", 10000, 1, 100000000, "files per run at most"),
    {0}};

/* The folder exists (created when absent, one level) and is a folder. */
static vg_status make_dir(const char *dir) {
  struct stat sb;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return vg_set_error(VG_ERR_IO, "cannot create the snapshot folder '%s': %s", dir,
                        strerror(errno));
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return vg_set_error(VG_ERR_IO, "snapshot folder '%s' is not a folder", dir);
  return VG_OK;
}

static vg_status jpeg_init(vg_node *self, const vg_cnode *params, void **state) {
  jpeg_state *s = *state;
  if (s->every == 0 && !s->on_objects)
    return vg_set_error(VG_ERR_PARSE,
                        "params: nothing to write: set every (N > 0) and/or on_objects: true");
  if (strlen(s->prefix) >= 64 || strchr(s->prefix, '/'))
    return vg_cnode_error(vg_cnode_get(params, "prefix"), VG_ERR_PARSE,
                          "prefix: at most 63 characters, no '/'");
  if (strlen(s->dir) >= 1024 - 64)
    return vg_cnode_error(vg_cnode_get(params, "path"), VG_ERR_PARSE, "path: too long");
  return make_dir(s->dir);
}

static bool wanted(const jpeg_state *s, const vg_packet *p) {
  int64_t fno = vg_packet_frame_no(p);
  if (s->every > 0 && fno >= 0 && fno % s->every == 0) return true;
  return s->on_objects && vg_packet_objects(p)->count > 0;
}

/* Reserves a file slot (false when max_files is reached). */
static bool take_slot(vg_node *node, jpeg_state *s) {
  if (atomic_fetch_add(&s->slots, 1) < s->max_files) return true;
  vg_node_stat_add(node, STAT_NOT_WRITTEN, 1);
  return false;
}

static vg_status jpeg_process(vg_call *c) {
  jpeg_state *s = c->state;
  for (int i = 0; i < c->n; i++) {
    const vg_packet *p = c->io[i].in[0];
    if ((vg_packet_flags(p) & VG_PACKET_EOS) || !wanted(s, p)) continue;
    const vg_frame *f = vg_packet_frame(p);
    if (!f)
      return vg_set_error(VG_ERR_INVALID_ARG, "stream %d frame %lld has no picture to snapshot",
                          vg_packet_stream(p), (long long)vg_packet_frame_no(p));
    if (!take_slot(c->node, s)) continue;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s_s%d_f%06lld.jpg", s->dir, s->prefix, vg_packet_stream(p),
             (long long)vg_packet_frame_no(p));
    vg_jpeg_path how = VG_JPEG_HOST;
    size_t bytes = 0;
    VG_TRY(vg_jpeg_write_ex(f, path, s->quality, &how, &bytes));
    vg_node_stat_add(c->node, STAT_WRITTEN, 1);
    if (how == VG_JPEG_READBACK) { /* vg_jpeg_write read the frame back */
      vg_node_stat_add(c->node, VG_STAT_COPIES, 1);
      vg_node_stat_add(c->node, VG_STAT_COPY_BYTES, f->buffer ? vg_buffer_size(f->buffer) : 0);
    } else if (how == VG_JPEG_NVJPEG) { /* only the JPEG bytes crossed */
      vg_node_stat_add(c->node, STAT_NVJPEG, 1);
      vg_node_stat_add(c->node, STAT_JPEG_BYTES, (uint64_t)bytes);
    }
  }
  return VG_OK;
}

static char *jpeg_describe(void *state) {
  jpeg_state *s = state;
  json_t *o = json_pack("{s:s}", "path", s->dir);
  char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  return t;
}

const vg_node_type vg_node_jpeg_sink = {
    .name = "jpeg_sink",
    .doc = "JPEG snapshots into the folder params.path every N frames and/or when the packet has "
           "objects",
    .inputs = {{"in", VG_PORT_ANY}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .flags = VG_NODE_SEES_SKIPPED,
    .max_in_flight = 2,
    .params = k_params,
    .state_size = sizeof(jpeg_state),
    .init = jpeg_init,
    .process = jpeg_process,
    .describe = jpeg_describe,
    .stats = {"written", "not_written_max_files", "nvjpeg", "jpeg_bytes_to_host"},
};
