#!/usr/bin/env python3
"""verify_plates.py - checks that plates_truth.json describes the pixels of the plate video.

Independent of how the generator placed the plates: it decodes frames of the encoded video
with ffmpeg (8-bit luma) and, for each plate at a few fully visible frames, requires the centre
of its truth box to be bright (a light plate) and thin strips just outside the box on all four
sides to be dark (the darkened scene). A plate drawn one frame early or late (20+ px off) or in
the wrong place lights up a strip and fails. Also checks size and frame count with ffprobe.

    scripts/sample_lib/verify_plates.py SAMPLEDIR     (exit 0 = ok, 1 = mismatch, 2 = bad input)

The generator runs the same check on its output. Python 3 standard library only.
"""

import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

STRIP_GAP, STRIP_W = 3, 4  # strips start 3 px outside the box and are 4 px wide
BRIGHT = 140  # luma of plate paint (white ~235, yellow ~190); the scene stays below ~100


def frames_luma(video, width, height, frames):
    """{frame: bytes (width*height luma)} for the given frame indices."""
    frames = sorted(set(frames))
    sel = "+".join("eq(n\\,%d)" % f for f in frames)
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", video, "-vf",
                          "select='%s'" % sel, "-vsync", "0", "-f", "rawvideo",
                          "-pix_fmt", "gray", "-"], stdout=subprocess.PIPE, check=True).stdout
    size = width * height
    if len(raw) != size * len(frames):
        raise common.GenError("%s: decoded %d bytes for %d frames, expected %d"
                              % (video, len(raw), len(frames), size * len(frames)))
    return {f: raw[i * size:(i + 1) * size] for i, f in enumerate(frames)}


def bright(img, width, x1, y1, x2, y2):
    """Fraction of pixels in the rectangle with luma above BRIGHT."""
    n, s = 0, 0
    for y in range(y1, y2):
        row = img[y * width + x1:y * width + x2]
        s += sum(1 for v in row if v > BRIGHT)
        n += len(row)
    return s / n if n else 0.0


def check(sample):
    """Returns a list of problems (empty = the truth matches the video)."""
    with open(os.path.join(sample, "plates_truth.json")) as fh:
        truth = json.load(fh)
    W, H = truth["width"], truth["height"]
    problems = []
    for key in ("video", "stream"):
        path = os.path.join(sample, truth[key])
        w, h, n = common.probe_frames(path)
        if (w, h, n) != (W, H, truth["frames"]):
            problems.append("%s: %dx%d, %d frames; truth says %dx%d, %d frames"
                            % (truth[key], w, h, n, W, H, truth["frames"]))
    want = {}
    for p in truth["plates"]:
        a, b = p["full_first_frame"], p["full_last_frame"]
        for f in (a, (a + b) // 2, b):
            want.setdefault(f, []).append(p)
    imgs = frames_luma(os.path.join(sample, truth["video"]), W, H, want.keys())
    for f, plates in sorted(want.items()):
        img = imgs[f]
        for p in plates:
            x1, y1, x2, y2 = p["boxes"][str(f)]
            cx, cy, qw, qh = (x1 + x2) // 2, (y1 + y2) // 2, (x2 - x1) // 4, (y2 - y1) // 4
            inner = bright(img, W, cx - qw, cy - qh, cx + qw, cy + qh)
            g, s = STRIP_GAP, STRIP_W
            strips = {"left": (x1 - g - s, cy - qh, x1 - g, cy + qh),
                      "right": (x2 + g, cy - qh, x2 + g + s, cy + qh),
                      "top": (cx - qw, y1 - g - s, cx + qw, y1 - g),
                      "bottom": (cx - qw, y2 + g, cx + qw, y2 + g + s)}
            if inner < 0.3:
                problems.append("frame %d plate %s: only %.0f%% of the box centre is light, "
                                "expected a plate (>= 30%%)" % (f, p["text"], 100 * inner))
            for side, (a1, b1, a2, b2) in strips.items():
                a1, b1, a2, b2 = max(a1, 0), max(b1, 0), min(a2, W), min(b2, H)
                if a1 >= a2 or b1 >= b2:
                    continue
                m = bright(img, W, a1, b1, a2, b2)
                if m > 0.05:
                    problems.append("frame %d plate %s: %.0f%% of the strip %s of the box is "
                                    "light, expected dark background (<= 5%%)"
                                    % (f, p["text"], 100 * m, side))
    return problems


def main(argv):
    if len(argv) != 1:
        print("usage: verify_plates.py SAMPLEDIR", file=sys.stderr)
        return 2
    try:
        problems = check(argv[0])
    except (OSError, ValueError, KeyError, subprocess.CalledProcessError, common.GenError) as e:
        print("verify_plates: cannot check %s: %s" % (argv[0], e), file=sys.stderr)
        return 2
    for pr in problems:
        print("verify_plates: %s" % pr, file=sys.stderr)
    if not problems:
        print("verify_plates: %s: truth matches the video" % argv[0])
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
