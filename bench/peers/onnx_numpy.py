"""onnx_numpy.py - the same node-by-node executor as onnx_torch.py in plain NumPy (float32), for
the machines without torch: the detector's calibration in scripts/gen_bench_models.py and the
cross-check of the PyTorch rebuild on the GPU step (bench/peers/model_alone.py --check). Slow
(im2col + matmul) but exact enough; one 640x640 image of yolo_bench takes seconds.
"""
import numpy as np
import onnx
from onnx import numpy_helper

SUPPORTED = {"Conv", "Sigmoid", "Mul", "Add", "Relu", "Concat", "Split", "MaxPool", "Reshape",
             "Resize", "Identity"}


def _pad(x, p, value):
    return np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])), constant_values=value)


def _windows(x, kh, kw, sh, sw):
    """[N,C,H,W] (already padded) -> view [N,C,OH,OW,kh,kw]."""
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, c, oh, ow, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3]), writeable=False)


def conv2d(x, w, b, strides=(1, 1), pads=(0, 0, 0, 0)):
    cout, cin, kh, kw = w.shape
    win = _windows(_pad(x, pads, 0.0), kh, kw, strides[0], strides[1])
    n, _, oh, ow = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, cin * kh * kw)
    y = cols @ w.reshape(cout, -1).T
    if b is not None:
        y += b
    return y.reshape(n, oh, ow, cout).transpose(0, 3, 1, 2).astype(np.float32)


def maxpool(x, k, strides, pads):
    win = _windows(_pad(x, pads, -np.inf), k[0], k[1], strides[0], strides[1])
    return win.max(axis=(4, 5))


def run_node(n, env):
    """Executes node n on the values in env (name -> array), storing its outputs there."""
    if n.op_type not in SUPPORTED:
        raise ValueError("onnx_numpy: op %s not supported" % n.op_type)
    a = {t.name: onnx.helper.get_attribute_value(t) for t in n.attribute}
    v = [env[i] if i else None for i in n.input]
    op = n.op_type
    if op == "Conv":
        y = conv2d(v[0], v[1], v[2] if len(v) > 2 else None, a.get("strides", [1, 1]),
                   a.get("pads", [0, 0, 0, 0]))
    elif op == "Sigmoid":
        y = (0.5 * (1.0 + np.tanh(0.5 * v[0]))).astype(np.float32)  # no overflow in exp
    elif op == "Relu":
        y = np.maximum(v[0], 0)
    elif op == "Mul":
        y = v[0] * v[1]
    elif op == "Add":
        y = v[0] + v[1]
    elif op == "Identity":
        y = v[0]
    elif op == "Concat":
        y = np.concatenate(v, axis=a["axis"])
    elif op == "Split":
        idx = np.cumsum([int(s) for s in v[1]])[:-1]
        for o, t in zip(n.output, np.split(v[0], idx, axis=a.get("axis", 0))):
            env[o] = t
        return
    elif op == "MaxPool":
        y = maxpool(v[0], a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0] * 4))
    elif op == "Reshape":
        y = v[0].reshape([int(d) if d != 0 else v[0].shape[i] for i, d in enumerate(v[1])])
    elif op == "Resize":
        s = [int(f) for f in v[2]]
        y = v[0].repeat(s[2], axis=2).repeat(s[3], axis=3)
    env[n.output[0]] = y


def input_env(model, x):
    g = model.graph
    env = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    inits = set(env)
    env[[i.name for i in g.input if i.name not in inits][0]] = x.astype(np.float32)
    return env


def run(model, x, names=None):
    """Output 0 of the ONNX model for input x (float32 numpy); with names, a dict of those
    values (any node output or initializer) instead."""
    if isinstance(model, str):
        model = onnx.load(model)
    env = input_env(model, x)
    for n in model.graph.node:
        run_node(n, env)
    if names:
        return {k: env[k] for k in names}
    return env[model.graph.output[0].name]
