/* fuzz_es_stream.c - libFuzzer target: raw H.264/HEVC elementary streams. The first input byte
 * picks the codec (even: .h264, odd: .hevc), the rest is the stream, written to a temporary file.
 * It goes through the elementary-stream demuxer of the FFmpeg-less build (open check, chunked
 * reads, rewind) and then through vg_source_open with the CPU decoder as `vidgraph run` reads it
 * (probe, reader thread, NAL parsing and decoding in libavcodec, frame hand-over, close), at most
 * a few frames per input. */
#include "fuzz_util.h"
#include "video/video_internal.h"
#include "vidgraph/vg_video.h"

#define MAX_FRAMES 8

static void demux_es(const char *path) {
  vg_source_info info;
  memset(&info, 0, sizeof info);
  vg_source_opts o;
  vg_source_opts_default(&o);
  atomic_bool stop = false;
  vgv_demux_env env = {&o, &stop, &info};
  vgv_demux *d = NULL;
  if (vgv_demux_es_open(path, &env, &d) != VG_OK) return;
  for (int pass = 0; pass < 2; pass++) {
    vgv_packet pkt;
    while (d->read(d, &pkt) == VG_OK)
      if (pkt.size == 0 || !pkt.data) abort();
    if (d->rewind(d, 0) != VG_OK) break;
  }
  d->close(d);
}

static void decode(const char *path) {
  vg_source_opts o;
  vg_source_opts_default(&o);
  o.decoder = VG_DECODER_CPU;
  o.threads = 1;
  o.max_frames = MAX_FRAMES;
  o.output_frames = 2;
  o.open_timeout_ms = 2000;
  vg_source *s = NULL;
  if (vg_source_open(path, &o, &s) != VG_OK) return;
  for (int i = 0; i < MAX_FRAMES + 1; i++) {
    vg_frame f;
    if (vg_source_read(s, &f, 5000) != VG_OK) break;
    if (f.width <= 0 || f.height <= 0) abort();
    vg_frame_release(&f);
  }
  vg_source_info info;
  vg_source_get_info(s, &info);
  vg_source_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  if (size < 1) return 0;
  const char *path = fuzz_write_temp(data + 1, size - 1, (data[0] & 1) ? ".hevc" : ".h264");
  if (!path) return 0;
  demux_es(path);
  if (vg_video_have_ffmpeg()) decode(path);
  return 0;
}
