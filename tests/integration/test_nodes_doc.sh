#!/usr/bin/env bash
# test_nodes_doc.sh - the node reference is generated from the parameter tables: docs/NODES.md
# must equal `vidgraph nodes --markdown` (regenerate it with that command when a table changes);
# `vidgraph nodes` lists no test node; `--params TYPE` prints that type's table and fails on an
# unknown type.
set -uo pipefail
root="${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
bin="${VG_BIN:?VG_BIN must point at the vidgraph binary}"
[[ -x "$bin" ]] || { echo "SKIP: $bin not built"; exit 77; }

fail=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

if ! diff -u "$root/docs/NODES.md" <("$bin" nodes --markdown) >/tmp/vg_nodes_doc.diff; then
  head -40 /tmp/vg_nodes_doc.diff
  bad "docs/NODES.md is stale: run 'vidgraph nodes --markdown > docs/NODES.md'"
fi
list=$("$bin" nodes) || bad "vidgraph nodes failed"
for t in test_source test_sum pass; do
  grep -qE "^$t " <<<"$list" && bad "test node '$t' listed by vidgraph nodes"
done
grep -qE "^infer " <<<"$list" || bad "infer missing from vidgraph nodes"
nms=$("$bin" nodes --params nms) || bad "--params nms failed"
grep -qE "^  iou_threshold +number +0.45 +0..1 " <<<"$nms" || bad "nms table: $nms"
"$bin" nodes --params no_such_type >/dev/null 2>&1 && bad "--params of an unknown type succeeded"
[[ $fail -eq 0 ]] && echo "ok: node docs" || exit 1
