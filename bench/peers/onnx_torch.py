"""onnx_torch.py - rebuilds an ONNX network in PyTorch from its initializers, node by node, so
that the Python peers run the SAME function with the SAME weights as the .onnx file vidgraph
loads (no export, no second source of weights). Shared by bench/torch_infer_reference.py and
the peers in bench/peers/.

Supported ops: what scripts/gen_test_models.py and scripts/gen_bench_models.py emit (Conv,
Sigmoid, Mul, Add, Relu, Concat, Split, MaxPool, Reshape, Resize nearest, Identity), what the
PP-OCRv4 detector adds (Constant, BatchNormalization, ConvTranspose, Div, GlobalAveragePool,
HardSigmoid, Clip) and its recogniser (Shape, Cast, Slice, Squeeze, Transpose, MatMul, Softmax,
ReduceMean, Pow, Sqrt, Sub, AveragePool). Shapes and integer values stay host-side NumPy
(computed from tensor metadata: no device sync, so CUDA graphs capture). Any other op raises
UnsupportedOp naming it (callers say so in their notes instead of inventing a number).

Needs torch and onnx (and numpy). Import it only after checking they exist (peers_common.need).
"""
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

SUPPORTED = {"Conv", "Sigmoid", "Mul", "Add", "Relu", "Concat", "Split", "MaxPool", "Reshape",
             "Resize", "Identity",
             # what PP-OCRv4's detector adds (its recogniser needs more: not supported)
             "Constant", "BatchNormalization", "ConvTranspose", "Div", "GlobalAveragePool",
             "HardSigmoid", "Clip",
             # and its recogniser (SVTR neck: attention, layer norm, shape arithmetic)
             "Shape", "Cast", "Slice", "Squeeze", "Transpose", "MatMul", "Softmax",
             "ReduceMean", "Pow", "Sqrt", "Sub", "AveragePool"}

_ONNX_INT = {6: np.int32, 7: np.int64}


class UnsupportedOp(Exception):
    pass


def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def unsupported_ops(model):
    """The op types of the model the rebuild cannot run (sorted), [] when it can run them all."""
    return sorted({n.op_type for n in model.graph.node} - SUPPORTED)


def _sym_pads(pads, what):
    if list(pads[:2]) != list(pads[2:]):
        raise UnsupportedOp("%s with asymmetric padding %s" % (what, list(pads)))
    return list(pads[:2])


class OnnxNet(torch.nn.Module):
    """Executes an ONNX graph's nodes in order with torch ops; float weights are buffers (so
    .to(device) / .half() move and cast them), shapes/axes/scales stay host-side numpy (reading
    a GPU tensor inside a CUDA graph capture would synchronise, which capture forbids)."""

    def __init__(self, model):
        super().__init__()
        if isinstance(model, str):
            model = onnx.load(model)
        bad = unsupported_ops(model)
        if bad:
            raise UnsupportedOp("onnx_torch: ops not in the rebuild: %s" % ", ".join(bad))
        g = model.graph
        self.consts = {}
        host_side = {i for n in g.node if n.op_type in ("Reshape", "Resize", "Split", "Clip")
                     for i in n.input[1:]}
        values = [(init.name, numpy_helper.to_array(init)) for init in g.initializer]
        values += [(n.output[0], numpy_helper.to_array(attrs_of(n)["value"]))
                   for n in g.node if n.op_type == "Constant"]
        for i, (vname, arr) in enumerate(values):
            if arr.dtype in (np.float32, np.float16) and vname not in host_side:
                name = "w%d" % i
                self.register_buffer(name, torch.from_numpy(arr.astype(np.float32).copy()))
                self.consts[vname] = name
            else:
                self.consts[vname] = arr
        self.nodes = [(n.op_type, list(n.input), list(n.output), attrs_of(n)) for n in g.node
                      if n.op_type != "Constant"]
        inits = {i.name for i in g.initializer}
        self.input_name = [i.name for i in g.input if i.name not in inits][0]
        self.output_names = [o.name for o in g.output]

    def value(self, env, name):
        if name in env:
            return env[name]
        c = self.consts[name]
        return getattr(self, c) if isinstance(c, str) else c

    def forward(self, x):
        env = {self.input_name: x}
        for op, ins, outs, a in self.nodes:
            v = [self.value(env, i) if i else None for i in ins]
            if all(isinstance(t, np.ndarray) or t is None for t in v) and v and \
                    op in ("Cast", "Slice", "Squeeze", "Concat", "Mul", "Add", "Sub", "Div"):
                env[outs[0]] = _host_op(op, v, a)   # shape arithmetic on the host
                continue
            if op == "Conv":
                y = F.conv2d(v[0], v[1], v[2] if len(v) > 2 else None,
                             stride=a.get("strides", [1, 1]),
                             padding=_sym_pads(a.get("pads", [0, 0, 0, 0]), "Conv"),
                             dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
            elif op == "Sigmoid":
                y = torch.sigmoid(v[0])
            elif op == "Relu":
                y = torch.relu(v[0])
            elif op == "Mul":
                y = v[0] * v[1]
            elif op == "Add":
                y = v[0] + v[1]
            elif op == "Identity":
                y = v[0]
            elif op == "Concat":
                y = torch.cat(v, dim=a["axis"])
            elif op == "Split":
                sizes = [int(s) for s in v[1]]
                ys = torch.split(v[0], sizes, dim=a.get("axis", 0))
                for o, t in zip(outs, ys):
                    env[o] = t
                continue
            elif op == "MaxPool":
                y = F.max_pool2d(v[0], a["kernel_shape"], stride=a.get("strides", [1, 1]),
                                 padding=_sym_pads(a.get("pads", [0, 0, 0, 0]), "MaxPool"))
            elif op == "BatchNormalization":
                y = F.batch_norm(v[0], v[3], v[4], v[1], v[2], False, 0.0,
                                 a.get("epsilon", 1e-5))
            elif op == "ConvTranspose":
                if a.get("output_shape") or a.get("auto_pad", b"NOTSET") not in (b"NOTSET",
                                                                                "NOTSET"):
                    raise UnsupportedOp("ConvTranspose with output_shape/auto_pad")
                y = F.conv_transpose2d(v[0], v[1], v[2] if len(v) > 2 else None,
                                       stride=a.get("strides", [1, 1]),
                                       padding=_sym_pads(a.get("pads", [0, 0, 0, 0]),
                                                         "ConvTranspose"),
                                       output_padding=a.get("output_padding", [0, 0]),
                                       groups=a.get("group", 1),
                                       dilation=a.get("dilations", [1, 1]))
            elif op == "Div":
                y = v[0] / v[1]
            elif op == "GlobalAveragePool":
                y = v[0].mean(dim=(2, 3), keepdim=True)
            elif op == "HardSigmoid":
                y = torch.clamp(v[0] * a.get("alpha", 0.2) + a.get("beta", 0.5), 0.0, 1.0)
            elif op == "Clip":
                lo = float(v[1]) if len(v) > 1 and v[1] is not None else a.get("min")
                hi = float(v[2]) if len(v) > 2 and v[2] is not None else a.get("max")
                y = torch.clamp(v[0], lo, hi)
            elif op == "Shape":
                y = np.array(v[0].shape, np.int64)
            elif op == "Cast":
                to = a["to"]
                y = v[0] if to in (1, 10, 11) and v[0].is_floating_point() else \
                    v[0].to({6: torch.int32, 7: torch.int64, 9: torch.bool}.get(to, v[0].dtype))
            elif op == "Slice":
                y = v[0]
                for ax, st, en in zip(a["axes"], a["starts"], a["ends"]):
                    y = y.narrow(ax, st, max(0, min(en, y.shape[ax]) - st))
            elif op == "Squeeze":
                y = v[0]
                for ax in sorted((d % y.dim() for d in a["axes"]), reverse=True):
                    y = y.squeeze(ax)
            elif op == "Transpose":
                y = v[0].permute(*a["perm"])
            elif op == "MatMul":
                y = torch.matmul(v[0], v[1])
            elif op == "Softmax":
                y = torch.softmax(v[0], dim=a.get("axis", -1))
            elif op == "ReduceMean":
                y = v[0].mean(dim=tuple(a["axes"]), keepdim=bool(a.get("keepdims", 1)))
            elif op == "Pow":
                y = v[0] ** v[1]
            elif op == "Sqrt":
                y = torch.sqrt(v[0])
            elif op == "Sub":
                y = v[0] - v[1]
            elif op == "AveragePool":
                y = F.avg_pool2d(v[0], a["kernel_shape"], stride=a.get("strides"),
                                 padding=_sym_pads(a.get("pads", [0, 0, 0, 0]), "AveragePool"),
                                 count_include_pad=bool(a.get("count_include_pad", 0)),
                                 ceil_mode=bool(a.get("ceil_mode", 0)))
            elif op == "Reshape":
                shape = [int(d) if d != 0 else v[0].shape[i] for i, d in enumerate(v[1])]
                y = v[0].reshape(shape)
            elif op == "Resize":
                scales = [float(s) for s in v[2]]
                if a.get("mode", b"nearest") not in (b"nearest", "nearest"):
                    raise UnsupportedOp("Resize mode %s" % a.get("mode"))
                y = F.interpolate(v[0], scale_factor=scales[2:], mode="nearest")
            else:  # unreachable: checked in __init__
                raise UnsupportedOp(op)
            env[outs[0]] = y
        return env[self.output_names[0]]


def _host_op(op, v, a):
    """An op whose inputs are all host-side NumPy values (shape arithmetic)."""
    if op == "Cast":
        return v[0].astype(_ONNX_INT.get(a["to"], np.float32))
    if op == "Slice":
        y = v[0]
        for ax, st, en in zip(a["axes"], a["starts"], a["ends"]):
            idx = [slice(None)] * y.ndim
            idx[ax] = slice(st, en)
            y = y[tuple(idx)]
        return y
    if op == "Squeeze":
        return np.squeeze(v[0], axis=tuple(a["axes"]))
    if op == "Concat":
        return np.concatenate([np.atleast_1d(t) for t in v], axis=a["axis"])
    return {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract,
            "Div": np.floor_divide if v[0].dtype.kind == "i" else np.divide}[op](v[0], v[1])


def load(path, device="cuda", half=False):
    """OnnxNet of the .onnx file at path, eval mode, on device, FP16 when half."""
    net = OnnxNet(onnx.load(path)).to(device).eval()
    return net.half() if half else net
