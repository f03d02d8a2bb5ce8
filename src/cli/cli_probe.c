/* cli_probe.c - `vidgraph probe URL [--count] [--json]`: vidgraph's own view of a source, like
 * ffprobe: container, streams, codec, profile, size, frame rate, duration, the decoder `auto`
 * (or --decoder) picks on this machine and why, and with --count the frames actually decoded and
 * the corrupt packets skipped. */
#include "cli.h"
#include "core/json_out.h"
#include "vidgraph/vg_video.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *out) {
  fprintf(out, "usage: vidgraph probe URL [--count] [--json] [--decoder auto|nvdec|cpu]\n"
               "                        [--timeout MS] [--device N]\n"
               "  URL: a video file, a raw .h264/.hevc stream, rtsp://, http(s)://, an image or a\n"
               "       folder of images\n"
               "  --count     decode the whole source and count frames and corrupt packets\n"
               "  --json      one JSON object on stdout\n"
               "  --timeout   open/read timeout in milliseconds (default 10000)\n");
  return out == stdout ? 0 : 2;
}

/* Every string goes through vg_json_text: a file name (or a message quoting one) that is not
 * UTF-8 is repaired instead of making the whole object NULL. */
static json_t *info_json(const vg_source_info *in, bool counted, int64_t frames) {
  char dev[32];
  json_t *streams = json_array();
  for (int i = 0; i < in->nstreams && i < VG_SOURCE_MAX_STREAMS; i++)
    json_array_append_new(streams, json_pack("{s:i,s:o,s:o}", "index", in->streams[i].index, "type",
                                             vg_json_text(in->streams[i].type), "codec",
                                             vg_json_text(in->streams[i].codec)));
  json_t *o =
      json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:i,s:i,s:f,s:f,s:b,s:{s:s,s:o,s:o,s:s}}", "url",
                vg_json_text(in->url), "container", vg_json_text(in->container), "streams", streams,
                "codec", vg_json_text(in->codec), "codec_long", vg_json_text(in->codec_long),
                "profile", vg_json_text(in->profile), "width", in->width, "height", in->height,
                "bit_depth", in->bit_depth, "fps", in->fps, "duration_sec", in->duration_sec,
                "live", in->live, "decoder", "name", vg_decoder_name(in->decoder), "reason",
                vg_json_text(in->decoder_reason), "detail", vg_json_text(in->decoder_detail),
                "device", vg_device_str(in->output_device, dev, sizeof dev));
  if (o && counted) {
    json_object_set_new(o, "frames", json_integer(frames));
    json_object_set_new(o, "frames_decoded", json_integer(in->frames_decoded));
    json_object_set_new(o, "corrupt_packets", json_integer(in->corrupt_packets));
    json_object_set_new(o, "concealed_frames", json_integer(in->concealed_frames));
  }
  return o;
}

static void print_text(const vg_source_info *in, bool counted, int64_t frames) {
  char dev[32];
  printf("url:        %s\n", in->url);
  printf("container:  %s\n", in->container);
  for (int i = 0; i < in->nstreams && i < VG_SOURCE_MAX_STREAMS; i++)
    printf("stream %d:   %s %s\n", in->streams[i].index, in->streams[i].type, in->streams[i].codec);
  printf("codec:      %s (%s)%s%s\n", in->codec, in->codec_long, in->profile[0] ? " profile " : "",
         in->profile);
  printf("size:       %dx%d, %d-bit\n", in->width, in->height, in->bit_depth);
  printf("fps:        %.3f\n", in->fps);
  if (in->live)
    printf("duration:   live\n");
  else
    printf("duration:   %.3f s\n", in->duration_sec);
  printf("decoder:    %s on %s: %s\n", vg_decoder_name(in->decoder),
         vg_device_str(in->output_device, dev, sizeof dev), in->decoder_detail);
  printf("why:        %s\n", in->decoder_reason);
  if (counted)
    printf("frames:     %lld (decoded %lld, corrupt packets skipped %lld, concealed %lld)\n",
           (long long)frames, (long long)in->frames_decoded, (long long)in->corrupt_packets,
           (long long)in->concealed_frames);
}

static bool parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

int cli_probe(int argc, char **argv) {
  const char *url = NULL;
  bool count = false, json = false;
  vg_source_opts o;
  vg_source_opts_default(&o);
  long timeout = 10000;
  for (int i = 1; i < argc; i++) {
    long v;
    if (cli_is(argv[i], "-h", "--help")) return usage(stdout);
    if (cli_is(argv[i], "--count", "-c"))
      count = true;
    else if (cli_is(argv[i], "--json", NULL))
      json = true;
    else if (cli_is(argv[i], "--decoder", NULL) && i + 1 < argc) {
      if (vg_decoder_parse(argv[++i], &o.decoder) != VG_OK) return cli_fail("probe", "--decoder");
    } else if (cli_is(argv[i], "--timeout", NULL) && i + 1 < argc) {
      if (!parse_int(argv[++i], 1, 3600000, &timeout)) {
        fprintf(stderr, "vidgraph probe: --timeout wants milliseconds, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (cli_is(argv[i], "--device", NULL) && i + 1 < argc) {
      if (!parse_int(argv[++i], 0, 64, &v)) {
        fprintf(stderr, "vidgraph probe: --device wants a CUDA ordinal, got '%s'\n", argv[i]);
        return 2;
      }
      o.device = (int)v;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "vidgraph probe: unknown option '%s'\n", argv[i]);
      return usage(stderr);
    } else if (!url)
      url = argv[i];
    else {
      fprintf(stderr, "vidgraph probe: one URL only ('%s' and '%s')\n", url, argv[i]);
      return 2;
    }
  }
  if (!url) return usage(stderr);
  o.open_timeout_ms = o.read_timeout_ms = (int)timeout;
  o.reconnect_attempts = 0; /* a probe reports a dropped live source instead of waiting */
  vg_source *s;
  if (vg_source_open(url, &o, &s) != VG_OK) return cli_fail("probe", "cannot probe");
  int64_t frames = 0;
  vg_status st = VG_OK;
  vg_frame f;
  /* one frame also tells the real size of raw streams (NVDEC's parser finds it) */
  while ((st = vg_source_read(s, &f, (int)timeout)) == VG_OK) {
    frames++;
    vg_frame_release(&f);
    if (!count) break;
  }
  vg_source_info in;
  vg_source_get_info(s, &in);
  int rc = 0;
  if (st != VG_OK && st != VG_ERR_EOF) rc = cli_fail("probe", "reading failed");
  if (json) {
    json_t *o_json = info_json(&in, count, frames);
    char *text = vg_json_dump_text(o_json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text)
      printf("%s\n", text);
    else
      rc = cli_fail("probe", "--json");
    free(text);
    json_decref(o_json);
  } else {
    print_text(&in, count, frames);
  }
  vg_source_close(s);
  return rc;
}
