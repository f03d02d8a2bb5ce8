#!/usr/bin/python3
"""gen_bench_models.py - writes the benchmark detector models/bench/yolo_bench.onnx (git-ignored,
made by scripts/setup.sh) and its float16 twin yolo_bench_fp16.onnx. Deterministic (fixed seed),
idempotent (rewritten only when missing or when VERSION below changes). Debian's /usr/bin/python3
with onnx + numpy is enough.

The model is a YOLOv8n-shaped network with SYNTHETIC weights: it measures speed, not accuracy.
  input  "images"  [batch, 3, 640, 640] float32 (RGB, 0..1, letterboxed)
  output "output0" [batch, 84, 8400]   float32, the YOLOv8 layout: rows 0..3 = cx, cy, w, h in
         input pixels, rows 4..83 = 80 class scores (sigmoid), anchors over the 80x80, 40x40 and
         20x20 grids of strides 8/16/32 (yolo_decode layout v8 reads it as is).
  Backbone: strided 3x3 convs and C2f blocks (1x1 conv, Split, bottlenecks with residual adds,
  Concat, 1x1 conv), SPPF (three chained 5x5 max pools); PAN neck (nearest upsampling, Concat,
  C2f, strided convs); decoupled heads (two 3x3 convs per branch + 1x1). SiLU everywhere.
  Ops: Conv, Sigmoid, Mul, Add, Concat, Split, MaxPool, Resize (nearest), Reshape - all in
  bench/peers/onnx_torch.py's PyTorch rebuild, so the Python peer runs the same function.
  About 8 GFLOPs (2 x multiply-adds) per 640x640 image, like YOLOv8n's 8.7.

Boxes: the box branch ends in a sigmoid and an affine map per anchor (constants), so every
anchor predicts an upright box around its own cell (box_affine): neighbours overlap (NMS has
work) and the boxes that pass sit where the picture has content (the figures of the clips).
Scores: the last class conv's scale and bias (CLS_STD, CLS_BIAS) were chosen on
samples/people.mp4 so that a moderate number of boxes per frame pass conf 0.25 after
class-aware NMS at IoU 0.45, a few of them above the tracker's 0.6 (bench/peers/README.md has
the counts), so NMS and the tracker do real work.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench", "peers"))
from gen_test_models import Net, to_fp16  # noqa: E402  (same builder, same conventions)
import onnx_numpy  # noqa: E402  (the NumPy executor of the peers, for the normalisation)

VERSION = "2"  # bump when the model changes
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "models", "bench")
OPSET = [helper.make_opsetid("", 17)]
NC = 80
STRIDES = (8, 16, 32)
CLS_STD = 4.0     # std of the class logits on the normalisation image
CLS_BIAS = -16.5  # calibrated on the people clip (see the docstring and bench/peers/README.md)
CAL_SIZE = 640    # side of the synthetic normalisation image (the box constants are per anchor)


class BenchNet(Net):
    def split2(self, x, c):
        a, b = self.name("split_a"), self.name("split_b")
        self.nodes.append(helper.make_node("Split", [x, self.const(np.array([c, c], np.int64), "sp")],
                                           [a, b], name=self.name("split"), axis=1))
        return a, b

    def c2f(self, x, cin, cout, n, shortcut=True):
        c = cout // 2
        y = self.conv(x, cin, 2 * c, 1)
        a, b = self.split2(y, c)
        parts = [a, b]
        for _ in range(n):
            h = self.conv(self.conv(parts[-1], c, c, 3), c, c, 3)
            parts.append(self.op("Add", [parts[-1], h]) if shortcut else h)
        return self.conv(self.op("Concat", parts, axis=1), (2 + n) * c, cout, 1)

    def sppf(self, x, c):
        h = c // 2
        y = self.conv(x, c, h, 1)
        p1 = self.op("MaxPool", [y], kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[1, 1])
        p2 = self.op("MaxPool", [p1], kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[1, 1])
        p3 = self.op("MaxPool", [p2], kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[1, 1])
        return self.conv(self.op("Concat", [y, p1, p2, p3], axis=1), 4 * h, c, 1)

    def up(self, x):
        scales = self.const(np.array([1, 1, 2, 2], np.float32), "scales")
        return self.op("Resize", [x, "", scales], mode="nearest")


def box_affine(stride, size):
    """Per-anchor scale and offset mapping sigmoid(t) in 0..1 to cx, cy, w, h in pixels: centre
    within a quarter stride of the cell's centre, width 3..5 and height 6..10 strides (upright,
    person-like boxes; neighbouring anchors overlap, so NMS has work)."""
    gy, gx = np.meshgrid(np.arange(size, dtype=np.float32), np.arange(size, dtype=np.float32),
                         indexing="ij")
    scale = np.empty((1, 4, size, size), np.float32)
    off = np.empty((1, 4, size, size), np.float32)
    scale[0, 0] = scale[0, 1] = 0.5 * stride
    off[0, 0] = (gx + 0.25) * stride
    off[0, 1] = (gy + 0.25) * stride
    scale[0, 2], off[0, 2] = 2.0 * stride, 3.0 * stride
    scale[0, 3], off[0, 3] = 4.0 * stride, 6.0 * stride
    return scale, off


def yolo_bench():
    g = BenchNet(2024)
    x = g.conv("images", 3, 16, 3, 2)      # 320
    x = g.conv(x, 16, 32, 3, 2)            # 160
    x = g.c2f(x, 32, 32, 1)
    x = g.conv(x, 32, 64, 3, 2)            # 80
    p3 = g.c2f(x, 64, 64, 2)
    x = g.conv(p3, 64, 128, 3, 2)          # 40
    p4 = g.c2f(x, 128, 128, 2)
    x = g.conv(p4, 128, 256, 3, 2)         # 20
    x = g.c2f(x, 256, 256, 1)
    p5 = g.sppf(x, 256)
    n4 = g.c2f(g.op("Concat", [g.up(p5), p4], axis=1), 384, 128, 1, shortcut=False)
    o3 = g.c2f(g.op("Concat", [g.up(n4), p3], axis=1), 192, 64, 1, shortcut=False)
    o4 = g.c2f(g.op("Concat", [g.conv(o3, 64, 64, 3, 2), n4], axis=1), 192, 128, 1, shortcut=False)
    o5 = g.c2f(g.op("Concat", [g.conv(o4, 128, 128, 3, 2), p5], axis=1), 384, 256, 1,
               shortcut=False)
    shape = g.const(np.array([0, 4 + NC, -1], np.int64), "shape")
    outs = []
    for feat, c, stride in ((o3, 64, 8), (o4, 128, 16), (o5, 256, 32)):
        # the last 1x1 convs read sigmoid-squashed features: bounded outputs whatever the
        # image's contrast (random deep nets amplify it), hence stable box and score ranges
        t = g.conv(g.op("Sigmoid", [g.conv(g.conv(feat, c, 64, 3), 64, 64, 3)]), 64, 4, 1,
                   act=False)
        sc, off = box_affine(stride, 640 // stride)
        box = g.op("Add", [g.op("Mul", [g.op("Sigmoid", [t]), g.const(sc, "bscale")]),
                           g.const(off, "boff")])
        h = g.conv(g.conv(feat, c, 80, 3), 80, 80, 3)
        cls = g.op("Sigmoid", [g.conv(g.op("Sigmoid", [h]), 80, NC, 1, act=False)])
        outs.append(g.op("Reshape", [g.op("Concat", [box, cls], axis=1), shape]))
    g.nodes.append(helper.make_node("Concat", outs, ["output0"], name="concat_out", axis=2))
    graph = helper.make_graph(
        g.nodes, "yolo_bench",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 640, 640])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 4 + NC, 8400])],
        g.inits)
    m = helper.make_model(graph, opset_imports=OPSET, producer_name="vidgraph-gen-bench-models",
                          doc_string="synthetic-weight YOLOv8n-shaped benchmark detector "
                                     "(speed, not accuracy)")
    m.ir_version = 8
    normalise(m)
    helper.set_model_props(m, {"names": str({i: "class%d" % i for i in range(NC)}),
                               "stride": "32", "task": "detect", "imgsz": "[640, 640]",
                               "weights": "synthetic (scripts/gen_bench_models.py v%s)" % VERSION})
    return m


def calibration_image(size):
    """A deterministic image like a letterboxed frame of the bench clips (scripts/sample_lib/
    people.py's scene): a dark smooth background, a few bright rounded figures, grey letterbox
    bands (114) above and below a 16:9 picture. [1,3,S,S] in 0..1."""
    rng = np.random.default_rng(77)
    img = np.zeros((3, size, size), np.float32)
    for cells in (4, 8, 16):  # octaves of upsampled noise: the background's colour fields
        n = rng.standard_normal((3, cells, cells)).astype(np.float32)
        img += np.kron(n, np.ones((size // cells, size // cells), np.float32)) / cells ** 0.5
    k = np.ones(9, np.float32) / 9
    for ax in (1, 2):
        img = np.apply_along_axis(lambda r: np.convolve(r, k, "same"), ax, img)
    img = 0.05 + 0.25 * (img - img.min()) / (img.max() - img.min())
    yy, xx = np.mgrid[0:size, 0:size]
    band = (size - size * 9 // 16) // 2
    for _ in range(8):  # figures: a body and a head, bright flat colours
        w = rng.uniform(0.015, 0.03) * size
        h = w * rng.uniform(2.5, 3.5)
        cx = rng.uniform(0.05, 0.95) * size
        top = rng.uniform(band + 0.02 * size, size - band - h - 0.06 * size)
        colour = rng.uniform(0.5, 1.0, 3).astype(np.float32)
        body = (abs(xx - cx) < w / 2) & (yy > top + w) & (yy < top + w + h)
        head = (xx - cx) ** 2 + (yy - top - w / 2) ** 2 < (w * 0.35) ** 2
        img[:, body | head] = colour[:, None]
    img[:, :band] = img[:, size - band:] = 114 / 255.0
    return img[None]


def normalise(model):
    """Data-dependent scaling of the random weights (as LSUV does): in graph order, each Conv's
    weights and bias are scaled so that its output has unit standard deviation on the
    calibration image (random deep nets otherwise fade or explode, and their outputs stop
    depending on the image). The last class conv is scaled to CLS_STD and its bias set to
    CLS_BIAS; the last box conv ends at unit std, bias 0 (sigmoid centred)."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    env = onnx_numpy.input_env(model, calibration_image(CAL_SIZE))
    for n in g.node:
        onnx_numpy.run_node(n, env)
        if n.op_type != "Conv":
            continue
        w, b = env[n.input[1]], env[n.input[2]]
        y = env[n.output[0]]
        is_cls = w.shape[0] == NC and w.shape[2] == 1
        target = CLS_STD if is_cls else 1.0
        f = target / max(float(y.std()), 1e-6)
        w, b, y = w * f, b * f, y * f
        if is_cls or (w.shape[0] == 4 and w.shape[2] == 1):
            shift = (CLS_BIAS if is_cls else 0.0) - float(y.mean())
            b, y = b + shift, y + shift
        env[n.input[1]], env[n.input[2]], env[n.output[0]] = w.astype(np.float32), \
            b.astype(np.float32), y.astype(np.float32)
        inits[n.input[1]].CopyFrom(numpy_helper.from_array(env[n.input[1]], n.input[1]))
        inits[n.input[2]].CopyFrom(numpy_helper.from_array(env[n.input[2]], n.input[2]))
    return model


def macs(model, batch=1):
    """Multiply-adds of the Conv nodes at the given batch (shapes from onnx shape inference)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_value = batch
    m = onnx.shape_inference.infer_shapes(m)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(m.graph.value_info) + list(m.graph.output)}
    inits = {i.name: list(i.dims) for i in m.graph.initializer}
    total = 0
    for n in m.graph.node:
        if n.op_type == "Conv":
            o = shapes[n.output[0]]
            w = inits[n.input[1]]
            total += int(np.prod(o)) * w[1] * w[2] * w[3]
    return total


def save(model, name):
    onnx.checker.check_model(model)
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, path)
    print("gen_bench_models: wrote %s (%d bytes)" % (path, os.path.getsize(path)))


def main():
    if "--stats" in sys.argv:
        m = yolo_bench()
        n = sum(int(np.prod(i.dims)) for i in m.graph.initializer)
        print("yolo_bench: %.2f M parameters, %.2f GFLOPs (2 x MACs) per 640x640 image"
              % (n / 1e6, 2 * macs(m) / 1e9))
        return 0
    os.makedirs(OUT, exist_ok=True)
    stamp = os.path.join(OUT, "VERSION")
    fresh = open(stamp).read().strip() == VERSION if os.path.exists(stamp) else False
    names = ("yolo_bench.onnx", "yolo_bench_fp16.onnx")
    if fresh and all(os.path.exists(os.path.join(OUT, n)) for n in names):
        return 0
    m = yolo_bench()
    save(m, names[0])
    save(to_fp16(m), names[1])
    with open(stamp, "w") as f:
        f.write(VERSION + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
