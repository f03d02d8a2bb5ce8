"""Generator of the benchmark clips (issue 13): the people-count scene of people.py, encoded as
raw Annex-B H.264 at the sizes bench/run.sh measures.

Run through scripts/make_bench_clips.sh [OUTDIR] [--force]. Writes into OUTDIR (default
bench/clips/):
  bench_1080p.h264   1920x1080, 25 fps, 250 frames (the detection suite, looped per stream)
  bench_4k.h264      3840x2160, 30 fps, 100 frames (the 4K tiles suite, looped, paced at 30 fps:
                     the same pictures with 30 fps timing in the stream's VUI)
  .bench_clips.stamp generator version stamp; a run with a matching stamp does nothing

The scene is rendered once by people.py's own code (the same figures and paths as
samples/people.h264), then re-encoded: the 1080p clip as is, the 4K clip scaled 2x, both with a
higher CRF than the samples so that the pair stays small enough to be committed and carried to
the GPU machine (a few MB each). people.py and common.py are used, not changed, so the samples'
stamps stay valid. Deterministic: libx264 runs bit-exact.
"""

import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import people  # noqa: E402

PROG = "make_bench_clips"
VERSION = 2
STAMP = ".bench_clips.stamp"
# name, size, frames, fps, crf
CLIPS = (("bench_1080p.h264", (1920, 1080), 250, 25, 26),
         ("bench_4k.h264", (3840, 2160), 100, 30, 28))
OUTPUTS = tuple(c[0] for c in CLIPS)


def main(argv):
    force, outdir = False, None
    for a in argv:
        if a == "--force":
            force = True
        elif a in ("-h", "--help"):
            print("usage: scripts/make_bench_clips.sh [OUTDIR] [--force]   "
                  "(OUTDIR default bench/clips/)")
            return 0
        elif a.startswith("-") or outdir is not None:
            common.say(PROG, "unknown argument %r (usage: make_bench_clips.sh [OUTDIR] "
                             "[--force])" % a)
            return 2
        else:
            outdir = a
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    outdir = outdir or os.path.join(root, "bench", "clips")
    stamp = common.source_stamp("bench_clips", VERSION,
                                [os.path.abspath(__file__), os.path.join(here, "people.py"),
                                 os.path.join(here, "common.py")])
    if not force and common.up_to_date(outdir, STAMP, stamp, OUTPUTS):
        common.say(PROG, "%s is up to date (%s); --force regenerates" % (outdir, stamp))
        return 0
    try:
        common.need_tools()
        os.makedirs(outdir, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".clips-", dir=outdir) as tmp:
            figs = people.schedule(tmp)
            scene = os.path.join(tmp, "scene.mp4")
            people.render_video(tmp, figs, scene, os.path.join(tmp, "scene.h264"))
            for name, size, frames, fps, crf in CLIPS:
                h264 = os.path.join(tmp, name)
                common.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                            "-i", scene, "-frames:v", str(frames),
                            "-vf", "scale=%d:%d:flags=bicubic,format=yuv420p,setpts=N/%d/TB"
                            % (size[0], size[1], fps), "-r", str(fps),
                            "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf),
                            "-profile:v", "high", "-bf", "0", "-g", "50", "-keyint_min", "50",
                            "-sc_threshold", "0", "-threads", "2",
                            "-x264-params", "aud=1:repeat-headers=1",
                            "-colorspace", "bt709", "-color_primaries", "bt709",
                            "-color_trc", "bt709", "-color_range", "tv",
                            "-fflags", "+bitexact", "-flags:v", "+bitexact",
                            "-bsf:v", "h264_metadata=aud=insert", "-f", "h264", h264])
                w, h, n = common.probe_frames(h264)
                if (w, h, n) != (size[0], size[1], frames):
                    raise common.GenError("%s: %dx%d, %d frames; expected %dx%d, %d frames"
                                          % (name, w, h, n, size[0], size[1], frames))
            common.publish(tmp, outdir, OUTPUTS, STAMP, stamp)
    except (common.GenError, OSError) as e:
        common.say(PROG, "FAILED: %s" % e)
        return 1
    sizes = ", ".join("%s %.1f MB" % (n, os.path.getsize(os.path.join(outdir, n)) / 1e6)
                      for n in OUTPUTS)
    common.say(PROG, "wrote %s: %s" % (outdir, sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
