#!/usr/bin/env bash
# test_sample_eval.sh - scripts/eval_plates.py on hand-written truth and events files whose
# scores are worked out by hand below: perfect, one wrong read, duplicates, false reports,
# spatial matching with boxes, whitespace/case normalisation, malformed inputs, thresholds.
set -u
export PYTHONDONTWRITEBYTECODE=1
cd "${VG_SOURCE_DIR:-$(dirname "$0")/../..}"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
EVAL="python3 scripts/eval_plates.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   - $1"; }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }
# expect_rc NAME WANT CMD...: runs CMD, checks its exit status.
expect_rc() {
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" = "$want" ]; then ok "$name (exit $rc)"; else
    bad "$name: exit $rc, want $want"; cat "$T/out" "$T/err"; fi
}
# jget FILE EXPR: evaluates a Python expression on the JSON object j read from FILE.
jget() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1 = $3"; else bad "$1: got '$2', want '$3'"; fi; }

# Four plates. A and B are visible at the same time (left and right), C later, D last.
cat >"$T/truth.json" <<'EOF'
{"width": 1280, "height": 720, "fps": 25, "frames": 300, "plates": [
 {"text": "AB12 CDE", "first_frame": 10, "last_frame": 60,
  "boxes": {"30": [100, 100, 400, 180], "31": [110, 100, 410, 180]}},
 {"text": "XY98ZWV", "first_frame": 20, "last_frame": 70,
  "boxes": {"30": [800, 400, 1100, 480], "31": [790, 400, 1090, 480]}},
 {"text": "K7 PLM", "first_frame": 100, "last_frame": 160},
 {"text": "55RTA", "first_frame": 200, "last_frame": 260}]}
EOF

# --- perfect: one track per plate, case and spacing differ only in normalisable ways
cat >"$T/perfect.jsonl" <<'EOF'
{"type": "frame", "frame": 0}
{"type": "track", "track_id": 1, "text": "ab12  cde", "confidence": 0.9, "first_frame": 12, "last_frame": 58, "stream_id": 0}

{"type": "track", "track_id": 2, "text": "XY98ZWV", "confidence": 0.8, "first_frame": 25, "last_frame": 65, "stream_id": 0}
{"type": "track", "track_id": 3, "text": " K7 PLM ", "confidence": 0.95, "first_frame": 100, "last_frame": 150, "stream_id": 0}
{"type": "object", "frame": 120}
{"type": "track", "track_id": 4, "text": "55RTA", "confidence": 0.99, "first_frame": 210, "last_frame": 250, "stream_id": 0}
EOF
expect_rc "perfect" 0 $EVAL --truth "$T/truth.json" --events "$T/perfect.jsonl" --min-rate 0.9 \
  --max-duplicates 0 --max-false 0
grep -q "exact reads: 4/4 = 100.0%" "$T/out" && ok "perfect: table says 4/4" || bad "perfect table: $(cat "$T/out")"
grep -q "other events ignored: frame=1, object=1" "$T/out" && ok "other types ignored" || bad "ignored: $(cat "$T/out")"
$EVAL --truth "$T/truth.json" --events "$T/perfect.jsonl" --json >"$T/p.json"
expect_eq "perfect exact" "$(jget "$T/p.json" 'j["exact"], j["total"], j["duplicates"], len(j["false_reports"]), j["missed"]')" "4 4 0 0 0"
expect_eq "perfect track ids per plate" "$(jget "$T/p.json" '[r["tracks"] for r in j["plates"]]')" "[[1], [2], [3], [4]]"

# --- one wrong read (B read as XY98ZWW), one spaces-only miss (C read as K7PLM): 2/4
cat >"$T/wrong.jsonl" <<'EOF'
{"type": "track", "track_id": 1, "text": "AB12 CDE", "confidence": 0.9, "first_frame": 12, "last_frame": 58, "stream_id": 0}
{"type": "track", "track_id": 2, "text": "XY98ZWW", "confidence": 0.8, "first_frame": 25, "last_frame": 65, "stream_id": 0}
{"type": "track", "track_id": 3, "text": "K7PLM", "confidence": 0.95, "first_frame": 100, "last_frame": 150, "stream_id": 0}
{"type": "track", "track_id": 4, "text": "55RTA", "confidence": 0.99, "first_frame": 210, "last_frame": 250, "stream_id": 0}
EOF
expect_rc "wrong reads, no limit" 0 $EVAL --truth "$T/truth.json" --events "$T/wrong.jsonl"
expect_rc "wrong reads, --min-rate 0.9" 1 $EVAL --truth "$T/truth.json" --events "$T/wrong.jsonl" --min-rate 0.9
grep -q "below --min-rate" "$T/err" && ok "min-rate failure is explained" || bad "min-rate message: $(cat "$T/err")"
expect_rc "wrong reads, --min-rate 0.5" 0 $EVAL --truth "$T/truth.json" --events "$T/wrong.jsonl" --min-rate 0.5
$EVAL --truth "$T/truth.json" --events "$T/wrong.jsonl" --json >"$T/w.json"
expect_eq "wrong: exact, wrong, false" "$(jget "$T/w.json" 'j["exact"], j["wrong"], len(j["false_reports"])')" "2 2 0"
expect_eq "wrong: results" "$(jget "$T/w.json" '[r["result"] for r in j["plates"]]')" \
  "['exact', 'wrong', 'wrong (spaces only)', 'exact']"
expect_eq "wrong: read" "$(jget "$T/w.json" 'j["plates"][1]["read"]')" "XY98ZWW"

# --- duplicates: A reported three times (two right, one wrong), D twice: 2 plates, 3 extra
cat >"$T/dup.jsonl" <<'EOF'
{"type": "track", "track_id": 1, "text": "AB12 CDE", "confidence": 0.9, "first_frame": 12, "last_frame": 30, "stream_id": 0}
{"type": "track", "track_id": 7, "text": "AB12 CDF", "confidence": 0.6, "first_frame": 31, "last_frame": 40, "stream_id": 0}
{"type": "track", "track_id": 9, "text": "AB12 CDE", "confidence": 0.9, "first_frame": 41, "last_frame": 58, "stream_id": 0}
{"type": "track", "track_id": 2, "text": "XY98ZWV", "confidence": 0.8, "first_frame": 25, "last_frame": 65, "stream_id": 0}
{"type": "track", "track_id": 3, "text": "K7 PLM", "confidence": 0.95, "first_frame": 100, "last_frame": 150, "stream_id": 0}
{"type": "track", "track_id": 4, "text": "55RTA", "confidence": 0.99, "first_frame": 210, "last_frame": 230, "stream_id": 0}
{"type": "track", "track_id": 4, "text": "55RTA", "confidence": 0.99, "first_frame": 231, "last_frame": 250, "stream_id": 0}
EOF
expect_rc "duplicates, no limit" 0 $EVAL --truth "$T/truth.json" --events "$T/dup.jsonl" --min-rate 0.9
expect_rc "duplicates, --max-duplicates 0" 1 $EVAL --truth "$T/truth.json" --events "$T/dup.jsonl" --max-duplicates 0
expect_rc "duplicates, --max-duplicates 2" 0 $EVAL --truth "$T/truth.json" --events "$T/dup.jsonl" --max-duplicates 2
$EVAL --truth "$T/truth.json" --events "$T/dup.jsonl" --json >"$T/d.json"
expect_eq "dup: duplicates, extra, exact" "$(jget "$T/d.json" 'j["duplicates"], j["extra_tracks"], j["exact"]')" "2 3 4"
expect_eq "dup: tracks of A" "$(jget "$T/d.json" 'j["plates"][0]["tracks"]')" "[1, 7, 9]"
expect_eq "dup: repeated track id" "$(jget "$T/d.json" 'j["repeated_track_ids"]')" "['0/4']"
grep -q "plates reported more than once: 2 (3 extra tracks)" <($EVAL --truth "$T/truth.json" --events "$T/dup.jsonl") \
  && ok "dup: table line" || bad "dup: table line missing"

# --- false reports: a text in frames with no plate, a text unlike any visible plate, and
#     plate A's text at frames where only C is visible. C and D missed: 2/4 exact.
cat >"$T/false.jsonl" <<'EOF'
{"type": "track", "track_id": 1, "text": "AB12 CDE", "confidence": 0.9, "first_frame": 12, "last_frame": 58, "stream_id": 0}
{"type": "track", "track_id": 2, "text": "XY98ZWV", "confidence": 0.8, "first_frame": 25, "last_frame": 65, "stream_id": 0}
{"type": "track", "track_id": 5, "text": "QQQQ", "confidence": 0.5, "first_frame": 80, "last_frame": 95, "stream_id": 0}
{"type": "track", "track_id": 6, "text": "HELLO", "confidence": 0.5, "first_frame": 110, "last_frame": 120, "stream_id": 0}
{"type": "track", "track_id": 8, "text": "AB12 CDE", "confidence": 0.5, "first_frame": 130, "last_frame": 140, "stream_id": 0}
{"type": "track", "track_id": 10, "text": null, "first_frame": 220, "last_frame": 230, "stream_id": 0}
EOF
expect_rc "false reports, --max-false 3" 1 $EVAL --truth "$T/truth.json" --events "$T/false.jsonl" --max-false 3
expect_rc "false reports, --max-false 4" 0 $EVAL --truth "$T/truth.json" --events "$T/false.jsonl" --max-false 4
$EVAL --truth "$T/truth.json" --events "$T/false.jsonl" --json >"$T/f.json"
expect_eq "false: ids" "$(jget "$T/f.json" '[f["track_id"] for f in j["false_reports"]]')" "[5, 6, 8, 10]"
expect_eq "false: exact, missed" "$(jget "$T/f.json" 'j["exact"], j["missed"]')" "2 2"
expect_eq "false: hint for A's text out of place" "$(jget "$T/f.json" 'j["false_reports"][2]["why"]')" \
  "text of plate AB12 CDE, but not in its frames or place"

# --- spatial: with boxes, A's text in B's place is not A; B's text in B's place is B.
cat >"$T/space.jsonl" <<'EOF'
{"type": "track", "track_id": 1, "text": "AB12 CDE", "first_frame": 25, "last_frame": 40, "boxes": {"30": [805, 400, 1100, 482]}}
{"type": "track", "track_id": 2, "text": "XY98ZWV", "first_frame": 25, "last_frame": 40, "box": [790, 398, 1090, 480], "box_frame": 31}
{"type": "track", "track_id": 3, "text": "AB12 CDE", "first_frame": 25, "last_frame": 40, "box": [105, 102, 405, 180]}
EOF
$EVAL --truth "$T/truth.json" --events "$T/space.jsonl" --json >"$T/s.json"
expect_eq "spatial: tracks per plate" "$(jget "$T/s.json" '[r["tracks"] for r in j["plates"]]')" "[[3], [2], [], []]"
expect_eq "spatial: false" "$(jget "$T/s.json" '[f["track_id"] for f in j["false_reports"]]')" "[1]"

# --- --stream filters tracks
cat >"$T/streams.jsonl" <<'EOF'
{"type": "track", "track_id": 1, "text": "AB12 CDE", "first_frame": 12, "last_frame": 58, "stream_id": "cam1"}
{"type": "track", "track_id": 1, "text": "AB12 CDE", "first_frame": 12, "last_frame": 58, "stream_id": "cam2"}
EOF
$EVAL --truth "$T/truth.json" --events "$T/streams.jsonl" --json --stream cam2 >"$T/st.json"
expect_eq "stream filter" "$(jget "$T/st.json" 'j["tracks_total"], j["duplicates"]')" "1 0"

# --- malformed inputs: exit 2, message names file and line
printf '%s\n' '{"type": "track", "track_id": 1, "text": "AB12 CDE", "first_frame": 12, "last_frame": 58}' \
  '{"type": "frame"}' '{"type": "track", "track_id": 2, "text": "X"' >"$T/bad1.jsonl"
expect_rc "malformed JSON line" 2 $EVAL --truth "$T/truth.json" --events "$T/bad1.jsonl"
grep -q "bad1.jsonl:3: not valid JSON" "$T/err" && ok "message names bad1.jsonl:3" || bad "message: $(cat "$T/err")"
printf '%s\n' '{"type": "track", "track_id": 1, "text": "A", "first_frame": 50, "last_frame": 40}' >"$T/bad2.jsonl"
expect_rc "first_frame > last_frame" 2 $EVAL --truth "$T/truth.json" --events "$T/bad2.jsonl"
grep -q "bad2.jsonl:1: first_frame 50 > last_frame 40" "$T/err" && ok "message names bad2.jsonl:1" || bad "message: $(cat "$T/err")"
printf '%s\n' '{"type": "track", "track_id": 1, "text": 42, "first_frame": 1, "last_frame": 4}' >"$T/bad3.jsonl"
expect_rc "text not a string" 2 $EVAL --truth "$T/truth.json" --events "$T/bad3.jsonl"
printf '%s\n' '[1, 2]' >"$T/bad4.jsonl"
expect_rc "line not an object" 2 $EVAL --truth "$T/truth.json" --events "$T/bad4.jsonl"
printf '%s\n' '{"track_id": 1}' >"$T/bad5.jsonl"
expect_rc "no type" 2 $EVAL --truth "$T/truth.json" --events "$T/bad5.jsonl"
printf '%s\n' '{"type": "track", "track_id": 1, "text": "A", "first_frame": 1, "last_frame": 4, "box": [1, 2, 3]}' >"$T/bad6.jsonl"
expect_rc "box of 3 numbers" 2 $EVAL --truth "$T/truth.json" --events "$T/bad6.jsonl"
grep -q "bad6.jsonl:1: box: expected a box" "$T/err" && ok "message names bad6.jsonl:1 box" || bad "message: $(cat "$T/err")"
expect_rc "missing events file" 2 $EVAL --truth "$T/truth.json" --events "$T/nope.jsonl"
grep -q "nope.jsonl: cannot read" "$T/err" && ok "message names nope.jsonl" || bad "message: $(cat "$T/err")"
printf '{"plates": [{"text": "A", "first_frame": 1}]}\n' >"$T/badtruth.json"
expect_rc "truth without last_frame" 2 $EVAL --truth "$T/badtruth.json" --events "$T/perfect.jsonl"
grep -q "badtruth.json: plates\[0\]: 'last_frame'" "$T/err" && ok "message names plates[0]" || bad "message: $(cat "$T/err")"
printf '{"plates": [\n{"text": "A",, }]}\n' >"$T/badtruth2.json"
expect_rc "truth not JSON" 2 $EVAL --truth "$T/badtruth2.json" --events "$T/perfect.jsonl"
grep -q "badtruth2.json:2:" "$T/err" && ok "message names badtruth2.json:2" || bad "message: $(cat "$T/err")"
expect_rc "--min-rate out of range" 2 $EVAL --truth "$T/truth.json" --events "$T/perfect.jsonl" --min-rate 90

# --- empty events file: everything missed, rate 0, exit 0 without limits
: >"$T/empty.jsonl"
expect_rc "empty events" 0 $EVAL --truth "$T/truth.json" --events "$T/empty.jsonl"
grep -q "exact reads: 0/4 = 0.0%" "$T/out" && ok "empty: 0/4" || bad "empty: $(cat "$T/out")"

echo "test_sample_eval: $fails failure(s)"
[ "$fails" = 0 ]
