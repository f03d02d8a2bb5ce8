#!/usr/bin/python3
"""ocr_words.py - renders the images of the OCR word test (tests/integration/test_ocr_words.sh).

    /usr/bin/python3 scripts/sample_lib/ocr_words.py IMGDIR TRUTH.tsv

writes IMGDIR/img_000.png ... img_059.png (640x200, one line of dark text on a light background
each; nothing else goes into IMGDIR, so it can be a video source's image folder) and TRUTH.tsv
(one tab-separated line per image, in file-name order: name, text, font, point size, angle,
background grey level). The set is fixed: English words in mixed case, a few
two-word phrases, numbers and licence-plate-like strings with at most one space, in ten
DejaVu/Liberation fonts, point sizes 24..64, some rotated by up to +-5 degrees, backgrounds from
light grey to white, mild noise on some. Fonts, sizes, angles and shades follow fixed formulas of
the image index and ImageMagick's noise is seeded, so two runs give the same images.

Needs ImageMagick at /usr/bin/convert (/usr/local/bin/convert may be a stand-in) and the
fonts-dejavu-core and fonts-liberation2 packages. Python 3 standard library only.
"""

import os
import subprocess
import sys

CONVERT = "/usr/bin/convert"
WIDTH, HEIGHT = 640, 200

FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
)

# 60 strings: 28 words, 4 two-word phrases, 10 numbers, 18 plate-like strings (UK and
# numeric-first styles, with and without the space; plate letters avoid I, O and Q as real
# plates mostly do, since those are ambiguous with 1 and 0 in any font).
TEXTS = (
    "Parking", "EXIT", "station", "Welcome", "Entrance", "North", "Platform", "Ticket",
    "OPEN", "closed", "Library", "Museum", "Garden", "Hotel", "Bridge", "Market",
    "Street", "Airport", "POLICE", "Taxi", "Hospital", "Coffee", "Bakery", "Pharmacy",
    "Delivery", "Gate", "Central", "Harbour",
    "No Entry", "Car Park", "Bus Stop", "Keep Left",
    "2024", "315", "48190", "12:45", "3.50", "907", "66", "150", "8042", "73519",
    "KX52 RTU", "7BHN413", "AB12 CDE", "LD68 WNV", "GT19 HXP", "5KMR208", "BD51 SMR",
    "8ZYA726", "YR15 FVA", "WF64 JKL", "3CXD915", "MV07 PLE", "HN22 BYT", "6TRW184",
    "SK70 ZDA", "EF03 GHM", "4PLM762", "RJ18 UVX",
)


def spec(i, text):
    """Rendering parameters of image i: font, point size, angle, background, ink, noise."""
    font = FONTS[(i * 7) % len(FONTS)]
    size = 24 + (i * 17) % 41           # 24..64 pt (= px at ImageMagick's 72 dpi)
    angle = (0, 0, -3, 0, 5, 0, 2, 0, -5, 0, 0, 4)[i % 12]
    bg = 200 + (i * 13) % 56            # grey 200..255
    ink = (i * 11) % 60                 # grey 0..59
    noise = i % 3 == 1
    return font, size, angle, bg, ink, noise


def render(path, text, font, size, angle, bg, ink, noise, seed):
    cmd = [CONVERT, "-size", "%dx%d" % (WIDTH, HEIGHT), "xc:rgb(%d,%d,%d)" % (bg, bg, bg - 4),
           "-font", font, "-pointsize", str(size), "-fill", "rgb(%d,%d,%d)" % (ink, ink, ink + 10),
           "-gravity", "center", "-annotate", "%dx%d+0+0" % (angle, angle), text]
    if noise:
        cmd += ["-seed", str(seed), "-attenuate", "0.4", "+noise", "Gaussian"]
    cmd += ["-depth", "8", "-strip", "PNG24:" + path]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed for '%s' (font %s): %s" % (CONVERT, text, font,
                                                                p.stderr.strip()))


def main(argv):
    if len(argv) != 3:
        print("usage: ocr_words.py IMGDIR TRUTH.tsv", file=sys.stderr)
        return 2
    out, truth = argv[1], argv[2]
    if not os.access(CONVERT, os.X_OK):
        print("ocr_words.py: %s not found (Debian package imagemagick)" % CONVERT, file=sys.stderr)
        return 1
    missing = [f for f in FONTS if not os.path.isfile(f)]
    if missing:
        print("ocr_words.py: fonts missing: %s (fonts-dejavu-core, fonts-liberation2)"
              % ", ".join(missing), file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    rows = []
    for i, text in enumerate(TEXTS):
        font, size, angle, bg, ink, noise = spec(i, text)
        name = "img_%03d" % i
        render(os.path.join(out, name + ".png"), text, font, size, angle, bg, ink, noise, 1000 + i)
        rows.append("\t".join((name, text, os.path.basename(font), str(size), str(angle),
                               str(bg))))
    with open(truth, "w") as fh:
        fh.write("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
