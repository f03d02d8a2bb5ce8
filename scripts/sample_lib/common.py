"""Shared helpers of the sample-video generators (make_sample.sh, make_people_sample.sh).

Everything here drives external tools (ImageMagick's /usr/bin/convert, ffmpeg) with fixed
parameters, so a generator run is deterministic: the same inputs give the same truth file and,
with the same ffmpeg/x264 build, the same video bytes. Python 3 standard library only.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation2",
             "/usr/share/fonts/truetype/liberation")
# /usr/local/bin/convert may be a stand-in that only makes PNGs; the real ImageMagick is here.
CONVERT = "/usr/bin/convert"


class GenError(Exception):
    """A generator failure with a message a person can act on."""


def say(prog, msg):
    print("%s: %s" % (prog, msg), file=sys.stderr)


def font_path(name):
    """Absolute path of a TrueType font file such as 'DejaVuSans-Bold.ttf'."""
    for d in FONT_DIRS:
        p = os.path.join(d, name)
        if os.path.isfile(p):
            return p
    raise GenError("font %s not found in %s (install fonts-dejavu-core fonts-liberation2)"
                   % (name, ", ".join(FONT_DIRS)))


def need_tools():
    """Checks the external tools before any work starts."""
    missing = []
    if not os.access(CONVERT, os.X_OK):
        missing.append("%s (Debian package imagemagick)" % CONVERT)
    for t in ("ffmpeg", "ffprobe"):
        if shutil.which(t) is None:
            missing.append("%s (Debian package ffmpeg)" % t)
    if missing:
        raise GenError("missing tools: " + ", ".join(missing))
    out = run(["ffmpeg", "-hide_banner", "-encoders"], capture=True)
    if "libx264" not in out:
        raise GenError("this ffmpeg has no libx264 encoder (Debian's ffmpeg package has it)")


def run(cmd, capture=False):
    """Runs a command; raises GenError naming the command and its stderr on failure."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                           stderr=subprocess.PIPE, universal_newlines=True)
    except OSError as e:
        raise GenError("cannot run %s: %s" % (cmd[0], e))
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-8:])
        raise GenError("%s failed (exit %d): %s" % (" ".join(cmd[:3]) + " ...", p.returncode, tail))
    return p.stdout if capture else ""


def source_stamp(kind, version, files):
    """Version stamp: generator kind + version + hash of the generator's own source files."""
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            h.update(os.path.basename(f).encode() + b"\0" + fh.read())
    return "%s v%d %s" % (kind, version, h.hexdigest()[:16])


def up_to_date(outdir, stamp_name, stamp, outputs):
    """True when every output exists and the stamp file holds exactly `stamp`."""
    try:
        with open(os.path.join(outdir, stamp_name)) as fh:
            if fh.read().strip() != stamp:
                return False
    except OSError:
        return False
    return all(os.path.isfile(os.path.join(outdir, o)) and
               os.path.getsize(os.path.join(outdir, o)) > 0 for o in outputs)


def publish(tmpdir, outdir, outputs, stamp_name, stamp):
    """Moves finished outputs from tmpdir into outdir, the stamp last (so a crash leaves no
    stamp and the next run regenerates)."""
    try:
        os.remove(os.path.join(outdir, stamp_name))
    except OSError:
        pass
    for o in outputs:
        os.replace(os.path.join(tmpdir, o), os.path.join(outdir, o))
    with open(os.path.join(outdir, stamp_name), "w") as fh:
        fh.write(stamp + "\n")


def text_ink(font, pointsize, text, interword=None):
    """(width, height) of the inked pixels of `text` rendered with ImageMagick."""
    cmd = [CONVERT, "-font", font, "-pointsize", str(pointsize)]
    if interword is not None:
        cmd += ["-interword-spacing", str(interword)]
    cmd += ["label:" + text, "-trim", "-format", "%w %h", "info:"]
    w, h = run(cmd, capture=True).split()
    return int(w), int(h)


def alpha_bbox(png):
    """Bounding box (x1, y1, x2, y2), exclusive end, of the non-transparent pixels of png.
    Pixels with alpha below ~25% (antialiasing fringe) do not count."""
    out = run([CONVERT, png, "-alpha", "extract", "-threshold", "25%", "-format", "%@ %w %h",
               "info:"], capture=True)
    geo, w, h = out.split()
    size, x, y = geo.split("+")[0], int(geo.split("+")[1]), int(geo.split("+")[2])
    bw, bh = (int(v) for v in size.split("x"))
    return (x, y, x + bw, y + bh), (int(w), int(h))


def background(path, width, height, seed, sky, ground, blocks):
    """Renders a dark, textured, low-contrast background scene: a seeded plasma, desaturated,
    under a vertical gradient, with soft darker blocks (buildings) and a darker ground band.
    Nothing in it looks like text, so it should produce no OCR reads."""
    pw, ph = width // 4, height // 4
    cmd = [CONVERT, "-size", "%dx%d" % (pw, ph), "-seed", str(seed),
           "plasma:#405068-#6a5a48", "-modulate", "100,45", "-blur", "0x1",
           "-resize", "%dx%d!" % (width, height),
           "(", "-size", "%dx%d" % (width, height), "gradient:%s-%s" % sky, ")",
           "-compose", "multiply", "-composite", "-compose", "over", "-fill", "#10141c90"]
    for (x1, y1, x2, y2) in blocks:
        cmd += ["-draw", "rectangle %d,%d %d,%d" % (x1, y1, x2, y2)]
    cmd += ["-fill", ground[1], "-draw", "rectangle 0,%d %d,%d" % (ground[0], width, height),
            "-blur", "0x3", "-attenuate", "0.25", "+noise", "Gaussian", "-depth", "8",
            "-strip", path]
    run(cmd)


def encode(inputs, filtergraph, last_label, frames, fps, out_mp4, out_h264, gop=50,
           preset="fast"):
    """Composes with ffmpeg and encodes H.264 (libx264, yuv420p, High profile, no B-frames so
    decode order == display order, an access-unit delimiter before every frame, SPS/PPS before
    every IDR) into out_mp4, then copies it as a raw Annex-B elementary stream into out_h264.
    `inputs` are ffmpeg input arguments; `filtergraph` ends in [last_label] (RGB, any format);
    the final conversion to BT.709 limited-range yuv420p happens here."""
    # Exact timestamps (frame i at i/fps) and no frame-rate conversion by ffmpeg's muxing
    # side: with its default (cfr) it dropped and duplicated single frames here.
    fg = filtergraph + (";[%s]scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
                        "settb=1/%d,setpts=N,fps=%d[vout]" % (last_label, fps, fps))
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + inputs + [
        "-filter_complex", fg, "-map", "[vout]", "-frames:v", str(frames), "-fps_mode", "passthrough",
        "-c:v", "libx264", "-preset", preset, "-crf", "18", "-profile:v", "high",
        "-pix_fmt", "yuv420p", "-bf", "0", "-g", str(gop), "-keyint_min", str(gop),
        "-sc_threshold", "0", "-threads", "2",
        "-x264-params", "aud=1:repeat-headers=1",
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
        "-color_range", "tv", "-movflags", "+faststart", "-map_metadata", "-1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", out_mp4]
    run(cmd)
    run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", out_mp4,
         "-map", "0:v:0", "-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", out_h264])


def probe_frames(path):
    """(width, height, frame count) of the first video stream, counting decoded frames."""
    out = run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
               "-show_entries", "stream=width,height,nb_read_frames", "-of", "json", path],
              capture=True)
    s = json.loads(out)["streams"][0]
    return int(s["width"]), int(s["height"]), int(s["nb_read_frames"])


def write_json(path, obj):
    """Writes a JSON object with one top-level key per line and each element of a top-level
    list (a plate, a figure) on one line: small, stable and diff-friendly."""
    lines = []
    for k, v in obj.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            items = ",\n  ".join(json.dumps(e, separators=(", ", ": ")) for e in v)
            lines.append(" %s: [\n  %s\n ]" % (json.dumps(k), items))
        else:
            lines.append(" %s: %s" % (json.dumps(k), json.dumps(v)))
    with open(path, "w") as fh:
        fh.write("{\n" + ",\n".join(lines) + "\n}\n")


def boxes_intersect(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def clip_box(b, width, height):
    """Box clipped to the frame, or None when nothing of it is inside."""
    x1, y1 = max(b[0], 0), max(b[1], 0)
    x2, y2 = min(b[2], width), min(b[3], height)
    if x1 >= x2 or y1 >= y2:
        return None
    return [x1, y1, x2, y2]


def inside(b, width, height):
    return b[0] >= 0 and b[1] >= 0 and b[2] <= width and b[3] <= height
