#!/usr/bin/env python3
"""check_outputs.py DIR RC - checks a `vidgraph run` output folder after a fault (a signal, a full
disk) against the contract of issue 15: summary.json whole and valid JSON and consistent with the
exit status RC (0 = succeeded, 143 = interrupted and stopped/canceled, 1 = failed), or absent only
when RC is 143 (the signal came before the handler; nothing written then) or when ALLOW_NO_SUMMARY
is set in the environment (a full disk); never a half file: annotated.mp4 absent or readable by
ffprobe, every line of each .jsonl file a JSON object, every snapshot a complete JPEG, no temporary files.
Prints one line (what it found | what is wrong); exit 1 when something is wrong. Used by
test_fault_sigterm.sh and test_fault_enospc.sh."""
import glob, json, os, subprocess, sys

out, rc = sys.argv[1], int(sys.argv[2])
errs, found = [], []
p = os.path.join(out, "summary.json")
if os.path.exists(p):
    try:
        s = json.load(open(p))
    except Exception as e:
        s = None
        errs.append("summary.json is not valid JSON: %s" % e)
    if s is not None:
        found.append("summary %s%s" % (s.get("state"), " interrupted" if s.get("interrupted") else ""))
        if rc == 0 and (s.get("state") != "succeeded" or s.get("interrupted")):
            errs.append("exit 0 but state %r interrupted %r" % (s.get("state"), s.get("interrupted")))
        if rc == 143 and not (s.get("interrupted") and s.get("state") in ("stopped", "canceled")):
            errs.append("exit 143 but state %r interrupted %r" % (s.get("state"), s.get("interrupted")))
        if rc == 1 and s.get("state") != "failed":
            errs.append("exit 1 but state %r" % s.get("state"))
elif os.environ.get("ALLOW_NO_SUMMARY"):
    found.append("no summary")
elif rc != 143:
    errs.append("no summary.json with exit %d" % rc)
else:
    found.append("no summary (signal before the handler)")
    left = [f for f in glob.glob(out + "/**", recursive=True) if os.path.isfile(f)]
    if left:
        errs.append("no summary, but files were written: %s" % left[:4])
mp4 = os.path.join(out, "annotated.mp4")
if os.path.exists(mp4):
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                        "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", mp4],
                       capture_output=True, text=True)
    n = r.stdout.strip().strip(",")
    if r.returncode != 0 or not n.isdigit() or int(n) == 0:
        errs.append("annotated.mp4 (%d bytes) not playable: %s" % (os.path.getsize(mp4), r.stderr.strip()[:200]))
    else:
        found.append("mp4 %s frames" % n)
for ev in sorted(glob.glob(os.path.join(out, "*.jsonl"))):
    name = os.path.basename(ev)
    data = open(ev, "rb").read()
    if data and not data.endswith(b"\n"):
        errs.append("%s ends inside a line" % name)
    for i, line in enumerate(data.splitlines()):
        try:
            if not isinstance(json.loads(line), dict):
                raise ValueError("not an object")
        except Exception as e:
            errs.append("%s line %d: %s" % (name, i + 1, e))
            break
    found.append("%s %d lines" % (name, len(data.splitlines())))
jpgs = glob.glob(os.path.join(out, "snapshots", "*"))
for j in jpgs:
    b = open(j, "rb").read()
    if not (j.endswith(".jpg") and b[:2] == b"\xff\xd8" and b[-2:] == b"\xff\xd9"):
        errs.append("%s is not a complete JPEG (%d bytes)" % (os.path.basename(j), len(b)))
if jpgs:
    found.append("%d jpegs" % len(jpgs))
tmpf = [f for f in glob.glob(out + "/**", recursive=True) if ".tmp" in os.path.basename(f)]
if tmpf:
    errs.append("temporary files left: %s" % tmpf[:4])
print(", ".join(found) + ("" if not errs else " | " + "; ".join(errs)))
sys.exit(1 if errs else 0)
