#!/usr/bin/env python3
"""fuzz_seeds.py - builds the seed corpora of the libFuzzer targets (tests/fuzz/fuzz_*.c) into
OUT/<target>/ from what the repository already has: the example graphs and test specs, the
committed text seeds (tests/fuzz/seeds/<target>/, crash reproducers included), the small test
models, and images and H.264/HEVC streams rendered here with the ffmpeg CLI. Nothing binary is
committed. Usage: fuzz_seeds.py OUT_DIR"""
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def put(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def specs():
    """Graph specs of the repository (examples, integration tests, committed seeds)."""
    paths = []
    for d in ("examples", "tests/integration", "tests/fuzz/seeds/graph_spec"):
        full = os.path.join(ROOT, d)
        for name in sorted(os.listdir(full)) if os.path.isdir(full) else []:
            if name.endswith((".yaml", ".yml", ".json")) or d.endswith("graph_spec"):
                paths.append(os.path.join(full, name))
    return [read(p) for p in paths]


SETS = [
    [b"nodes.video.params.loop=true", b"settings.queue_size=4"],
    [b"nodes.0.params={a: 1, b: [1, 2]}"],
    [b"settings.max_batch=8", b"nodes.det.params.conf=0.4", b"nodes.9.id=x"],
    [b"edges.0=a -> b"],
]


def png(width, height, color_type, depth, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth,
            color_type, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def ffmpeg(args, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x" + suffix)
        cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i"] + args + [path]
        if subprocess.run(cmd, stdin=subprocess.DEVNULL).returncode != 0 or not os.path.exists(path):
            print("fuzz_seeds: skipped (ffmpeg failed): " + " ".join(cmd), file=sys.stderr)
            return None
        return read(path)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    shutil.rmtree(out, ignore_errors=True)
    # committed text seeds and reproducers of every target
    for target in ("graph_spec", "config_set", "image", "onnx_inspect", "es_stream", "shm_ref", "http"):
        d = os.path.join(ROOT, "tests/fuzz/seeds", target)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            put(out, target, read(os.path.join(d, name)))
    for doc in specs():
        put(out, "graph_spec", doc)
        put(out, "config_set", doc)
        for sets in SETS:
            put(out, "config_set", doc + b"\0" + b"\0".join(sets))
    # images: PNGs of every colour type and depth written here, JPEGs from ffmpeg
    put(out, "image", png(3, 2, 2, 8, [bytes(range(9))] * 2))
    put(out, "image", png(4, 3, 0, 8, [b"\x00\x40\x80\xff"] * 3))
    put(out, "image", png(2, 2, 6, 8, [bytes(8)] * 2))
    put(out, "image", png(2, 2, 2, 16, [bytes(12)] * 2))
    put(out, "image", png(9, 1, 0, 1, [b"\xaa\x80"]))
    for size, pix in (("16x8", "yuvj420p"), ("17x9", "yuvj444p"), ("8x8", "gray")):
        data = ffmpeg(["testsrc=size=%s:rate=1" % size, "-frames:v", "1", "-pix_fmt", pix], ".jpg")
        if data:
            put(out, "image", data)
    # models: the small test models and the provider probe's model
    for name in ("tiny_f16.onnx", "tiny_fixed.onnx", "tiny_mlp.onnx", "tiny_u8.onnx", "conv10.onnx"):
        p = os.path.join(ROOT, "models/test", name)
        if os.path.exists(p):
            put(out, "onnx_inspect", read(p))
    # raw streams: first byte 0 = .h264, 1 = .hevc (see fuzz_es_stream.c)
    for codec, tag in (("libx264", b"\x00"), ("libx265", b"\x01")):
        suffix = ".h264" if tag == b"\x00" else ".hevc"
        for size in (("32x32", "48x16") if codec == "libx264" else ("64x64", "96x48")):
            args = ["testsrc=size=%s:rate=5" % size, "-frames:v", "3", "-c:v", codec]
            if codec == "libx265":
                args += ["-x265-params", "log-level=error"]
            data = ffmpeg(args, suffix)
            if data:
                put(out, "es_stream", tag + data)
    for target in sorted(os.listdir(out)):
        print("fuzz_seeds: %-13s %d seeds" % (target, len(os.listdir(os.path.join(out, target)))))


if __name__ == "__main__":
    main()
