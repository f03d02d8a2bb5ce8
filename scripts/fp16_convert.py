#!/usr/bin/env python3
"""fp16_convert.py - makes the FP16 variant of a float32 ONNX model (issue 12, item 5).

    python3 scripts/fp16_convert.py MODEL.onnx [OUT.onnx] [--block Op,Op] [--allow Op,Op]
                                    [--check] [--input NAME=FILE.npy ...] [--shape NAME=1x3x48x320]

OUT defaults to MODEL's stem + ".fp16.onnx" (models/det.onnx -> models/det.fp16.onnx), the
name a model spec with `precision: fp16` loads (docs/ARCHITECTURE.md, "FP16 variants").

What it does:
  * weights and compute in float16, graph inputs and outputs stay float32 (a Cast at each edge
    that needs one), so the caller feeds and reads the same tensors as with the FP32 model;
  * numerically fragile ops stay float32 (BLOCK below: softmax, reductions, pow/exp/log/sqrt,
    normalisations, NMS ...), with Casts around them; an elementwise op whose activations all
    come float32 stays float32 too (e.g. the "+ eps" between ReduceMean and Sqrt of a layer norm);
  * inputs that are not data keep their type: Resize/Upsample roi and scales stay float32;
  * a float16 Clip becomes Max/Min with float16 constants (ONNX Runtime's CUDA provider has no
    float16 Clip before opset 12: PP-OCR's Clips would run on the CPU, 24-28 of them);
  * float constants (initializers, Constant nodes) are converted once, not cast at run time;
    a node with a constant beyond float16's range (+-65504) stays float32 ("range:Op" in the
    report), other values are clipped (counted in the report);
  * ops with subgraphs or from other domains are left float32.

--check runs both models with onnxruntime (when importable: the GPU machine's venv has it) on
the given inputs (.npy) or seeded random ones (dynamic dimensions from --shape, else 1) and
prints max abs / max rel difference per output; exit 1 when an output is not finite.
vidgraph itself compares the two on real frames: tests/gpu/steps/fp16.sh.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BLOCK = {
    "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL1",
    "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceProd", "Pow", "Exp", "Log", "Sqrt",
    "Reciprocal", "LayerNormalization", "GroupNormalization", "CumSum", "NonMaxSuppression",
    "RoiAlign", "Range", "RandomNormal", "RandomUniform", "RandomNormalLike",
    "RandomUniformLike", "Multinomial", "EyeLike", "Loop", "If", "Scan",
}
ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Neg", "Abs", "Clip", "Sqrt", "Sum",
               "Mean"}
# inputs (by index) that are not the op's data and keep their float32 type
KEEP_F32_INPUTS = {"Resize": {1, 2}, "Upsample": {1}}
FP16_MAX = 65504.0


class Converter:
    def __init__(self, model, block):
        self.model = onnx.shape_inference.infer_shapes(model)
        self.block = block
        self.g = self.model.graph
        self.types = {}
        for vi in list(self.g.input) + list(self.g.output) + list(self.g.value_info):
            self.types[vi.name] = vi.type.tensor_type.elem_type
        self.consts = {}
        for init in self.g.initializer:
            self.types[init.name] = init.data_type
            if init.data_type == TensorProto.FLOAT:
                self.consts[init.name] = numpy_helper.to_array(init)
        self.cur = {}  # float activations: name -> "f32" | "f16"
        for i in self.g.input:  # graph inputs stay float32 (not initializers listed as inputs)
            if i.type.tensor_type.elem_type == TensorProto.FLOAT and i.name not in self.consts:
                self.cur[i.name] = "f32"
        self.casts = {}
        self.new_inits = {}
        self.nodes = []
        self.clipped = 0
        self.stats = {"f16": 0, "f32": 0, "casts": 0}
        self.kept_f32 = {}

    def is_float(self, name):
        return self.types.get(name) == TensorProto.FLOAT or name in self.consts

    def half(self, arr):
        big = np.abs(arr) > FP16_MAX
        self.clipped += int(np.count_nonzero(big & np.isfinite(arr)))
        return np.clip(arr, -FP16_MAX, FP16_MAX).astype(np.float16)

    def get(self, name, want):
        """A tensor name that holds `name` as `want` ("f32"/"f16")."""
        if name in self.consts:
            if want == "f32":
                self.new_inits.setdefault(name, numpy_helper.from_array(self.consts[name], name))
                return name
            n16 = name + "__fp16"
            if n16 not in self.new_inits:
                self.new_inits[n16] = numpy_helper.from_array(self.half(self.consts[name]), n16)
            return n16
        have = self.cur.get(name)
        if have is None or have == want:
            return name
        key = (name, want)
        if key not in self.casts:
            out = name + ("__fp16" if want == "f16" else "__fp32")
            to = TensorProto.FLOAT16 if want == "f16" else TensorProto.FLOAT
            self.nodes.append(helper.make_node("Cast", [name], [out], to=to, name=out + "_cast"))
            self.stats["casts"] += 1
            self.casts[key] = out
        return self.casts[key]

    def precision(self, node, float_ins):
        if node.op_type in self.block or node.domain not in ("", "ai.onnx"):
            return "f32"
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
               for a in node.attribute):
            return "f32"
        # a constant beyond float16's range (e.g. a BatchNormalization variance of 4.8e7 in
        # PP-OCRv4 det) would be clipped: such a node stays float32
        if any(i in self.consts and self.consts[i].size and
               float(np.max(np.abs(self.consts[i]))) > FP16_MAX for i in float_ins):
            self.kept_f32["range:" + node.op_type] = self.kept_f32.get("range:" + node.op_type, 0) + 1
            return "f32"
        acts = [i for i in float_ins if i not in self.consts]
        if node.op_type in ELEMENTWISE and acts and all(self.cur.get(i) == "f32" for i in acts):
            return "f32"
        return "f16"

    def clip_as_max_min(self, node):
        """Clip in float16 as Max/Min with float16 constants: ONNX Runtime's CUDA provider has
        no float16 Clip before opset 12 (PP-OCR's models are opset 9 and 11), so such a Clip
        would run on the CPU with two copies each. False (left to the caller) when a bound is
        not a constant or the opset has no broadcasting Max/Min (< 8)."""
        opset = next((o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx")), 0)
        if opset < 8:
            return False
        lo, hi = -3.4028234663852886e38, 3.4028234663852886e38
        for a in node.attribute:
            if a.name == "min":
                lo = a.f
            elif a.name == "max":
                hi = a.f
        for k, name in ((1, "lo"), (2, "hi")):
            if len(node.input) > k and node.input[k]:
                if node.input[k] not in self.consts or self.consts[node.input[k]].size != 1:
                    return False
                v = float(self.consts[node.input[k]].reshape(-1)[0])
                lo, hi = (v, hi) if name == "lo" else (lo, v)
        out = node.output[0]
        x = self.get(node.input[0], "f16")
        steps = [("Max", lo) if lo > -FP16_MAX else None, ("Min", hi) if hi < FP16_MAX else None]
        steps = [st for st in steps if st]
        if not steps:
            self.nodes.append(helper.make_node("Identity", [x], [out], name=node.name))
        for k, (op, v) in enumerate(steps):
            c = "%s__%s_fp16" % (out, op.lower())
            self.new_inits[c] = numpy_helper.from_array(np.array(v, np.float16), c)
            dst = out if k == len(steps) - 1 else out + "__max"
            self.nodes.append(helper.make_node(op, [x, c], [dst], name=(node.name or out) + "_" + op))
            x = dst
        self.cur[out] = "f16"
        self.stats["f16"] += 1
        self.stats["clip_rewritten"] = self.stats.get("clip_rewritten", 0) + 1
        return True

    def run(self):
        for node in self.g.node:
            if node.op_type == "Constant" and len(node.output) == 1:
                attr = next((a for a in node.attribute if a.name == "value"), None)
                if attr is not None and attr.t.data_type == TensorProto.FLOAT:
                    self.consts[node.output[0]] = numpy_helper.to_array(attr.t)
                    self.types[node.output[0]] = TensorProto.FLOAT
                    continue
            self.convert_node(node)
        self.finish()
        return self.model

    def convert_node(self, node):
        keep = KEEP_F32_INPUTS.get(node.op_type, set())
        float_ins = [i for k, i in enumerate(node.input) if i and k not in keep and self.is_float(i)]
        n = onnx.NodeProto()
        n.CopyFrom(node)
        if node.op_type == "Cast":
            # a Cast's output type is its attribute's; its input may be either precision
            if node.input[0] in self.consts:
                n.input[0] = self.get(node.input[0], "f32")
            for o in node.output:
                if self.types.get(o) == TensorProto.FLOAT:
                    self.cur[o] = "f32"
            self.nodes.append(n)
            return
        prec = self.precision(node, float_ins)
        if node.op_type == "Clip" and prec == "f16" and self.clip_as_max_min(node):
            return
        self.stats[prec] += 1
        if prec == "f32" and node.op_type in self.block:
            self.kept_f32[node.op_type] = self.kept_f32.get(node.op_type, 0) + 1
        for k, i in enumerate(node.input):
            if not i:
                continue
            if k in keep and self.is_float(i):
                n.input[k] = self.get(i, "f32")
            elif self.is_float(i):
                if node.op_type in ("Shape", "Size"):
                    n.input[k] = self.get(i, self.cur.get(i, "f32")) if i in self.consts else i
                else:
                    n.input[k] = self.get(i, prec)
        if node.op_type == "ConstantOfShape" and prec == "f16":
            if not any(a.name == "value" for a in n.attribute):  # default: float32 zero
                n.attribute.append(helper.make_attribute(
                    "value", numpy_helper.from_array(np.zeros(1, np.float16))))
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == TensorProto.FLOAT:
                    a.t.CopyFrom(numpy_helper.from_array(self.half(numpy_helper.to_array(a.t))))
        for o in node.output:
            if self.types.get(o) == TensorProto.FLOAT:
                self.cur[o] = prec
        self.nodes.append(n)

    def finish(self):
        g = self.g
        out_names = {o.name for o in g.output if o.type.tensor_type.elem_type == TensorProto.FLOAT}
        tails = []
        for name in out_names:
            if name in self.consts:
                self.get(name, "f32")
            if self.cur.get(name) != "f16":
                continue
            inner = name + "__fp16out"
            for n in self.nodes:
                for k, i in enumerate(n.input):
                    if i == name:
                        n.input[k] = inner
                for k, o in enumerate(n.output):
                    if o == name:
                        n.output[k] = inner
            tails.append(helper.make_node("Cast", [inner], [name], to=TensorProto.FLOAT,
                                          name=name + "_out_cast"))
            self.stats["casts"] += 1
        used = {i for n in self.nodes + tails for i in n.input} | {o.name for o in g.output}
        keep_inits = [i for i in g.initializer
                      if i.data_type != TensorProto.FLOAT and i.name in used]
        inits = keep_inits + [t for name, t in self.new_inits.items() if name in used]
        del g.initializer[:]
        g.initializer.extend(inits)
        # old models list initializers among the inputs: drop those that are gone
        kept = {t.name for t in inits}
        ins = [i for i in g.input if i.name not in self.consts or i.name in kept]
        del g.input[:]
        g.input.extend(ins)
        del g.node[:]
        g.node.extend(self.nodes + tails)
        del g.value_info[:]  # float types changed; ORT infers them again


def convert(model, block=BLOCK):
    """Returns (fp16 model, report dict)."""
    c = Converter(model, set(block))
    m = c.run()
    onnx.checker.check_model(m)
    report = dict(c.stats, clipped=c.clipped, kept_f32=c.kept_f32)
    return m, report


def default_out(path):
    stem = path[:-5] if path.endswith(".onnx") else path
    return stem + ".fp16.onnx"


def feeds_for(model_path, given, shapes, seed=0):
    import onnxruntime as ort
    s = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in s.get_inputs():
        if i.name in given:
            feeds[i.name] = np.load(given[i.name])
            continue
        shp = shapes.get(i.name) or [d if isinstance(d, int) else 1 for d in i.shape]
        dt = np.float16 if "float16" in i.type else np.float32
        feeds[i.name] = rng.standard_normal(shp).astype(dt)
    return feeds


def check(fp32_path, fp16_path, given, shapes):
    try:
        import onnxruntime as ort
    except ImportError:
        print("check: onnxruntime not importable here; skipped (tests/gpu/steps/fp16.sh runs it)")
        return 0
    feeds = feeds_for(fp32_path, given, shapes)
    a = ort.InferenceSession(fp32_path, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(fp16_path, providers=["CPUExecutionProvider"])
    ra, rb = a.run(None, feeds), b.run(None, feeds)
    rc = 0
    for o, x, y in zip(a.get_outputs(), ra, rb):
        x64, y64 = x.astype(np.float64), y.astype(np.float64)
        diff = np.abs(x64 - y64)
        rel = diff / np.maximum(np.abs(x64), 1e-3)
        ok = np.all(np.isfinite(y64))
        print("check: %s %s dtype %s/%s max abs %.3g max rel %.3g mean abs %.3g%s" % (
            o.name, list(x.shape), x.dtype, y.dtype, diff.max(), rel.max(), diff.mean(),
            "" if ok else " NOT FINITE"))
        if not ok or y.dtype != x.dtype:
            rc = 1
    return rc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--block", default="", help="more ops to keep float32 (comma separated)")
    ap.add_argument("--allow", default="", help="ops to take off the block list")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--input", action="append", default=[], help="NAME=FILE.npy for --check")
    ap.add_argument("--shape", action="append", default=[], help="NAME=1x3x48x320 for --check")
    a = ap.parse_args(argv)
    out = a.out or default_out(a.model)
    block = (BLOCK | {x for x in a.block.split(",") if x}) - {x for x in a.allow.split(",") if x}
    try:
        model = onnx.load(a.model)
    except Exception as e:  # a missing or damaged file: say which
        print("fp16_convert: cannot read %s: %s" % (a.model, e), file=sys.stderr)
        return 2
    for i in model.graph.input:
        if i.type.tensor_type.elem_type == TensorProto.FLOAT16:
            print("fp16_convert: %s already has float16 input '%s'" % (a.model, i.name),
                  file=sys.stderr)
            return 2
    m, rep = convert(model, block)
    tmp = out + ".tmp"
    onnx.save(m, tmp)
    os.replace(tmp, out)
    print("fp16_convert: %s -> %s: %d nodes fp16, %d fp32 %s, %d casts, %d Clip as Max/Min, "
          "%d weights clipped" % (
              a.model, out, rep["f16"], rep["f32"],
              ",".join("%s:%d" % kv for kv in sorted(rep["kept_f32"].items())) or "-",
              rep["casts"], rep.get("clip_rewritten", 0), rep["clipped"]))
    if a.check:
        given = dict(x.split("=", 1) for x in a.input)
        shapes = {k: [int(d) for d in v.split("x")] for k, v in (x.split("=", 1) for x in a.shape)}
        return check(a.model, out, given, shapes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
