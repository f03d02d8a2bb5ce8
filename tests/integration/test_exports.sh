#!/usr/bin/env bash
# test_exports.sh - libvidgraph.so exports exactly its public API: every defined dynamic symbol
# starts with vg_ and is declared in a public header (include/vidgraph/*.h), and every function
# those headers declare is exported. The library is built with -fvisibility=hidden and the
# headers open VG_API_BEGIN ... VG_API_END; an internal function leaking out fails here.
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
so="$(dirname "$bin")/libvidgraph.so"
[[ -f "$so" ]] || { echo "SKIP: $so not built (the static-deps variant has no shared library)"; exit 77; }
command -v nm >/dev/null || { echo "SKIP: nm not installed"; exit 77; }

exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDRBV]$/ {print $3}' | sort -u)
# identifiers followed by '(' at the start of a declaration in the public headers
declared=$(cat "$root"/include/vidgraph/*.h | grep -oE '\bvg_[A-Za-z0-9_]+\s*\(' |
  sed -E 's/\s*\($//' | sort -u)
fail=0
n=0
while read -r sym; do
  [[ -z "$sym" ]] && continue
  n=$((n + 1))
  if [[ "$sym" != vg_* ]]; then echo "FAIL: exported symbol without the vg_ prefix: $sym"; fail=$((fail + 1)); continue; fi
  if ! grep -qx "$sym" <<<"$declared"; then echo "FAIL: exported but not in a public header: $sym"; fail=$((fail + 1)); fi
done <<<"$exported"
missing=0
while read -r sym; do
  [[ -z "$sym" ]] && continue
  # a name used only inside a comment or a macro in the headers is not a function
  grep -qE "^[^/*]*\b$sym\s*\(" "$root"/include/vidgraph/*.h || continue
  grep -qE "(^|[^A-Za-z0-9_])$sym\s*\([^)]*\)\s*;|(^|[ *])$sym\s*\($" "$root"/include/vidgraph/*.h || continue
  if ! grep -qx "$sym" <<<"$exported"; then echo "FAIL: declared in a public header but not exported: $sym"; missing=$((missing + 1)); fi
done <<<"$declared"
echo "exports: $n symbols, $fail outside the public API, $missing public declarations not exported"
if [[ $fail -eq 0 && $missing -eq 0 && $n -gt 100 ]]; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed"; exit 1
