#!/usr/bin/env bash
# test_dashboard.sh - the dashboard in a headless browser against a real `vidgraph serve`:
# starts the server on a free loopback port with a token and the server tests' config (the live
# streaming graph of tests/integration/server/stream.yaml), then runs tests/browser/
# dashboard.test.js (playwright-core driving Debian's chromium): token handling, the provider
# panel and fallback banner, a live stream with new frames and fps, adding and removing a stream
# from the page, a run's per-node timing bars, the SSE event log. The screenshot lands in <build>/artifacts/dashboard.png.
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
cd "$root" || exit 1
chromium="${VG_CHROMIUM:-/usr/bin/chromium}"
[[ -x "$chromium" ]] || { echo "SKIP: $chromium not installed (scripts/setup.sh installs it)"; exit 77; }
[[ -f node_modules/playwright-core/package.json ]] || { echo "SKIP: playwright-core not installed (scripts/setup.sh)"; exit 77; }
"$bin" serve --help >/dev/null 2>&1 || { echo "SKIP: this vidgraph has no serve command"; exit 77; }
cfg=tests/integration/server/serve.yaml
for f in "$cfg" samples/people.mp4 samples/plates.mp4; do
  [[ -f "$f" ]] || { echo "SKIP: $f missing"; exit 77; }
done

tmp=$(mktemp -d)
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
token="dash-$RANDOM$RANDOM"
"$bin" serve --listen 127.0.0.1:0 --token "$token" --config "$cfg" --output-root "$tmp/out" \
  --model-root "$root/models" --media-root "$root/samples" >"$tmp/stdout" 2>"$tmp/server.log" &
pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$tmp/stdout" | head -n 1)
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "FAIL: vidgraph serve did not start; its log:"; tail -n 30 "$tmp/server.log"
  echo "0 passed, 1 failed"; exit 1
fi
artifacts="$(dirname "$bin")/artifacts"
mkdir -p "$artifacts"
timeout 300 node tests/browser/dashboard.test.js --base "http://127.0.0.1:$port" --token "$token" \
  --live-url people.mp4 --add-url plates.mp4 --run-graph detect --run-input plates.mp4 \
  --out "$artifacts/dashboard.png"
rc=$?
if [[ $rc -ne 0 ]]; then echo "server log (last lines):"; tail -n 30 "$tmp/server.log"; fi
exit $rc
