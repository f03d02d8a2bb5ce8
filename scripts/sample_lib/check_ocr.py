#!/usr/bin/python3
"""check_ocr.py - developer check of the plate sample, not part of the runtime or CI.

Crops each truth plate's text (de-rotated, with a margin like a detector box) from a few
frames of the generated video, runs the PP-OCRv4 recogniser on it through ONNX Runtime (a tiny
C helper, ort_rec.c) and CTC-decodes the result, so one can see whether the sample's plates
are readable by the model the demo uses before the runtime exists.

    /usr/bin/python3 scripts/sample_lib/check_ocr.py [SAMPLEDIR] [--frames 3]

Needs Debian's python3-numpy, ffmpeg, /usr/bin/convert, a C compiler, and what
scripts/setup.sh fetches (third_party/onnxruntime, models/ppocr).
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORT = os.path.join(ROOT, "third_party", "onnxruntime")
MODEL = os.path.join(ROOT, "models", "ppocr", "ch_PP-OCRv4_rec_infer.onnx")
KEYS = os.path.join(ROOT, "models", "ppocr", "ppocr_keys_v1.txt")


def build(tmp):
    exe = os.path.join(tmp, "ort_rec")
    lib = os.path.join(ORT, "lib")
    subprocess.check_call(["cc", "-O2", "-I", os.path.join(ORT, "include"),
                           os.path.join(HERE, "ort_rec.c"), "-o", exe, "-L", lib,
                           "-lonnxruntime", "-Wl,-rpath," + lib])
    return exe


def crop(video, frame, box, angle, text_h, tmp):
    """Text region of a plate at a frame, de-rotated, as an HxWx3 BGR uint8 array."""
    png = os.path.join(tmp, "f%d.png" % frame)
    if not os.path.exists(png):
        subprocess.check_call(["ffmpeg", "-v", "error", "-y", "-i", video, "-vf",
                               "select=eq(n\\,%d)" % frame, "-frames:v", "1", png])
    x1, y1, x2, y2 = box
    a = np.radians(abs(angle))
    c, s = np.cos(a), np.sin(a)
    w, h = x2 - x1, y2 - y1
    # Solve the rotated box for the plate's own size: w = pw*c + ph*s, h = pw*s + ph*c.
    det = c * c - s * s
    pw, ph = (w * c - h * s) / det, (h * c - w * s) / det
    cw, ch = int(pw - 0.5 * text_h), int(text_h * 1.5)
    out = subprocess.check_output(
        ["/usr/bin/convert", png, "-crop", "%dx%d+%d+%d" % (w, h, x1, y1), "+repage",
         "-background", "black", "-rotate", str(-angle), "+repage", "-gravity", "center",
         "-crop", "%dx%d+0+0" % (cw, ch), "+repage", "-resize", "x48", "-depth", "8",
         "-format", "%w", "-write", "info:" + os.path.join(tmp, "w.txt"), "bgr:-"])
    rw = int(open(os.path.join(tmp, "w.txt")).read())
    return np.frombuffer(out, np.uint8).reshape(48, rw, 3)


def main(argv):
    sample = argv[0] if argv and not argv[0].startswith("-") else os.path.join(ROOT, "samples")
    nframes = int(argv[argv.index("--frames") + 1]) if "--frames" in argv else 3
    truth = json.load(open(os.path.join(sample, "plates_truth.json")))
    video = os.path.join(sample, truth["video"])
    keys = [ln.rstrip("\n") for ln in open(KEYS, encoding="utf-8")]
    chars = ["<blank>"] + keys + [" "]
    ok = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(tmp)
        for p in truth["plates"]:
            a, b = p["full_first_frame"], p["full_last_frame"]
            frames = [a + (b - a) * (i + 1) // (nframes + 1) for i in range(nframes)]
            imgs = [crop(video, f, p["boxes"][str(f)], p["angle_deg"], p["text_height"], tmp)
                    for f in frames]
            W = max(320, max(i.shape[1] for i in imgs))
            x = np.zeros((len(imgs), 3, 48, W), np.float32)
            for k, im in enumerate(imgs):
                x[k, :, :, :im.shape[1]] = ((im.astype(np.float32) / 255 - 0.5) / 0.5).transpose(2, 0, 1)
            inp, outp = os.path.join(tmp, "x.f32"), os.path.join(tmp, "y.f32")
            x.tofile(inp)
            shape = subprocess.check_output([exe, MODEL, inp] + [str(d) for d in x.shape] + [outp])
            n, t, c = (int(v) for v in shape.split())
            y = np.fromfile(outp, np.float32).reshape(n, t, c)
            reads = []
            for k in range(n):
                idx, prob = y[k].argmax(1), y[k].max(1)
                s, last, ps = [], 0, []
                for j, v in enumerate(idx):
                    if v != last and v != 0:
                        s.append(chars[v] if v < len(chars) else "?")
                        ps.append(prob[j])
                    last = v
                reads.append(("".join(s), float(np.mean(ps)) if ps else 0.0))
            for f, (r, conf) in zip(frames, reads):
                good = " ".join(r.split()).upper() == p["text"]
                ok += good
                total += 1
                print("%-9s frame %3d  read %-12r conf %.3f  %s"
                      % (p["text"], f, r, conf, "ok" if good else "WRONG"))
    print("exact crops: %d/%d" % (ok, total))
    return 0 if ok == total else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
