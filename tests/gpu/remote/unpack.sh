#!/usr/bin/env bash
# unpack.sh - on the GPU machine, in the repository root: joins the pieces that pack.sh made
# (copied into /var/tmp/vg by earlier calls) once per warm machine into /var/tmp/vg/root and
# /var/tmp/ortcuda, then links build-gpu, models, samples and .carry/lib into this tree (every
# device call gets a fresh copy of the tree, so run this in the same call as go.sh).
set -euo pipefail
V=/var/tmp/vg
if [ ! -f $V/root/.done ]; then
  ls $V/all.part* >/dev/null || { echo "unpack: pieces missing in $V" >&2; exit 1; }
  rm -rf $V/root; mkdir -p $V/root /var/tmp/ortcuda
  cat $V/all.part* | $V/zstd -d -q | tar -C $V/root -xf - ||
    { echo "unpack: the pieces in $V do not make a whole tarball (one missing?)" >&2; exit 1; }
  mv $V/root/ort/* /var/tmp/ortcuda/
  ln -sf libonnxruntime.so /var/tmp/ortcuda/libonnxruntime.so.1
  touch $V/root/.done
fi
for d in build-gpu models samples; do rm -rf "$d"; ln -s $V/root/$d "$d"; done
mkdir -p .carry; rm -rf .carry/lib; ln -s $V/root/.carry/lib .carry/lib
echo "unpack: ready ($(ls /var/tmp/ortcuda | tr '\n' ' '))"
