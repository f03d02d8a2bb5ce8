#!/usr/bin/env bash
# test_shm_client.sh - the shared-memory round trip of examples/shm_client.c against a real
# `vidgraph serve` on the loopback (token on): region registered, frames written, bad references
# refused with a 400 naming the field, a run of the `detect` graph on shm inputs followed to its
# end, its output references mapped and released, the region released. Then checks that none
# of the server's output regions is left in /dev/shm.
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
client="$(dirname "$bin")/shm_client"
cd "$root" || exit 1
[[ -x "$client" ]] || { echo "SKIP: $client not built"; exit 77; }
"$bin" serve --help >/dev/null 2>&1 || { echo "SKIP: this vidgraph has no serve command"; exit 77; }
cfg=tests/integration/server/serve.yaml
[[ -f "$cfg" ]] || { echo "SKIP: $cfg missing"; exit 77; }

tmp=$(mktemp -d)
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
token="shm-$RANDOM$RANDOM"
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
  echo "FAIL: vidgraph serve did not start"; tail -n 30 "$tmp/server.log"
  echo "0 passed, 1 failed"; exit 1
fi
pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1"; fail=$((fail + 1)); }

"$client" --url "http://127.0.0.1:$port" --token "$token" --frames 1 >"$tmp/probe.log" 2>&1
if grep -q 'HTTP 501' "$tmp/probe.log"; then
  echo "SKIP: this server build answers 501 to the shm routes"; exit 77
fi
if "$client" --url "http://127.0.0.1:$port" --token "$token" --graph detect --frames 3 \
  --width 320 --height 240 --timeout-s 120 >"$tmp/client.log" 2>&1; then
  ok "shm_client round trip"
else
  ko "shm_client round trip"; cat "$tmp/client.log"; tail -n 20 "$tmp/server.log"
fi
grep -q '^shm round trip: ok' "$tmp/client.log" && ok "client reports ok" || ko "client reports ok"
# without the token the server refuses to register a region
VG_TOKEN= "$client" --url "http://127.0.0.1:$port" --frames 1 >"$tmp/notoken.log" 2>&1
grep -q 'HTTP 401' "$tmp/notoken.log" && ok "no token -> 401" || { ko "no token -> 401"; cat "$tmp/notoken.log"; }
# the run's outputs were released by the client: none of this server's regions is left
left=$(ls /dev/shm 2>/dev/null | grep -E "^vg-out-$pid-" || true)
[[ -z "$left" ]] && ok "no server output region left in /dev/shm" || ko "server regions left: $left"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
