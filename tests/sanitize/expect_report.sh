#!/usr/bin/env bash
# expect_report.sh PATTERN PROGRAM ARGS... - passes only when PROGRAM exits non-zero and its
# output holds PATTERN (a sanitizer report): the proof that the sanitizer build fails on findings.
pattern=$1
shift
out=$("$@" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "FAIL: '$*' exited 0 although it has a fault; output:"
  echo "$out"
  exit 1
fi
if ! grep -q -- "$pattern" <<<"$out"; then
  echo "FAIL: '$*' exited $rc without a report matching '$pattern'; output:"
  echo "$out"
  exit 1
fi
echo "ok: '$*' exited $rc with '$pattern'"
