#!/usr/bin/env python3
"""ort_compat.py IN.onnx OUT.onnx - rewrites Slice nodes into equivalent Gather nodes.

Why: with the ONNX Runtime packages vidgraph uses (the CPU core library of
com.github.asus4.onnxruntime and the CUDA provider library of its -gpu companion, which were
not built together), the CUDA provider's Slice kernel crashes the process (a provider-bridge
mismatch, seen on the H100 machine: every model with a Slice on the GPU dies in Run; Gather,
Split, Concat, Transpose, MatMul are fine). A Slice over one axis with step 1 and constant
0 <= start < end is the same as a Gather of the indices start..end-1 on that axis, so the
rewritten model gives bit-identical results on every provider (checked on the CPU by
tests/unit/test_infer_compat.c). Slices of other shapes are left alone and listed.

An optional tool now: with the matched core that scripts/setup.sh installs on GPU machines
(onnxruntime-node 1.29.0's libonnxruntime.so.1) the original recogniser runs on CUDA, and
examples/plates.yaml uses the original. Keep it for models that must run on a mismatched core.

Idempotent: OUT is rewritten only when missing or older than IN. Needs python3-onnx.
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def const_values(model):
    """Values of Constant nodes and initializers by name (numpy arrays)."""
    vals = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant" and n.attribute:
            vals[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    return vals


def slice_spec(node, vals):
    """(axis, start, end) of a one-axis, step-1 Slice with constant bounds, else None."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if "starts" in attrs:  # opset < 10: attributes
        starts, ends, axes, steps = attrs["starts"], attrs["ends"], attrs.get("axes"), None
    else:  # opset >= 10: inputs
        ins = list(node.input) + [""] * (5 - len(node.input))
        if any(x and x not in vals for x in ins[1:]):
            return None
        starts = list(vals[ins[1]].flatten())
        ends = list(vals[ins[2]].flatten())
        axes = list(vals[ins[3]].flatten()) if ins[3] else None
        steps = list(vals[ins[4]].flatten()) if ins[4] else None
    if len(starts) != 1 or len(ends) != 1 or (axes is not None and len(axes) != 1):
        return None
    if steps is not None and int(steps[0]) != 1:
        return None
    start, end, axis = int(starts[0]), int(ends[0]), int(axes[0]) if axes is not None else 0
    if not (0 <= start < end <= (1 << 20)) or axis < 0:
        return None
    return axis, start, end


def rewrite(model):
    vals = const_values(model)
    done, left = 0, []
    for i, n in enumerate(list(model.graph.node)):
        if n.op_type != "Slice":
            continue
        spec = slice_spec(n, vals)
        if spec is None:
            left.append(n.name or n.output[0])
            continue
        axis, start, end = spec
        idx_name = (n.name or n.output[0]) + "_gather_indices"
        model.graph.initializer.append(
            numpy_helper.from_array(np.arange(start, end, dtype=np.int64), idx_name))
        g = helper.make_node("Gather", [n.input[0], idx_name], list(n.output),
                             name=(n.name or n.output[0]) + "_as_gather", axis=axis)
        model.graph.node.remove(n)
        model.graph.node.insert(i, g)
        done += 1
    return done, left


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: ort_compat.py IN.onnx OUT.onnx")
    src, dst = sys.argv[1], sys.argv[2]
    if os.path.exists(dst) and os.path.getmtime(dst) >= os.path.getmtime(src):
        return
    model = onnx.load(src)
    done, left = rewrite(model)
    onnx.checker.check_model(model)
    tmp = dst + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, dst)
    print("ort_compat: %s -> %s: %d Slice node(s) as Gather%s" %
          (src, dst, done, ("; left as they are: " + ", ".join(left)) if left else ""))


if __name__ == "__main__":
    main()
