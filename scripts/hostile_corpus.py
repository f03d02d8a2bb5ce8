#!/usr/bin/python3
"""hostile_corpus.py - generates the hostile-input corpus into OUT_DIR and writes OUT_DIR/manifest.json,
one entry per case: which `vidgraph` command runs it, what it must do, and the name the error
line must contain. Nothing is committed; everything is made here from a clip rendered with the
ffmpeg CLI, the repository's small test models (python3-onnx) and specs written below.

  media   (probe, and run through a minimal graph): truncations, corruption at several rates,
          zeroed regions, wrong extensions, empty files, a FIFO without a writer, folders, paths
          with spaces, non-ASCII and non-UTF-8 bytes
  models  (models inspect): garbage, truncated, valid protobuf with broken graphs (dangling
          inputs, missing initialisers, unknown ops, unknown domains, cycles), huge declared dims,
          absurd opsets, external data that is not there
  specs   (check and run): cycles, self loops, 10k nodes, deep nesting, alias bombs, non-UTF-8,
          huge numbers, negative sizes, wrong types, NULs, duplicate keys, 50k-key maps

expect: "fail" = a clean exit with status 1 or 2 and a line naming the input;
        "any"  = success is allowed too (e.g. a lightly corrupted video that the decoder conceals),
        but never a crash, a sanitizer report, a leak or a hang.
Usage: hostile_corpus.py OUT_DIR"""
import json
import os
import random
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
cases = []


def case(kind, cmd, path, expect="fail", name=None, extra=None):
    """cmd: probe | run | inspect | check; path: the hostile file (bytes path allowed)."""
    p = path if isinstance(path, bytes) else os.fsencode(path)
    n = name if name is not None else os.path.basename(p.rstrip(b"/"))
    cases.append({"kind": kind, "cmd": cmd, "path": os.fsdecode(p), "expect": expect,
                  "name": os.fsdecode(n), "extra": extra or {}})


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---------------------------------------------------------------- media
def make_media(out):
    d = os.path.join(out, "media")
    os.makedirs(d)
    clip = os.path.join(d, "clip.mp4")
    r = subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc=size=96x64:rate=10", "-frames:v", "12", "-c:v", "libx264",
                        "-g", "4", "-pix_fmt", "yuv420p", clip], stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit("hostile_corpus: ffmpeg could not render the base clip")
    png = os.path.join(d, "still.png")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=40x30",
                    "-frames:v", "1", png], check=True, stdin=subprocess.DEVNULL)
    jpg = os.path.join(d, "still.jpg")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=40x30",
                    "-frames:v", "1", jpg], check=True, stdin=subprocess.DEVNULL)
    with open(clip, "rb") as f:
        base = f.read()
    rng = random.Random(15)
    for n in (0, 1, 16, 200, 2000, len(base) // 2, len(base) - 1):
        expect = "any" if n > len(base) // 3 else "fail"
        p = write(os.path.join(d, "trunc_%d.mp4" % n), base[:n])
        case("media", "probe", p, expect)
        case("media", "run", p, expect)
    for rate in (0.001, 0.01, 0.1, 0.5):
        b = bytearray(base)
        for _ in range(max(1, int(len(b) * rate))):
            b[rng.randrange(len(b))] = rng.randrange(256)
        p = write(os.path.join(d, "corrupt_%g.mp4" % rate), bytes(b))
        case("media", "probe", p, "any")
        case("media", "run", p, "any")
    for where in (0, len(base) // 4, len(base) // 2):
        b = bytearray(base)
        b[where:where + 512] = bytes(512)
        p = write(os.path.join(d, "zeroed_at_%d.mp4" % where), bytes(b))
        case("media", "run", p, "any")
    # raw streams: a valid one cut short and one of noise with start codes
    h264 = os.path.join(d, "clip.h264")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", clip, "-c", "copy", "-bsf:v",
                    "h264_mp4toannexb", h264], check=True, stdin=subprocess.DEVNULL)
    with open(h264, "rb") as f:
        raw = f.read()
    case("media", "run", write(os.path.join(d, "cut.h264"), raw[:len(raw) // 3]), "any")
    noise = b"".join(b"\x00\x00\x00\x01" + bytes(rng.randrange(256) for _ in range(60))
                     for _ in range(40))
    case("media", "probe", write(os.path.join(d, "noise.h264"), noise), "any")
    case("media", "run", os.path.join(d, "noise.h264"), "any")
    case("media", "run", write(os.path.join(d, "noise.hevc"), noise), "any")
    # wrong extensions, empty files, garbage
    with open(png, "rb") as f:
        png_bytes = f.read()
    case("media", "probe", write(os.path.join(d, "png_named.mp4"), png_bytes), "any")
    case("media", "run", write(os.path.join(d, "mp4_named.jpg"), base), "any")
    case("media", "run", write(os.path.join(d, "text_named.png"), b"hello, I am not a PNG\n"))
    case("media", "run", write(os.path.join(d, "truncated.png"), png_bytes[:40]))
    with open(jpg, "rb") as f:
        jpg_bytes = f.read()
    # libjpeg would decode a cut JPEG with the missing rows grey (a warning only); vidgraph
    # refuses it, naming the truncation (src/video/image.c)
    case("media", "run", write(os.path.join(d, "truncated.jpg"), jpg_bytes[:300]), "fail")
    case("media", "run", write(os.path.join(d, "huge_dims.png"), png_bytes[:16] +
                               b"\x7f\xff\xff\xff\x7f\xff\xff\xff" + png_bytes[24:]))
    for ext in (".mp4", ".jpg", ".png", ".h264"):
        p = write(os.path.join(d, "empty" + ext), b"")
        case("media", "probe", p)
        case("media", "run", p)
    case("media", "run", write(os.path.join(d, "garbage.mkv"), bytes(rng.randrange(256)
                                                                    for _ in range(5000))))
    # FIFO with no writer, folders, missing files, odd names
    fifo = os.path.join(d, "nowriter.fifo")
    os.mkfifo(fifo)
    case("media", "probe", fifo, extra={"source_params": {"open_timeout_ms": 2000}})
    case("media", "run", fifo, extra={"source_params": {"open_timeout_ms": 2000}})
    empty_dir = os.path.join(d, "empty_folder")
    os.makedirs(empty_dir)
    case("media", "probe", empty_dir)
    case("media", "run", empty_dir)
    junk_dir = os.path.join(d, "junk_images")
    os.makedirs(junk_dir)
    write(os.path.join(junk_dir, "a.jpg"), b"not a jpeg")
    write(os.path.join(junk_dir, "b.png"), b"")
    case("media", "run", junk_dir)
    case("media", "run", os.path.join(d, "does_not_exist.mp4"))
    spaced = write(os.path.join(d, "name with spaces.mp4"), base[:100])
    case("media", "run", spaced)
    utf8 = write(os.path.join(d, "caméra_東京.mp4"), base[:100])
    case("media", "probe", utf8)
    case("media", "run", utf8)
    bad = os.path.join(os.fsencode(d), b"bad_\xff\xfe_name.mp4")
    write(bad, base[:100])
    cases.append({"kind": "media", "cmd": "probe", "path": os.fsdecode(bad), "expect": "fail",
                  "name": "bad_", "extra": {"json": True}})
    case("media", "run", bad, name=b"bad_")
    case("media", "run", "rtsp://127.0.0.1:9/none", name=b"127.0.0.1",
         extra={"source_params": {"open_timeout_ms": 2000, "reconnect_attempts": 0}})


# ---------------------------------------------------------------- models
def make_models(out):
    d = os.path.join(out, "models")
    os.makedirs(d)
    rng = random.Random(7)
    case("model", "inspect", write(os.path.join(d, "empty.onnx"), b""))
    case("model", "inspect", write(os.path.join(d, "garbage.onnx"),
                                   bytes(rng.randrange(256) for _ in range(3000))))
    case("model", "inspect", write(os.path.join(d, "text.onnx"), b"ir_version: 8\n"))
    case("model", "inspect", os.path.join(d, "missing.onnx"))
    case("model", "inspect", d, name=b"models")
    with open(os.path.join(ROOT, "models/test/tiny_mlp.onnx"), "rb") as f:
        mlp = f.read()
    for n in (10, len(mlp) // 2, len(mlp) - 3):
        case("model", "inspect", write(os.path.join(d, "cut_%d.onnx" % n), mlp[:n]))
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError:
        print("hostile_corpus: python3-onnx missing: broken-graph models skipped", file=sys.stderr)
        return

    def vi(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    def save(name, nodes, inputs, outputs, inits=(), opset=13, check=False, domain_ops=()):
        g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
        ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(dom, 1) for dom in domain_ops]
        m = helper.make_model(g, opset_imports=ops, producer_name="hostile")
        m.ir_version = 8
        p = os.path.join(d, name + ".onnx")
        with open(p, "wb") as f:
            f.write(m.SerializeToString())
        return p

    x, y = vi("x", [1, 4]), vi("y", [1, 4])
    case("model", "inspect", save("dangling_input", [helper.make_node("Add", ["x", "nowhere"], ["y"])],
                                  [x], [y]))
    case("model", "inspect", save("missing_initialiser",
                                  [helper.make_node("MatMul", ["x", "W"], ["y"])], [x], [y]))
    case("model", "inspect", save("unknown_op", [helper.make_node("FrobnicateAll", ["x"], ["y"])],
                                  [x], [y]))
    case("model", "inspect", save("unknown_domain",
                                  [helper.make_node("Relu", ["x"], ["y"], domain="com.hostile")],
                                  [x], [y], domain_ops=["com.hostile"]))
    case("model", "inspect", save("cycle", [helper.make_node("Add", ["x", "b"], ["a"]),
                                            helper.make_node("Relu", ["a"], ["b"]),
                                            helper.make_node("Identity", ["a"], ["y"])], [x], [y]))
    case("model", "inspect", save("no_outputs", [helper.make_node("Relu", ["x"], ["y"])], [x], []),
         "any")
    case("model", "inspect", save("huge_dims", [helper.make_node("Relu", ["x"], ["y"])],
                                  [vi("x", [1 << 40, 1 << 40])], [vi("y", [1 << 40, 1 << 40])]),
         "any")
    case("model", "inspect", save("negative_dims", [helper.make_node("Relu", ["x"], ["y"])],
                                  [vi("x", [-5, 4])], [vi("y", [-5, 4])]), "any")
    case("model", "inspect", save("opset_99999", [helper.make_node("Relu", ["x"], ["y"])], [x], [y],
                                  opset=99999))
    big = helper.make_tensor("W", TensorProto.FLOAT, [4, 4], vals=bytes(64), raw=True)
    big.raw_data = bytes(6)  # declares 4x4 floats, holds 6 bytes
    case("model", "inspect", save("short_initialiser", [helper.make_node("MatMul", ["x", "W"], ["y"])],
                                  [x], [y], inits=[big]))
    ext = helper.make_tensor("W", TensorProto.FLOAT, [4, 4], vals=bytes(64), raw=True)
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "../../../../etc/absent.bin"), ("offset", "0"), ("length", "64")):
        e = ext.external_data.add()
        e.key, e.value = k, v
    case("model", "inspect", save("external_data_missing",
                                  [helper.make_node("MatMul", ["x", "W"], ["y"])], [x], [y],
                                  inits=[ext]))
    many = [vi("x%d" % i, [1]) for i in range(300)]
    case("model", "inspect", save("300_inputs", [helper.make_node("Sum", ["x%d" % i for i in range(300)],
                                                                  ["y"])], many, [vi("y", [1])]), "any")


# ---------------------------------------------------------------- specs
SRC = "  - {id: src, type: test_source, params: {count: 3}}\n"
SINK = "  - {id: out, type: json_sink, params: {path: events.jsonl}}\n"


def make_specs(out):
    d = os.path.join(out, "specs")
    os.makedirs(d)

    def spec(name, text, expect="fail", cmds=("check", "run")):
        data = text if isinstance(text, bytes) else text.encode()
        p = write(os.path.join(d, name), data)
        for c in cmds:
            case("spec", c, p, expect)

    spec("empty.yaml", "")
    spec("comments_only.yaml", "# nothing here\n")
    spec("scalar.yaml", "just a string\n")
    spec("list.yaml", "- 1\n- 2\n")
    spec("cycle.yaml", "nodes:\n" + SRC + "  - {id: a, type: pass}\n  - {id: b, type: pass}\n"
         + SINK + "edges: [src -> a, a -> b, b -> a, b -> out]\n")
    spec("self_loop.yaml", "nodes:\n" + SRC + "  - {id: a, type: pass}\n" + SINK +
         "edges: [src -> a, a -> a, a -> out]\n")
    spec("dup_ids.yaml", "nodes:\n" + SRC + SRC + SINK + "edges: [src -> out]\n")
    spec("unknown_type.yaml", "nodes:\n" + SRC + "  - {id: x, type: warp_drive}\n" + SINK
         + "edges: [src -> x, x -> out]\n")
    spec("unknown_port.yaml", "nodes:\n" + SRC + SINK + "edges: [src.nope -> out.in]\n")
    spec("edge_to_nowhere.yaml", "nodes:\n" + SRC + SINK + "edges: [src -> ghost]\n")
    chain = "".join("  - {id: n%d, type: pass}\n" % i for i in range(10000))
    edges = "".join("  - n%d -> n%d\n" % (i, i + 1) for i in range(9999))
    spec("10k_nodes.yaml", "nodes:\n" + SRC + chain + SINK + "edges:\n  - src -> n0\n" + edges
         + "  - n9999 -> out\n", "any", cmds=("check",))
    spec("10k_sources.yaml", "nodes:\n" + "".join(
        "  - {id: s%d, type: test_source, params: {count: 1}}\n" % i for i in range(10000)), "any",
        cmds=("check",))
    spec("deep_seq.yaml", "nodes: " + "[" * 100000 + "]" * 100000 + "\n")
    spec("deep_map.yaml", "nodes: " + "{a: " * 20000 + "1" + "}" * 20000 + "\n")
    spec("deep_indent.yaml", "nodes:\n" + "".join(" " * (2 * i) + "- \n" for i in range(3000)))
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        bomb += "%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n" % ((cur, cur) + (prev,) * 10)
    spec("alias_bomb.yaml", bomb + "nodes:\n" + SRC + SINK + "edges: [src -> out]\nextra: *j\n")
    spec("alias_undefined.yaml", "nodes: *nothing\n")
    spec("alias_self.yaml", "nodes: &n [*n]\n")
    spec("merge_bomb.yaml", "base: &b {" + ", ".join("k%d: %d" % (i, i) for i in range(2000)) + "}\n"
         + "nodes:\n" + "".join("  - {<<: *b, id: p%d, type: pass}\n" % i for i in range(500)))
    spec("non_utf8.yaml", b"nodes:\n  - {id: \xff\xfe\xc3, type: test_source}\n")
    spec("non_utf8_key.yaml", b"nodes:\n" + SRC.encode() + b"  - {id: out, type: json_sink, params: {p\xc0th: x}}\nedges: [src -> out]\n")
    spec("nul_byte.yaml", b"nodes:\n  - {id: s\x00rc, type: test_source}\n")
    spec("bom_utf16.yaml", "nodes: []\n".encode("utf-16"))
    spec("huge_int.yaml", "settings: {queue_size: 99999999999999999999999999}\nnodes:\n" + SRC + SINK
         + "edges: [src -> out]\n")
    spec("huge_float.yaml", "nodes:\n  - {id: src, type: test_source, params: {count: 1e400}}\n" + SINK
         + "edges: [src -> out]\n")
    spec("nan.yaml", "settings: {max_wait_ms: .nan}\nnodes:\n" + SRC + SINK + "edges: [src -> out]\n")
    spec("negative_queue.yaml", "settings: {queue_size: -1}\nnodes:\n" + SRC + SINK
         + "edges: [src -> out]\n")
    spec("negative_width.yaml", "nodes:\n  - {id: src, type: test_source, params: {width: -64, height: -2}}\n"
         + SINK + "edges: [src -> out]\n")
    spec("negative_workers.yaml", "settings: {workers: -8, cuda_streams: -1}\nnodes:\n" + SRC + SINK
         + "edges: [src -> out]\n")
    spec("threads_1e6.yaml", "settings: {workers: 1000000}\nnodes:\n" + SRC + SINK + "edges: [src -> out]\n")
    spec("wrong_types.yaml", "settings: [1, 2]\nnodes: {a: b}\nedges: 7\n")
    spec("edge_types.yaml", "nodes:\n" + SRC + SINK + "edges: [[src, out], {from: 1, to: [2]}, null]\n")
    spec("dup_keys.yaml", "nodes:\n" + SRC + SINK + "edges: [src -> out]\nedges: [src -> out]\n")
    spec("50k_keys.yaml", "settings:\n" + "".join("  k%d: %d\n" % (i, i) for i in range(50000))
         + "nodes:\n" + SRC + SINK + "edges: [src -> out]\n")
    spec("long_id.yaml", "nodes:\n  - {id: " + "x" * 100000 + ", type: test_source}\n")
    spec("tabs.yaml", "nodes:\n\t- {id: src, type: test_source}\n")
    spec("json_trailing.json", '{"nodes": [], "edges": []} trailing garbage')
    spec("json_deep.json", '{"nodes": ' + "[" * 50000 + "]" * 50000 + "}")
    spec("model_missing.yaml", "nodes:\n" + SRC
         + "  - {id: det, type: infer, params: {model: /nonexistent/m.onnx}}\n" + SINK
         + "edges: [src -> det, det -> out]\n")
    spec("model_is_folder.yaml", "nodes:\n" + SRC
         + "  - {id: det, type: infer, params: {model: /tmp}}\n" + SINK
         + "edges: [src -> det, det -> out]\n")
    spec("sink_in_missing_dir.yaml", "nodes:\n" + SRC
         + "  - {id: out, type: json_sink, params: {path: /nonexistent/dir/e.jsonl}}\n"
         + "edges: [src -> out]\n")
    p = os.path.join(d, "unreadable.yaml")
    write(p, b"nodes: []\n")
    os.chmod(p, 0)
    if os.geteuid() != 0:  # root reads it anyway
        case("spec", "check", p)
    case("spec", "check", d, name=b"specs")
    case("spec", "run", os.path.join(d, "absent.yaml"))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    if os.path.exists(out):
        for root, dirs, _ in os.walk(out):
            for x in dirs:
                os.chmod(os.path.join(root, x), 0o755)
        shutil.rmtree(out)
    os.makedirs(out)
    make_media(out)
    make_models(out)
    make_specs(out)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(cases, f, indent=1)
    kinds = {}
    for c in cases:
        kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
    print("hostile_corpus: %d cases (%s) in %s" % (len(cases), ", ".join(
        "%s %d" % kv for kv in sorted(kinds.items())), out))


if __name__ == "__main__":
    main()
