#!/usr/bin/env bash
# test_cli_reliability.sh - the CLI under hostile conditions (issue 15): SIGTERM / SIGHUP /
# SIGINT stop `vidgraph run` gracefully (summary.json written with "interrupted": true and a state
# that is not "succeeded", exit 128+signal, the MP4 playable); a FIFO without a writer honours
# the open timeout; non-UTF-8 file names in probe --json and --input; --set escaping, precedence
# and limits; `check` validates a graph as `run` does; summary.json stays valid JSON when an
# error message is cut inside a UTF-8 character; thread counts are bounded by the machine.
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
[[ -x "$bin" ]] || { echo "SKIP: $bin not built"; exit 77; }
command -v ffprobe >/dev/null || { echo "SKIP: ffprobe not installed"; exit 77; }
"$bin" version 2>/dev/null | grep -qi "ffmpeg" || true
fx="${VG_VIDEO_FIXTURES:-/tmp/vidgraph-video-fixtures}"
bash "$root/scripts/make_video_fixtures.sh" "$fx" >/dev/null || { echo "FAIL: fixtures"; exit 1; }
tmp=$(mktemp -d /tmp/vidgraph-cli-reliability-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>&1; }

# a model-free graph: the source loops in real time (a run that lasts until it is stopped)
cat >"$tmp/loop.yaml" <<YAML
nodes:
  - id: src
    type: source
    params: {url: $fx/h264_320x240.mp4, loop: true, realtime: true, decoder: cpu}
  - id: out
    type: video_sink
    params: {path: annotated.mp4}
edges:
  - src -> out
YAML

# ---- signals: graceful stop, summary, exit code, playable MP4
for sig in TERM HUP INT; do
  o="$tmp/sig_$sig"
  (trap - EXIT; exec "$bin" run "$tmp/loop.yaml" --output "$o" --quiet >"$o.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 200); do # until frames flow (bounded wait, not a timing assertion)
    [[ -s "$o/annotated.mp4" ]] && break
    sleep 0.1
  done
  sleep 1
  kill -s "$sig" "$pid"
  wait "$pid"
  rc=$?
  want=$((128 + $(kill -l "$sig")))
  state=$(jget "$o/summary.json" 'd["state"], d["interrupted"], d["frames_done"] > 0')
  frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$o/annotated.mp4" 2>/dev/null | tr -d ',\n')
  if [[ $rc == "$want" && "$state" == "stopped True True" && "${frames:-0}" -gt 0 ]]; then
    ok "SIG$sig: exit $rc, summary '$state', MP4 with $frames frames"
  else
    bad "SIG$sig: exit $rc (want $want), summary '$state', MP4 frames '${frames:-}'"; cat "$o.log"
  fi
done

# a signal right after the start (maybe before the graph starts): never "succeeded", exit 143
o="$tmp/sig_early"
# (a child killed before its exec must not run this shell's EXIT trap, which removes $tmp)
(trap - EXIT; exec "$bin" run "$tmp/loop.yaml" --output "$o" --quiet >/dev/null 2>&1) &
pid=$!
for _ in $(seq 1 500); do # signal as soon as the child is vidgraph (not the forked shell)
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */vidgraph ]] && break
  sleep 0.01
done
kill -s TERM "$pid"
wait "$pid"
rc=$?
state=$(jget "$o/summary.json" 'd["state"], d["interrupted"]' 2>/dev/null)
if [[ $rc == 143 && ("$state" == "stopped True" || "$state" == "canceled True") ]]; then
  ok "early SIGTERM: exit $rc, '$state'"
elif [[ $rc == 143 && ! -e "$o/summary.json" ]]; then
  ok "early SIGTERM: killed before the handler was installed (exit 143, no summary)"
else
  bad "early SIGTERM: exit $rc, '$state'"
fi

# ---- a FIFO with no writer: the open timeout applies
mkfifo "$tmp/fifo.ts"
start=$(date +%s)
err=$(timeout 60 "$bin" probe "$tmp/fifo.ts" --timeout 1500 2>&1 >/dev/null)
rc=$?
if [[ $rc == 1 && "$err" == *"FIFO with no writer within 1500 ms"* ]]; then
  ok "FIFO without writer: exit 1 after $(($(date +%s) - start)) s: $err"
else
  bad "FIFO without writer: rc $rc (124 = hung), '$err'"
fi
# ... and with a writer it is read like a stream
want=$(ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames \
  -of csv=p=0 "$fx/mpeg2_641x481.ts" | head -1 | tr -d ',\n')
(trap - EXIT; exec cat "$fx/mpeg2_641x481.ts" >"$tmp/fifo.ts") &
got=$(timeout 60 "$bin" probe "$tmp/fifo.ts" --count --json --timeout 5000 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["frames"])' 2>&1)
wait
if [[ "$got" == "$want" ]]; then ok "FIFO with a writer: $got frames"; else bad "FIFO with a writer: '$got', want $want"; fi

# ---- non-UTF-8 file names
bad_name=$(printf '%s/caf\xe9.mp4' "$tmp")
cp "$fx/h264_320x240.mp4" "$bad_name"
out=$("$bin" probe "$bad_name" --json 2>&1)
rc=$?
url=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["url"].endswith("caf\ufffd.mp4"))' <<<"$out" 2>&1)
if [[ $rc == 0 && "$url" == True ]]; then ok "probe --json of a Latin-1 name: valid JSON, name repaired"; else bad "probe --json: rc $rc, $url"; fi
err=$("$bin" run "$tmp/loop.yaml" --input "$bad_name" --output "$tmp/u8" 2>&1)
rc=$?
if [[ $rc == 1 && "$err" == *"--input"*"is not valid UTF-8"* && "$err" != *YAML* ]]; then
  ok "run --input with a Latin-1 name: $err"
else
  bad "run --input with a Latin-1 name: rc $rc, '$err'"
fi

# ---- summary.json stays whole when the error message is cut inside a UTF-8 character
long=$(python3 -c 'print("\u00e9" * 700)')
"$bin" run "$tmp/loop.yaml" --input "$tmp/$long.mp4" --output "$tmp/cut" >/dev/null 2>&1
rc=$?
st=$(jget "$tmp/cut/summary.json" 'd["state"], len(d["error"]) > 100')
if [[ $rc == 1 && "$st" == "failed True" ]]; then ok "cut message: summary.json valid ($st)"; else bad "cut message: rc $rc, '$st'"; fi

# ---- --set: escaping of sink paths, the user's --set wins, the limit is named
cat >"$tmp/short.yaml" <<YAML
nodes:
  - id: src
    type: source
    params: {url: $fx/h264_320x240.mp4, max_frames: 5, decoder: cpu}
  - id: out
    type: video_sink
    params: {path: annotated.mp4}
edges:
  - src -> out
YAML
weird="$tmp/we\"ird\\dir"
"$bin" run "$tmp/short.yaml" --output "$weird" --quiet >/dev/null 2>&1
rc=$?
if [[ $rc == 0 && -s "$weird/annotated.mp4" ]]; then ok "output folder with \" and \\"; else bad "output folder with quote/backslash: rc $rc"; fi
"$bin" run "$tmp/short.yaml" --output "$tmp/setwins" --set "nodes.out.params.path=$tmp/mine.mp4" \
  --quiet >/dev/null 2>&1
if [[ -s "$tmp/mine.mp4" && ! -e "$tmp/setwins/annotated.mp4" ]]; then ok "--set of a sink path wins"; else bad "--set of a sink path was overridden"; fi
args=()
for i in $(seq 1 65); do args+=(--set "settings.queue_size=$((i % 8 + 1))"); done
err=$("$bin" run "$tmp/short.yaml" --output "$tmp/many" "${args[@]}" 2>&1)
rc=$?
if [[ $rc == 2 && "$err" == *"too many --set options (at most 64)"* ]]; then ok "65 --set: $err"; else bad "65 --set: rc $rc, '$err'"; fi

# ---- check validates the graph as run does (and leaves the user's outputs alone)
cat >"$tmp/bad_graph.yaml" <<YAML
nodes:
  - id: src
    type: source
    params: {url: $tmp/no_such_video.mp4}
  - id: out
    type: video_sink
    params: {path: $tmp/must_not_exist.mp4}
edges:
  - src -> out
YAML
"$bin" run "$tmp/bad_graph.yaml" --output "$tmp/badrun" >/dev/null 2>&1
run_rc=$?
out=$("$bin" check "$tmp/bad_graph.yaml" 2>&1)
rc=$?
if [[ $run_rc == 1 && $rc == 1 && "$out" == *"graph:        ERROR:"*"no_such_video"* ]]; then ok "check rejects what run rejects"; else bad "check: rc $rc (run $run_rc): $out"; fi
out=$("$bin" check "$tmp/bad_graph.yaml" --input "$fx/h264_320x240.mp4" --json 2>&1)
rc=$?
g=$(python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["graph"]["ok"])' <<<"$out" 2>&1)
if [[ $rc == 0 && "$g" == True && ! -e "$tmp/must_not_exist.mp4" ]]; then ok "check --input: graph ok, no output written"; else bad "check --input: rc $rc, '$g'"; fi

# ---- thread counts are bounded by the machine
cpus=$(nproc)
err=$("$bin" bench "$root/models/test/tiny_mlp.onnx" --threads 1024 --warmup 1 --iterations 2 2>&1 >/dev/null)
rc=$?
if [[ $rc == 0 && "$err" == *"threads = 1024 is more than the $cpus CPUs of this machine; using $cpus"* ]]; then
  ok "bench --threads 1024: clamped to $cpus with a warning"
else
  bad "bench --threads 1024: rc $rc, '$err'"
fi

echo "passed $pass, failed $fail"
[[ $fail == 0 ]]
