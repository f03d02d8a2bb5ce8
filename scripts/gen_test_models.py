#!/usr/bin/python3
"""gen_test_models.py - writes the ONNX models the infer layer's tests and benchmarks use into
models/test/ (git-ignored). Idempotent: a model is rewritten only when missing or when this
script's model version changed. Run with Debian's /usr/bin/python3 (onnx + numpy).

Models (opset 17, float32 unless said):
  yolo_like.onnx   YOLOv8-layout detector with random weights: input "images" [N,3,640,640],
                   output "output0" [N,84,8400] (4 box + 80 class channels over the 80x80, 40x40
                   and 20x20 grids of strides 8/16/32). A real conv stack (backbone with
                   residual blocks, top-down neck with nearest upsampling, decoupled heads).
  yolo_like_fp16.onnx  the same detector with float16 weights, input and output (for FP16
                   benchmarks next to PyTorch's FP16; ORT's CPU provider may not run it).
  yolo_static1.onnx  the same detector exported with a fixed batch of 1 ([1,3,640,640] ->
                   [1,84,8400]), as Ultralytics exports by default (a user's model).
  conv10.onnx      ten 3x3 convolutions with ReLU at 640x640: input "x" [1,3,640,640],
                   output "y" [1,8,640,640].
  tiny_mlp.onnx    y = relu(x @ W + b), z = sum(y, axis 1): input "x" [batch,8], outputs
                   "y" [batch,4] and "z" [batch,1]; W[i][j] = 0.1*(i-j)+0.05, b[j] = 0.01*j - 0.02.
                   Carries metadata (producer "vidgraph-tests", custom key "author").
  tiny_fixed.onnx  same net with a fixed batch of 2: "x" [2,8].
  tiny_u8.onnx     y = float(x) * 0.5 + 1: input "x" uint8 [batch,4], output "y" f32 [batch,4].
  tiny_f16.onnx    y = x * 2: input "x" float16 [batch,4], output "y" float16 [batch,4].

The tests compute their expectations independently from these formulas.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VERSION = "4"  # bump when a model changes
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "models", "test")
OPSET = [helper.make_opsetid("", 17)]


def save(model, name):
    onnx.checker.check_model(model)
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, path)
    print("gen_test_models: wrote %s (%d bytes)" % (path, os.path.getsize(path)))


class Net:
    """A small graph builder: nodes, initializers, unique names."""

    def __init__(self, seed):
        self.nodes, self.inits, self.n = [], [], 0
        self.rng = np.random.default_rng(seed)

    def name(self, base):
        self.n += 1
        return "%s_%d" % (base, self.n)

    def const(self, arr, base="c"):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, cin, cout, k=3, s=1, act=True):
        fan_in = cin * k * k
        w = (self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (self.rng.standard_normal(cout) * 0.01).astype(np.float32)
        y = self.op("Conv", [x, self.const(w, "w"), self.const(b, "b")], kernel_shape=[k, k],
                    strides=[s, s], pads=[k // 2] * 4)
        if act:  # SiLU as YOLOv8 has it: x * sigmoid(x)
            y = self.op("Mul", [y, self.op("Sigmoid", [y])])
        return y

    def block(self, x, c):
        return self.op("Add", [x, self.conv(self.conv(x, c, c, 1), c, c, 3)])


def yolo_like():
    g = Net(8)
    x = "images"
    x = g.conv(x, 3, 16, 3, 2)        # 320
    x = g.conv(x, 16, 32, 3, 2)       # 160
    x = g.block(x, 32)
    x = g.conv(x, 32, 64, 3, 2)       # 80
    p3 = g.block(x, 64)
    x = g.conv(p3, 64, 128, 3, 2)     # 40
    p4 = g.block(x, 128)
    x = g.conv(p4, 128, 256, 3, 2)    # 20
    p5 = g.block(x, 256)
    scales = g.const(np.array([1, 1, 2, 2], np.float32), "scales")
    up = g.op("Resize", [p5, "", scales], mode="nearest")
    n4 = g.conv(g.op("Concat", [up, p4], axis=1), 384, 128, 1)
    n4 = g.conv(n4, 128, 128, 3)
    up = g.op("Resize", [n4, "", scales], mode="nearest")
    n3 = g.conv(g.op("Concat", [up, p3], axis=1), 192, 64, 1)
    n3 = g.conv(n3, 64, 64, 3)
    shape = g.const(np.array([0, 84, -1], np.int64), "shape")
    outs = []
    for feat, c in ((n3, 64), (n4, 128), (p5, 256)):
        box = g.conv(g.conv(feat, c, 64, 3), 64, 4, 1, act=False)
        cls = g.op("Sigmoid", [g.conv(g.conv(feat, c, 80, 3), 80, 80, 1, act=False)])
        head = g.op("Concat", [box, cls], axis=1)
        outs.append(g.op("Reshape", [head, shape]))
    g.nodes.append(helper.make_node("Concat", outs, ["output0"], name="concat_out", axis=2))
    graph = helper.make_graph(
        g.nodes, "yolo_like",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 640, 640])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 84, 8400])],
        g.inits)
    m = helper.make_model(graph, opset_imports=OPSET, producer_name="vidgraph-gen-test-models")
    m.ir_version = 8
    helper.set_model_props(m, {"names": str({i: "class%d" % i for i in range(80)}),
                               "stride": "32", "task": "detect", "imgsz": "[640, 640]"})
    return m


def to_fp16(model):
    """float32 initializers, inputs and outputs -> float16 (Resize scales stay float32)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for init in m.graph.initializer:
        if init.data_type == TensorProto.FLOAT and not init.name.startswith("scales"):
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for vi in list(m.graph.input) + list(m.graph.output):
        vi.type.tensor_type.elem_type = TensorProto.FLOAT16
    return m


def fixed_batch(model, n):
    """The model with its inputs' and outputs' first axis fixed at n."""
    for t in list(model.graph.input) + list(model.graph.output):
        d = t.type.tensor_type.shape.dim[0]
        d.ClearField("dim_param")
        d.dim_value = n
    return model


def conv10():
    g = Net(10)
    x, cin = "x", 3
    for i in range(10):
        x = g.op("Relu", [g.conv(x, cin, 8, 3, 1, act=False)])
        cin = 8
    g.nodes.append(helper.make_node("Identity", [x], ["y"], name="out"))
    graph = helper.make_graph(
        g.nodes, "conv10", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 640, 640])], g.inits)
    m = helper.make_model(graph, opset_imports=OPSET, producer_name="vidgraph-gen-test-models")
    m.ir_version = 8
    return m


def tiny_mlp(batch):
    w = np.array([[0.1 * (i - j) + 0.05 for j in range(4)] for i in range(8)], np.float32)
    b = np.array([0.01 * j - 0.02 for j in range(4)], np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["xw"], name="matmul"),
        helper.make_node("Add", ["xw", "B"], ["xwb"], name="bias"),
        helper.make_node("Relu", ["xwb"], ["y"], name="relu"),
        helper.make_node("ReduceSum", ["y", "axes"], ["z"], name="sum", keepdims=1),
    ]
    inits = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B"),
             numpy_helper.from_array(np.array([1], np.int64), "axes")]
    graph = helper.make_graph(
        nodes, "tiny_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [batch, 1])], inits)
    m = helper.make_model(graph, opset_imports=OPSET, producer_name="vidgraph-tests",
                          doc_string="tiny MLP for the infer tests")
    m.ir_version = 8
    m.model_version = 7
    helper.set_model_props(m, {"author": "vidgraph", "purpose": "tests"})
    return m


def tiny_u8():
    nodes = [
        helper.make_node("Cast", ["x"], ["xf"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["xf", "half"], ["xh"], name="mul"),
        helper.make_node("Add", ["xh", "one"], ["y"], name="add"),
    ]
    inits = [numpy_helper.from_array(np.array(0.5, np.float32), "half"),
             numpy_helper.from_array(np.array(1.0, np.float32), "one")]
    graph = helper.make_graph(
        nodes, "tiny_u8", [helper.make_tensor_value_info("x", TensorProto.UINT8, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])], inits)
    m = helper.make_model(graph, opset_imports=OPSET, producer_name="vidgraph-tests")
    m.ir_version = 8
    return m


def tiny_f16():
    nodes = [helper.make_node("Mul", ["x", "two"], ["y"], name="mul")]
    inits = [numpy_helper.from_array(np.array(2.0, np.float16), "two")]
    graph = helper.make_graph(
        nodes, "tiny_f16", [helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, ["batch", 4])], inits)
    m = helper.make_model(graph, opset_imports=OPSET, producer_name="vidgraph-tests")
    m.ir_version = 8
    return m


MODELS = {
    "yolo_like.onnx": yolo_like,
    "yolo_like_fp16.onnx": lambda: to_fp16(yolo_like()),
    "yolo_static1.onnx": lambda: fixed_batch(yolo_like(), 1),
    "conv10.onnx": conv10,
    "tiny_mlp.onnx": lambda: tiny_mlp("batch"),
    "tiny_fixed.onnx": lambda: tiny_mlp(2),
    "tiny_u8.onnx": tiny_u8,
    "tiny_f16.onnx": tiny_f16,
}


def main():
    os.makedirs(OUT, exist_ok=True)
    stamp = os.path.join(OUT, "VERSION")
    fresh = open(stamp).read().strip() == VERSION if os.path.exists(stamp) else False
    for name, build in MODELS.items():
        if fresh and os.path.exists(os.path.join(OUT, name)):
            continue
        save(build(), name)
    with open(stamp, "w") as f:
        f.write(VERSION + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
