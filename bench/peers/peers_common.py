"""peers_common.py - what the Python peers (bench/peers/*.py) share, in plain NumPy + the
standard library so it runs (and is unit-tested) without torch or OpenCV:

  letterbox maths (the same mapping as vidgraph's preprocess `fit: letterbox`: centred, scale =
  min(W/w, H/h), pad value 114), YOLO v8-layout decode + greedy class-aware NMS in NumPy (the
  reference the torchvision path is checked against), the tracker port (tracker.py), CTC greedy
  decode and plate normalisation (plates.py), latency statistics and the result object of
  bench-schema.md, and `need()`: import a module or report it missing.
"""
import json
import math
import os
import shlex
import sys
import time

try:  # the skip path (CI without numpy/torch) must still print its result object
    import numpy as np
except ImportError:  # pragma: no cover - depends on the machine
    np = None

STAGES = ("decode", "preprocess", "infer", "post", "track")


# ------------------------------------------------------------------ modules that may be missing
class Missing(Exception):
    """A module a peer needs is not installed (the peer reports it as skipped)."""


def need(name):
    """Imports and returns module `name`; raises Missing("<name> not installed") when absent."""
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise Missing("%s not installed (%s)" % (name.split(".")[0], e)) from None


# ------------------------------------------------------------------ letterbox
def _lround(x):
    return int(math.floor(x + 0.5))  # C's lround for x >= 0 (Python's round() is to even)


def letterbox_params(src_w, src_h, dst_w, dst_h, top_left=False):
    """(scale_x, scale_y, pad_x, pad_y, new_w, new_h) as vg_ip_fit (src/imgproc/preprocess.c):
    r = min(dst_w/src_w, dst_h/src_h), new side = lround(side * r) clamped to 1..dst, placed
    centred (pads rounded down) or at the top left; scale_x/y = new_w/src_w, new_h/src_h (the
    transform back to the frame, vg_xform)."""
    if src_w <= 0 or src_h <= 0 or dst_w <= 0 or dst_h <= 0:
        raise ValueError("letterbox: sizes must be positive (%dx%d -> %dx%d)"
                         % (src_w, src_h, dst_w, dst_h))
    r = min(dst_w / src_w, dst_h / src_h)
    new_w = max(1, min(dst_w, _lround(src_w * r)))
    new_h = max(1, min(dst_h, _lround(src_h * r)))
    px, py = (0, 0) if top_left else ((dst_w - new_w) // 2, (dst_h - new_h) // 2)
    return new_w / src_w, new_h / src_h, px, py, new_w, new_h


def boxes_to_frame(boxes, sx, sy, pad_x, pad_y, src_w, src_h):
    """[N,4] x1,y1,x2,y2 in letterboxed pixels -> frame pixels, clipped to the frame."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
    b[:, [0, 2]] = np.clip((b[:, [0, 2]] - pad_x) / sx, 0, src_w)
    b[:, [1, 3]] = np.clip((b[:, [1, 3]] - pad_y) / sy, 0, src_h)
    return b


def letterbox_np(frame, dst_w, dst_h, resize, pad_value=114, top_left=False):
    """HxWx3 uint8 -> (dst_h x dst_w x 3 uint8 letterboxed, (sx, sy, pad_x, pad_y));
    resize(img, (w, h)) does the scaling (cv2.resize INTER_LINEAR in the peers, resize_nearest
    in the tests)."""
    h, w = frame.shape[:2]
    sx, sy, px, py, nw, nh = letterbox_params(w, h, dst_w, dst_h, top_left)
    out = np.full((dst_h, dst_w, 3), pad_value, np.uint8)
    out[py:py + nh, px:px + nw] = resize(frame, (nw, nh))
    return out, (sx, sy, px, py)


def resize_nearest(img, size):
    """NumPy nearest-neighbour resize to size = (w, h) (for tests and machines without cv2)."""
    w, h = size
    ys = np.minimum((np.arange(h) + 0.5) * img.shape[0] / h, img.shape[0] - 1).astype(np.int64)
    xs = np.minimum((np.arange(w) + 0.5) * img.shape[1] / w, img.shape[1] - 1).astype(np.int64)
    return img[ys][:, xs]


# ------------------------------------------------------------------ YOLO decode + NMS (NumPy)
def iou_one_to_many(b, bs):
    ix1 = np.maximum(b[0], bs[:, 0])
    iy1 = np.maximum(b[1], bs[:, 1])
    ix2 = np.minimum(b[2], bs[:, 2])
    iy2 = np.minimum(b[3], bs[:, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    ua = (b[2] - b[0]) * (b[3] - b[1]) + (bs[:, 2] - bs[:, 0]) * (bs[:, 3] - bs[:, 1]) - inter
    return np.where(ua > 0, inter / np.where(ua > 0, ua, 1), 0.0)


def nms_np(boxes, scores, classes, iou_threshold, max_det=300):
    """Greedy class-aware NMS as src/post/nms.c: score descending (ties: lower index first), a
    box is dropped when its IoU with a kept box of its class is > iou_threshold. Returns the
    kept indices in that order."""
    order = np.lexsort((np.arange(len(scores)), -np.asarray(scores, np.float64)))
    kept = []
    for i in order:
        if len(kept) >= max_det:
            break
        if kept:
            k = np.asarray(kept)
            same = classes[k] == classes[i]
            if np.any(iou_one_to_many(boxes[i], boxes[k][same]) > iou_threshold):
                continue
        kept.append(int(i))
    return np.asarray(kept, np.int64)


def yolo_v8_candidates(out, conf_threshold):
    """[84, N] one image's v8 head -> (boxes x1y1x2y2 [M,4], scores [M], classes [M]) of the
    anchors whose best class score (first maximum) is > conf_threshold (as src/post/yolo.c)."""
    cls = out[4:]
    best = cls.argmax(axis=0)
    score = cls[best, np.arange(cls.shape[1])]
    m = score > conf_threshold
    cx, cy, w, h = out[0, m], out[1, m], out[2, m], out[3, m]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes.astype(np.float32), score[m].astype(np.float32), best[m].astype(np.int64)


def yolo_v8_decode_np(out, conf_threshold=0.25, iou_threshold=0.45, max_det=300):
    boxes, scores, classes = yolo_v8_candidates(out, conf_threshold)
    keep = nms_np(boxes, scores, classes, iou_threshold, max_det)
    return boxes[keep], scores[keep], classes[keep]


# ------------------------------------------------------------------ statistics and results
def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) as vidgraph's latency.c: the ceil(q/100*n)-th."""
    s = sorted(values)
    if not s:
        return None
    return s[min(len(s) - 1, max(0, int(math.ceil(q / 100.0 * len(s))) - 1))]


def latency_summary(ms):
    if not ms:
        return None
    return {"mean": sum(ms) / len(ms), "p50": percentile(ms, 50), "p99": percentile(ms, 99),
            "max": max(ms)}


def command_line():
    return " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0])] + sys.argv[1:])


def result(suite, name, impl, **kw):
    """A result object of bench-schema.md with every key present."""
    r = {"suite": suite, "name": name, "impl": impl, "streams": None, "frames": None, "fps": None,
         "value": None, "unit": None, "latency_ms": None, "stages_ms": {}, "gpu_mem_mb": None,
         "quality": None, "batch": None, "precision": None, "cpus": None,
         "command": command_line(), "notes": ""}
    for k, v in kw.items():
        if k not in r:
            raise KeyError("result: unknown key %s" % k)
        r[k] = v
    return r


def emit(r):
    """One result object = one line on stdout (everything else goes to stderr)."""
    sys.stdout.write(json.dumps(r, sort_keys=False) + "\n")
    sys.stdout.flush()


def cpus_of_process():
    """The CPU list this process may run on, as taskset writes it ("0-7"), or None."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return None
    parts, start = [], None
    for i, c in enumerate(cpus):
        if start is None:
            start = c
        if i + 1 == len(cpus) or cpus[i + 1] != c + 1:
            parts.append(str(start) if start == c else "%d-%d" % (start, c))
            start = None
    return ",".join(parts)


def log(msg):
    sys.stderr.write("%s: %s\n" % (os.path.basename(sys.argv[0]), msg))
    sys.stderr.flush()


def gather(q, procs, n, timeout):
    """n messages from queue q, failing fast (RuntimeError) when a worker process died without
    sending (a crash in a native library) or when timeout seconds pass."""
    import queue as _queue
    out, t_end = [], time.time() + timeout
    while len(out) < n:
        try:
            out.append(q.get(timeout=1.0))
            continue
        except _queue.Empty:
            pass
        dead = [p for p in procs if not p.is_alive() and p.exitcode not in (0, None)]
        if dead:
            raise RuntimeError("worker process exited with code %d before reporting"
                               % dead[0].exitcode)
        if time.time() > t_end:
            raise RuntimeError("no report from the workers after %d s" % timeout)
    return out


class Clock:
    """Per-stage wall-clock accumulator (ms)."""

    def __init__(self):
        self.sum = {s: 0.0 for s in STAGES}
        self.t = time.perf_counter()

    def lap(self, stage):
        now = time.perf_counter()
        self.sum[stage] += (now - self.t) * 1e3
        self.t = now
        return now
