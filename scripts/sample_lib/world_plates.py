"""Generator of a plate test set unlike the demo's: plate formats of many countries.

Run through scripts/make_world_sample.sh [OUTDIR] [--force]. Writes into OUTDIR (default
samples/):
  world_plates.mp4             1920x1080, 25 fps, 80 frames, H.264 (yuv420p, no B-frames)
  world_plates_truth.json      same format as plates_truth.json (scripts/eval_plates.py reads it)
  world_plates_img/            the still set: 640x480 / 854x480 JPEG and PNG pictures, one to
                               three plates each, two with none (an image folder source)
  world_plates_img_truth.json  {"images": [{"file", "texts": [...]}]}
  .world_plates.stamp          generator version stamp; a run with a matching stamp does nothing

What differs from the demo (scripts/sample_lib/plates.py): 24 plates of 17 countries' formats
(groups of letters/digits separated by spaces or hyphens, 4 to 10 letters and digits), other
fonts (condensed, regular weights, serif), text 22..64 px high on a 1080p frame, up to six plates
in one frame in a 3 x 2 grid (four groups of six, each visible 12 frames), frames with no plate
at all (the first 8, the 4-frame gaps between groups and the last 8), plates on white, yellow, grey and blue-ish light backgrounds. The letters I, O
and Q are not used (as in the demo: they read as 1 and 0 on many plates).
"""

import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PROG = "make_world_sample"
VERSION = 1
SEED = 23
WIDTH, HEIGHT, FPS, FRAMES = 1920, 1080, 25, 80
OUTPUTS = ("world_plates.mp4", "world_plates.h264", "world_plates_truth.json",
           "world_plates_img_truth.json", "world_plates_img")
STAMP = ".world_plates.stamp"
WHITE, YELLOW, GREY, BLUEISH = "#f1f1ec", "#f6cd1e", "#dcdcd6", "#e4ecf6"
# Grid cell centres: up to six plates at once. Odd groups use other rows, so that a plate never
# appears where the previous group's plate has just been (cars do not swap places in 4 frames).
COLS, ROWS = (330, 960, 1590), ((280, 700), (470, 900))
GROUP_FIRST, GROUP_LEN, GROUP_GAP = 8, 12, 4  # frames: first group, visible, gap between

# (text, country, font, text height px at 1080p, plate colour, angle degrees)
PLATES = (
    ("AB12 CDE", "UK", "DejaVuSansCondensed-Bold.ttf", 40, YELLOW, -2),
    ("12-XKB-3", "Netherlands", "LiberationSans-Bold.ttf", 36, YELLOW, 1),
    ("MH 12 AB 1234", "India", "LiberationSerif-Bold.ttf", 34, WHITE, 2),
    ("B-MW 1234", "Germany", "DejaVuSansCondensed-Bold.ttf", 44, WHITE, 0),
    ("AB-123-CD", "France", "LiberationSans-Regular.ttf", 38, WHITE, -1),
    ("FR 482 TX", "Italy", "DejaVuSans.ttf", 30, WHITE, 3),
    ("4721 BKZ", "Spain", "LiberationMono-Bold.ttf", 42, WHITE, -3),
    ("WA 72351", "Poland", "DejaVuSans-Bold.ttf", 26, WHITE, 0),
    ("RTA3B47", "Brazil", "LiberationSans-Bold.ttf", 48, WHITE, 2),
    ("58-24", "Japan", "DejaVuSansCondensed-Bold.ttf", 56, GREY, 0),
    ("1DHX 458", "Australia", "LiberationSerif-Bold.ttf", 36, WHITE, -2),
    ("ZH 384527", "Switzerland", "DejaVuSans-Bold.ttf", 32, WHITE, 1),
    ("8KPM 274", "USA", "LiberationSans-Bold.ttf", 46, BLUEISH, -1),
    ("HTW-5832", "USA", "DejaVuSerif-Bold.ttf", 34, YELLOW, 3),
    ("DL 3C AY 9324", "India", "DejaVuSansCondensed-Bold.ttf", 28, WHITE, -1),
    ("GB-752-K", "Netherlands", "LiberationSans-Bold.ttf", 40, YELLOW, 0),
    ("1-KLM-274", "Belgium", "DejaVuSans.ttf", 38, WHITE, 2),
    ("4A7 2918", "Czechia", "LiberationSans-Bold.ttf", 24, WHITE, 0),
    ("KR 7K345", "Poland", "LiberationMono-Bold.ttf", 36, WHITE, -2),
    ("M-AB 738", "Germany", "DejaVuSansCondensed-Bold.ttf", 52, WHITE, 1),
    ("LV70 WPN", "UK", "LiberationSans-Bold.ttf", 64, WHITE, 0),
    ("ABC 528", "Sweden", "DejaVuSans-Bold.ttf", 22, WHITE, -3),
    ("CRVX 815", "Canada", "LiberationSerif-Bold.ttf", 40, BLUEISH, 1),
    ("XT 481 RM", "Italy", "DejaVuSansMono-Bold.ttf", 30, WHITE, -1),
)

# Stills: (file, size, [plate indices], jpeg quality or None for PNG)
STILLS = (
    ("a_uk_nl.jpg", (854, 480), (0, 1), 90),
    ("b_india.png", (640, 480), (2,), None),
    ("c_empty.jpg", (640, 480), (), 85),
    ("d_de_fr_it.png", (854, 480), (3, 4, 5), None),
    ("e_brazil.jpg", (640, 480), (8,), 80),
    ("f_swiss_us.png", (854, 480), (11, 12), None),
    ("g_empty.png", (854, 480), (), None),
    ("h_belgium.jpg", (640, 480), (16,), 92),
)


def cap_ratio(font):
    _, h = common.text_ink(font, 200, "H")
    return h / 200.0


def render_plate(tmp, idx, text, font, text_h, color, angle, scale=1.0):
    """One plate sprite (RGBA PNG, rotated). Returns (path, plate box in the sprite)."""
    text_h = max(10, round(text_h * scale))
    ps = max(8, round(text_h / cap_ratio(font)))
    gap = round(0.4 * ps)
    ink_w, ink_h = common.text_ink(font, ps, text, gap)
    padx, pady = round(0.36 * text_h) + 6, round(0.30 * text_h) + 5
    pw, ph = ink_w + 2 * padx, ink_h + 2 * pady
    rad = round(0.12 * ph)
    path = os.path.join(tmp, "plate%02d_%d.png" % (idx, round(100 * scale)))
    common.run([common.CONVERT, "-size", "%dx%d" % (pw, ph), "xc:none",
                "-fill", color, "-stroke", "#1a1a1a", "-strokewidth", "2",
                "-draw", "roundrectangle 1,1 %d,%d %d,%d" % (pw - 2, ph - 2, rad, rad),
                "(", "-background", "none", "-fill", "#151515", "-font", font,
                "-pointsize", str(ps), "-interword-spacing", str(gap), "label:" + text,
                "-trim", "+repage", ")", "-gravity", "center", "-composite",
                "-background", "none", "-rotate", str(angle), "+repage",
                "-depth", "8", "-strip", "PNG32:" + path])
    box, size = common.alpha_bbox(path)
    return path, box, size


def schedule(tmp):
    """Plates in groups of six (one per grid cell), each group visible GROUP_LEN frames,
    drifting 3 px/frame sideways; returns the plate list with per-frame boxes."""
    plates = []
    for i, (text, country, fname, th, color, angle) in enumerate(PLATES):
        font = common.font_path(fname)
        path, box, _ = render_plate(tmp, i, text, font, th, color, angle)
        g, cell = divmod(i, 6)
        f0 = GROUP_FIRST + g * (GROUP_LEN + GROUP_GAP)
        cx, cy = COLS[cell % 3], ROWS[g % 2][cell // 3]
        d = 1 if (i % 2) == 0 else -1
        x0 = cx - (box[0] + box[2]) // 2 - d * 3 * GROUP_LEN // 2
        y0 = cy - (box[1] + box[3]) // 2
        boxes = {}
        for n in range(f0, f0 + GROUP_LEN):
            x = x0 + d * 3 * (n - f0)
            b = [x + box[0], y0 + box[1], x + box[2], y0 + box[3]]
            if not common.inside(b, WIDTH, HEIGHT):
                raise common.GenError("plate %r leaves the frame at %d" % (text, n))
            boxes[n] = b
        plates.append({"text": text, "country": country, "font": fname[:-4],
                       "text_height": th, "angle_deg": angle, "first_frame": f0,
                       "last_frame": f0 + GROUP_LEN - 1, "sprite": path, "x0": x0, "y0": y0,
                       "dir": d, "boxes": boxes})
    for n in range(FRAMES):
        on = [p for p in plates if n in p["boxes"]]
        for a in range(len(on)):
            for b in range(a + 1, len(on)):
                if common.boxes_intersect(on[a]["boxes"][n], on[b]["boxes"][n]):
                    raise common.GenError("plates %r and %r overlap at frame %d"
                                          % (on[a]["text"], on[b]["text"], n))
    if max(p["last_frame"] for p in plates) + 8 >= FRAMES:
        raise common.GenError("the last group ends too late for %d frames" % FRAMES)
    return plates


def render_video(tmp, plates, mp4, h264):
    bg = os.path.join(tmp, "bg.png")
    common.background(bg, WIDTH + 48, HEIGHT + 32, SEED, ("#9aa4ae", "#303030"),
                      (700, "#00000050"),
                      [(80, 120, 420, 700), (520, 60, 860, 700), (1240, 160, 1560, 700),
                       (1640, 90, 1960, 700)])
    inputs = ["-i", bg] + [a for p in plates for a in ("-i", p["sprite"])]
    still = "loop=loop=-1:size=1:start=0,settb=1/%d,setpts=N" % FPS
    fg = ["[0:v]%s,format=gbrp,crop=%d:%d:x='trunc(n*0.3)':y='trunc(24-n*0.15)'[b0]"
          % (still, WIDTH, HEIGHT)]
    for i, p in enumerate(plates):
        k = "(round(t*%d)-%d)" % (FPS, p["first_frame"])
        fg.append("[%d:v]%s[s%d]" % (i + 1, still, i))
        fg.append("[b%d][s%d]overlay=x='%d+(%d)*3*%s':y=%d:format=gbrp:eof_action=pass:"
                  "enable='between(round(t*%d),%d,%d)'[b%d]"
                  % (i, i, p["x0"], p["dir"], k, p["y0"], FPS, p["first_frame"],
                     p["last_frame"], i + 1))
    common.encode(inputs, ";".join(fg), "b%d" % len(plates), FRAMES, FPS, mp4, h264)


def render_stills(tmp, imgdir):
    """The still set: plates at 0.5x their video size (480-line pictures) on a plain scene."""
    os.makedirs(imgdir)
    out = []
    for k, (name, (w, h), idxs, quality) in enumerate(STILLS):
        bg = os.path.join(tmp, "still_bg%d.png" % k)
        common.background(bg, w, h, SEED + k, ("#9aa4ae", "#303030"), (int(h * 0.7), "#00000050"),
                          [(20, 40, w // 3, int(h * 0.7))])
        cmd = [common.CONVERT, bg]
        texts = []
        for j, i in enumerate(idxs):
            text, _, fname, th, color, angle = PLATES[i]
            path, box, _ = render_plate(tmp, i, text, common.font_path(fname), th, color, angle,
                                        scale=0.75)
            cx = w * (2 * j + 1) // (2 * len(idxs)) if len(idxs) < 3 else w * (j + 1) // 4
            cy = h // 3 if j % 2 == 0 else 2 * h // 3
            x, y = cx - (box[0] + box[2]) // 2, cy - (box[1] + box[3]) // 2
            cmd += [path, "-geometry", "+%d+%d" % (x, y), "-composite"]
            texts.append(text)
        dst = os.path.join(imgdir, name)
        if quality:
            cmd += ["-quality", str(quality)]
        cmd += ["-depth", "8", "-strip", dst]
        common.run(cmd)
        out.append({"file": name, "width": w, "height": h, "texts": texts})
    return {"generator": "scripts/make_world_sample.sh v%d" % VERSION, "images": out}


def truth(plates):
    out = []
    for p in plates:
        q = {k: p[k] for k in ("text", "country", "first_frame", "last_frame", "font",
                               "text_height", "angle_deg")}
        q["full_first_frame"], q["full_last_frame"] = p["first_frame"], p["last_frame"]
        q["boxes"] = {str(n): b for n, b in sorted(p["boxes"].items())}
        out.append(q)
    return {"generator": "scripts/make_world_sample.sh v%d" % VERSION, "seed": SEED,
            "video": OUTPUTS[0], "stream": OUTPUTS[1], "width": WIDTH, "height": HEIGHT,
            "fps": FPS, "frames": FRAMES, "countries": sorted({p["country"] for p in plates}),
            "box_format": "[x1, y1, x2, y2] pixels, end exclusive; axis-aligned box of the "
                          "rotated plate",
            "plates": out}


def publish_all(tmp, outdir, stamp):
    import shutil
    try:
        os.remove(os.path.join(outdir, STAMP))
    except OSError:
        pass
    for o in OUTPUTS:
        dst = os.path.join(outdir, o)
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        os.replace(os.path.join(tmp, o), dst)
    with open(os.path.join(outdir, STAMP), "w") as fh:
        fh.write(stamp + "\n")


def up_to_date(outdir, stamp):
    try:
        with open(os.path.join(outdir, STAMP)) as fh:
            if fh.read().strip() != stamp:
                return False
    except OSError:
        return False
    return all(os.path.exists(os.path.join(outdir, o)) for o in OUTPUTS)


def main(argv):
    force, outdir = False, None
    for a in argv:
        if a == "--force":
            force = True
        elif a in ("-h", "--help"):
            print("usage: scripts/make_world_sample.sh [OUTDIR] [--force]   (default samples/)")
            return 0
        elif a.startswith("-") or outdir is not None:
            common.say(PROG, "unknown argument %r (usage: make_world_sample.sh [OUTDIR] "
                             "[--force])" % a)
            return 2
        else:
            outdir = a
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = outdir or os.path.join(os.path.dirname(os.path.dirname(here)), "samples")
    stamp = common.source_stamp("world_plates", VERSION,
                                [os.path.abspath(__file__), os.path.join(here, "common.py")])
    if not force and up_to_date(outdir, stamp):
        common.say(PROG, "%s is up to date (%s); --force regenerates" % (outdir, stamp))
        return 0
    try:
        common.need_tools()
        os.makedirs(outdir, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".world-", dir=outdir) as tmp:
            plates = schedule(tmp)
            mp4, h264 = (os.path.join(tmp, o) for o in OUTPUTS[:2])
            render_video(tmp, plates, mp4, h264)
            w, h, n = common.probe_frames(mp4)
            if (w, h, n) != (WIDTH, HEIGHT, FRAMES):
                raise common.GenError("encoded %dx%d, %d frames; expected %dx%d, %d frames"
                                      % (w, h, n, WIDTH, HEIGHT, FRAMES))
            common.write_json(os.path.join(tmp, OUTPUTS[2]), truth(plates))
            with open(os.path.join(tmp, OUTPUTS[3]), "w") as fh:
                json.dump(render_stills(tmp, os.path.join(tmp, OUTPUTS[4])), fh, indent=1)
            publish_all(tmp, outdir, stamp)
    except (common.GenError, OSError) as e:
        common.say(PROG, "FAILED: %s" % e)
        return 1
    common.say(PROG, "wrote %s: %d plates of %d countries, %d frames, %d stills"
               % (outdir, len(PLATES), len({p[1] for p in PLATES}), FRAMES, len(STILLS)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
