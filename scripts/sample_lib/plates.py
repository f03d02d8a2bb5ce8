"""Generator of the plate-reading demo's sample video and its ground truth.

Run through scripts/make_sample.sh [OUTDIR] [--force]. Writes into OUTDIR (default samples/):
  plates.mp4         1280x720, 25 fps, 300 frames, H.264 High (libx264, yuv420p, no B-frames)
  plates.h264        the same stream as raw Annex-B (for the FFmpeg-less GPU build / NVDEC)
  plates_truth.json  which plate text is visible in which frames, with per-frame boxes
  .plates.stamp      generator version stamp; a run with a matching stamp does nothing

The scene: a dark, textured background (plasma, soft building blocks, darker ground) with
temporal noise and a slow pan; ten plate-like strings in dark text on white or yellow rounded
plates with a thin border, five fonts, text heights 36..60 px, rotated -6..+6 degrees, each
crossing the frame horizontally in one of three lanes (at most three visible, never overlapping).

Truth format (frames are 0-based decode/display indices; the stream has no B-frames):
  {"video": "plates.mp4", "stream": "plates.h264", "width", "height", "fps", "frames",
   "plates": [{"text", "first_frame", "last_frame",       # any part of the plate in frame
               "full_first_frame", "full_last_frame",     # whole plate inside the frame
               "font", "text_height", "angle_deg", "color",
               "boxes": {"<frame>": [x1, y1, x2, y2]}}]}  # plate's axis-aligned box,
                                                          # clipped to the frame, end exclusive
"""

import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import verify_plates  # noqa: E402

PROG = "make_sample"
VERSION = 1
SEED = 8
WIDTH, HEIGHT, FPS, FRAMES = 1280, 720, 25, 300
OUTPUTS = ("plates.mp4", "plates.h264", "plates_truth.json")
STAMP = ".plates.stamp"
LANES = (150, 372, 594)  # y centre of each lane
LANE_START = (6, 2, 24)  # first frame of the first plate in each lane
LANE_GAP = 6  # frames between one plate leaving a lane and the next entering it
WHITE, YELLOW = "#f1f1ec", "#f6cd1e"

# text, font, text height px, plate colour, angle deg (+ = clockwise), lane, direction
# (+1 left->right, -1 right->left), speed px/frame as (num, den), vertical drift (num, den).
# Letters I, O and Q are left out (as on real plates: they read as 1 and 0).
PLATES = (
    ("KX52 RTU", "DejaVuSans-Bold.ttf", 44, WHITE, -4, 1, +1, (22, 1), (1, 4)),
    ("7BHN413", "LiberationSans-Bold.ttf", 50, YELLOW, 3, 0, -1, (20, 1), (-1, 5)),
    ("MV19 XPA", "DejaVuSansMono-Bold.ttf", 40, YELLOW, 5, 2, +1, (19, 1), (-1, 4)),
    ("4GTW28", "LiberationMono-Bold.ttf", 60, WHITE, -2, 1, -1, (24, 1), (0, 1)),
    ("CD 5917", "DejaVuSerif-Bold.ttf", 52, WHITE, 6, 0, +1, (21, 1), (1, 3)),
    ("YR61 EHB", "LiberationSans-Bold.ttf", 42, YELLOW, -3, 2, -1, (23, 1), (1, 5)),
    ("P83 LKH", "DejaVuSans-Bold.ttf", 54, YELLOW, 2, 1, +1, (25, 1), (-1, 3)),
    ("2FZ9754", "DejaVuSerif-Bold.ttf", 36, WHITE, -6, 0, -1, (24, 1), (0, 1)),
    ("WD27 SNV", "LiberationMono-Bold.ttf", 46, WHITE, 4, 2, +1, (26, 1), (-1, 5)),
    ("58KRA", "DejaVuSansMono-Bold.ttf", 56, YELLOW, -5, 1, -1, (27, 1), (1, 4)),
)


def cap_ratio(font):
    """Height of a capital H per point of font size (to size text by pixel height)."""
    _, h = common.text_ink(font, 200, "H")
    return h / 200.0


def render_plate(tmp, idx, text, font, text_h, color, angle):
    """Renders one plate sprite (RGBA PNG, rotated). Returns (path, plate box in the sprite,
    measured text ink height)."""
    ps = max(8, round(text_h / cap_ratio(font)))
    gap = round(0.5 * ps)  # wide word gap so the space is plainly visible
    ink_w, ink_h = common.text_ink(font, ps, text, gap)
    padx, pady = round(0.36 * text_h) + 6, round(0.30 * text_h) + 5
    pw, ph = ink_w + 2 * padx, ink_h + 2 * pady
    rad = round(0.16 * ph)
    path = os.path.join(tmp, "plate%02d.png" % idx)
    common.run([common.CONVERT, "-size", "%dx%d" % (pw, ph), "xc:none",
                "-fill", color, "-stroke", "#1a1a1a", "-strokewidth", "3",
                "-draw", "roundrectangle 1,1 %d,%d %d,%d" % (pw - 2, ph - 2, rad, rad),
                "(", "-background", "none", "-fill", "#141414", "-font", font,
                "-pointsize", str(ps), "-interword-spacing", str(gap), "label:" + text,
                "-trim", "+repage", ")", "-gravity", "center", "-composite",
                "-background", "none", "-rotate", str(angle), "+repage",
                "-depth", "8", "-strip", "PNG32:" + path])
    box, _ = common.alpha_bbox(path)
    return path, box, ink_h


def position(n, m):
    """Top-left of sprite at frame n (integers; the same formula goes to ffmpeg)."""
    k = n - m["f0"]
    x = m["x0"] + m["dir"] * ((m["sx"][0] * k) // m["sx"][1])
    y = m["y0"] + (m["sy"][0] * k) // m["sy"][1]
    return x, y


def ffmpeg_xy(m):
    # The frame index comes from the timestamp: overlay's own 'n' counts from 1 in this ffmpeg.
    k = "(round(t*%d)-%d)" % (FPS, m["f0"])
    x = "%d+(%d)*floor(%d*%s/%d)" % (m["x0"], m["dir"], m["sx"][0], k, m["sx"][1])
    y = "%d+floor(%d*%s/%d)" % (m["y0"], m["sy"][0], k, m["sy"][1])
    return x, y


def schedule(tmp):
    """Renders the sprites and lays the plates out in their lanes. Returns the plate list
    (with motion and per-frame boxes) and checks the layout rules."""
    lane_next = list(LANE_START)
    plates = []
    for i, (text, fname, th, color, angle, lane, d, sx, sy) in enumerate(PLATES):
        font = common.font_path(fname)
        path, box, ink_h = render_plate(tmp, i, text, font, th, color, angle)
        f0 = lane_next[lane]
        x0 = (2 - box[2]) if d > 0 else (WIDTH - 2 - box[0])
        y0 = LANES[lane] - (box[1] + box[3]) // 2
        m = {"f0": f0, "x0": x0, "y0": y0, "dir": d, "sx": sx, "sy": sy}
        boxes, full = {}, []
        for n in range(f0, FRAMES):
            x, y = position(n, m)
            b = [x + box[0], y + box[1], x + box[2], y + box[3]]
            c = common.clip_box(b, WIDTH, HEIGHT)
            if c is None:
                break
            boxes[n] = c
            if common.inside(b, WIDTH, HEIGHT):
                full.append(n)
        last = max(boxes)
        if last >= FRAMES - 1:
            raise common.GenError("plate %r still visible at the last frame; shorten the lanes"
                                  % text)
        lane_next[lane] = last + 1 + LANE_GAP
        plates.append({"text": text, "first_frame": f0, "last_frame": last,
                       "full_first_frame": full[0], "full_last_frame": full[-1],
                       "font": fname[:-4], "text_height": ink_h, "angle_deg": angle,
                       "color": "white" if color == WHITE else "yellow",
                       "sprite": path, "motion": m, "boxes": boxes})
    check_layout(plates)
    return plates


def check_layout(plates):
    """The rules the demo relies on: 2..4 s visible, mostly fully visible, at most 3 plates
    at a time, never overlapping."""
    for p in plates:
        vis = p["last_frame"] - p["first_frame"] + 1
        full = p["full_last_frame"] - p["full_first_frame"] + 1
        if not 2 * FPS <= vis <= 4 * FPS:
            raise common.GenError("plate %r visible %d frames (want 50..100)" % (p["text"], vis))
        if 2 * full <= vis:
            raise common.GenError("plate %r fully visible only %d of %d frames"
                                  % (p["text"], full, vis))
    for n in range(FRAMES):
        on = [p for p in plates if n in p["boxes"]]
        if len(on) > 3:
            raise common.GenError("frame %d shows %d plates (max 3)" % (n, len(on)))
        for a in range(len(on)):
            for b in range(a + 1, len(on)):
                if common.boxes_intersect(on[a]["boxes"][n], on[b]["boxes"][n]):
                    raise common.GenError("plates %r and %r overlap at frame %d"
                                          % (on[a]["text"], on[b]["text"], n))


def render_video(tmp, plates, mp4, h264):
    bg = os.path.join(tmp, "bg.png")
    # 64 px wider / 40 px taller than the frame: the camera pans slowly across it.
    common.background(bg, WIDTH + 64, HEIGHT + 40, SEED, ("#a8b0b8", "#383838"),
                      (470, "#00000050"),
                      [(60, 150, 260, 470), (300, 80, 520, 470), (880, 180, 1070, 470),
                       (1120, 110, 1320, 470)])
    inputs = ["-i", bg] + [a for p in plates for a in ("-i", p["sprite"])]
    # Each still image is decoded once and repeated by the loop filter.
    still = "loop=loop=-1:size=1:start=0,settb=1/%d,setpts=N" % FPS
    fg = ["[0:v]%s,format=gbrp,crop=%d:%d:x='trunc(n*0.2)':y='trunc(40-n*0.12)'[b0]"
          % (still, WIDTH, HEIGHT)]
    for i, p in enumerate(plates):
        x, y = ffmpeg_xy(p["motion"])
        fg.append("[%d:v]%s[s%d]" % (i + 1, still, i))
        fg.append("[b%d][s%d]overlay=x='%s':y='%s':format=gbrp:eof_action=pass:"
                  "enable='between(round(t*%d),%d,%d)'[b%d]"
                  % (i, i, x, y, FPS, p["first_frame"], p["last_frame"], i + 1))
    common.encode(inputs, ";".join(fg), "b%d" % len(plates), FRAMES, FPS, mp4, h264)


def truth(plates):
    out = []
    for p in plates:
        q = {k: p[k] for k in ("text", "first_frame", "last_frame", "full_first_frame",
                               "full_last_frame", "font", "text_height", "angle_deg", "color")}
        q["boxes"] = {str(n): b for n, b in sorted(p["boxes"].items())}
        out.append(q)
    return {"generator": "scripts/make_sample.sh v%d" % VERSION, "seed": SEED,
            "video": OUTPUTS[0], "stream": OUTPUTS[1], "width": WIDTH, "height": HEIGHT,
            "fps": FPS, "frames": FRAMES,
            "box_format": "[x1, y1, x2, y2] pixels, end exclusive, clipped to the frame; "
                          "axis-aligned box of the rotated plate",
            "plates": out}


def main(argv):
    force = False
    outdir = None
    for a in argv:
        if a == "--force":
            force = True
        elif a in ("-h", "--help"):
            print("usage: scripts/make_sample.sh [OUTDIR] [--force]   (OUTDIR default samples/)")
            return 0
        elif a.startswith("-") or outdir is not None:
            common.say(PROG, "unknown argument %r (usage: make_sample.sh [OUTDIR] [--force])" % a)
            return 2
        else:
            outdir = a
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = outdir or os.path.join(os.path.dirname(os.path.dirname(here)), "samples")
    stamp = common.source_stamp("plates", VERSION, [os.path.abspath(__file__),
                                                    os.path.join(here, "common.py"),
                                                    os.path.join(here, "verify_plates.py")])
    if not force and common.up_to_date(outdir, STAMP, stamp, OUTPUTS):
        common.say(PROG, "%s is up to date (%s); --force regenerates" % (outdir, stamp))
        return 0
    try:
        common.need_tools()
        os.makedirs(outdir, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".plates-", dir=outdir) as tmp:
            plates = schedule(tmp)
            mp4, h264 = (os.path.join(tmp, o) for o in OUTPUTS[:2])
            render_video(tmp, plates, mp4, h264)
            w, h, n = common.probe_frames(mp4)
            if (w, h, n) != (WIDTH, HEIGHT, FRAMES):
                raise common.GenError("encoded %dx%d, %d frames; expected %dx%d, %d frames"
                                      % (w, h, n, WIDTH, HEIGHT, FRAMES))
            common.write_json(os.path.join(tmp, OUTPUTS[2]), truth(plates))
            problems = verify_plates.check(tmp)
            if problems:
                raise common.GenError("the video does not match its truth: %s (and %d more)"
                                      % (problems[0], len(problems) - 1))
            common.publish(tmp, outdir, OUTPUTS, STAMP, stamp)
    except (common.GenError, OSError) as e:
        common.say(PROG, "FAILED: %s" % e)
        return 1
    common.say(PROG, "wrote %s/{%s} (%d plates, %d frames)"
               % (outdir, ",".join(OUTPUTS), len(PLATES), FRAMES))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
