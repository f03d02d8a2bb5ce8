#!/usr/bin/env bash
# make_video_fixtures.sh - generates the video layer's test inputs with the ffmpeg CLI.
#
#   scripts/make_video_fixtures.sh OUTDIR          CI fixtures (several codecs/containers, odd
#                                                  sizes, VFR, truncated, corrupted, empty,
#                                                  garbage, audio-only, images) + reference
#                                                  NAME.framemd5 files (ffmpeg -pix_fmt nv12)
#   scripts/make_video_fixtures.sh --gpu OUTDIR    the small raw elementary streams the GPU
#                                                  machine needs (it has no ffmpeg), each with
#                                                  NAME.md5: one NV12 MD5 per decoded frame
#
# Nothing made here is committed except the --gpu output (tests/fixtures-gpu/). Idempotent: a
# file that exists is kept. Deterministic: test patterns only, garbage from a seeded generator.
set -euo pipefail

gpu=0
if [[ "${1:-}" == "--gpu" ]]; then
  gpu=1
  shift
fi
out="${1:?usage: make_video_fixtures.sh [--gpu] OUTDIR}"
mkdir -p "$out"
command -v ffmpeg >/dev/null || { echo "make_video_fixtures: ffmpeg not found" >&2; exit 2; }

FF=(ffmpeg -hide_banner -loglevel error -nostdin -y)
X265=(-x265-params log-level=error)

# enc NAME SIZE FRAMES CODEC [extra ffmpeg output args...]
enc() {
  local name=$1 size=$2 frames=$3 codec=$4
  shift 4
  [[ -s "$out/$name" ]] && return 0
  "${FF[@]}" -f lavfi -i "testsrc2=size=640x480:rate=25" -vf "scale=${size/x/:}" \
    -frames:v "$frames" -c:v "$codec" -pix_fmt yuv420p "$@" "$out/$name"
}

# framemd5 NAME: ffmpeg's own per-frame MD5 of the decoded picture converted to NV12.
framemd5() {
  [[ -s "$out/$1.framemd5" ]] && return 0
  "${FF[@]}" -i "$out/$1" -map 0:v:0 -fps_mode passthrough -pix_fmt nv12 -f framemd5 \
    "$out/$1.framemd5.tmp"
  mv "$out/$1.framemd5.tmp" "$out/$1.framemd5"
}

# md5list NAME: the MD5 column of framemd5, one line per frame (for the GPU machine).
md5list() {
  "${FF[@]}" -i "$out/$1" -map 0:v:0 -fps_mode passthrough -pix_fmt nv12 -f framemd5 - |
    grep -v '^#' | awk -F',' '{gsub(/ /, "", $6); print $6}' >"$out/$1.md5"
}

if [[ $gpu == 1 ]]; then
  enc h264_640x360_bframes.h264 640x360 60 libx264 -bf 3 -g 30 -crf 30 -f h264
  enc h264_642x482_crop.h264 642x482 30 libx264 -bf 2 -crf 30 -f h264
  enc hevc_1366x768.hevc 1366x768 30 libx265 -crf 32 "${X265[@]}" -f hevc
  enc h264_1920x1080_bench.h264 1920x1080 60 libx264 -preset veryfast -bf 2 -g 60 -crf 22 -f h264
  for f in h264_640x360_bframes.h264 h264_642x482_crop.h264 hevc_1366x768.hevc \
    h264_1920x1080_bench.h264; do
    md5list "$f"
  done
  # NVDEC scaling (bench_video_nvdec, tests/gpu/steps/video.sh): 12 s of native 1080p with
  # temporal noise, about 24 KB a frame (5.8 Mbit/s at 30 fps, a camera's bitrate), 9 MB
  if [[ ! -s "$out/h264_1920x1080_long.h264" ]]; then
    "${FF[@]}" -f lavfi -i "testsrc2=size=1920x1080:rate=30" -vf "noise=alls=6:allf=t" \
      -frames:v 360 -c:v libx264 -preset veryfast -bf 2 -g 60 -crf 24 -pix_fmt yuv420p -f h264 \
      "$out/h264_1920x1080_long.h264"
  fi
  exit 0
fi

# several test programs may run at once: one generator at a time per folder
exec 9>"$out/.lock"
flock 9

# containers and codecs, odd sizes
enc h264_320x240.mp4 320x240 50 libx264 -bf 3 -g 25
enc h264_1366x768.mp4 1366x768 20 libx264 -bf 2
enc hevc_1366x768.mkv 1366x768 20 libx265 "${X265[@]}"
enc mpeg4_641x481.avi 641x481 25 mpeg4 -q:v 5
enc mpeg2_641x481.ts 641x481 25 mpeg2video -q:v 5
enc h264_raw.h264 352x288 40 libx264 -bf 2 -f h264
enc hevc_raw.hevc 352x288 30 libx265 "${X265[@]}" -f hevc

# variable frame rate: 10 frames 40 ms apart, then 20 frames 100 ms apart
if [[ ! -s "$out/vfr.mkv" ]]; then
  "${FF[@]}" -f lavfi -i "testsrc2=size=320x240:rate=25" -frames:v 30 \
    -vf "setpts='if(lt(N,10),N*0.04,0.4+(N-10)*0.1)/TB'" -fps_mode passthrough \
    -c:v libx264 -pix_fmt yuv420p "$out/vfr.mkv"
fi

# truncated: an mp4 with its index at the front, cut at 60%
if [[ ! -s "$out/truncated.mp4" ]]; then
  enc full_for_truncation.mp4 320x240 60 libx264 -g 10 -movflags +faststart
  size=$(stat -c %s "$out/full_for_truncation.mp4")
  head -c $((size * 6 / 10)) "$out/full_for_truncation.mp4" >"$out/truncated.mp4"
  rm -f "$out/full_for_truncation.mp4"
fi

# corrupted: H.264 in MPEG-TS with 3000 bytes overwritten by seeded noise in the middle
if [[ ! -s "$out/corrupt.ts" ]]; then
  enc corrupt_src.ts 320x240 60 libx264 -g 15
  python3 - "$out/corrupt_src.ts" "$out/corrupt.ts" <<'EOF'
import random, sys
data = bytearray(open(sys.argv[1], "rb").read())
rng = random.Random(1234)
mid = len(data) // 2
for i in range(mid, min(mid + 3000, len(data))):
    data[i] = rng.randrange(256)
open(sys.argv[2], "wb").write(data)
EOF
  rm -f "$out/corrupt_src.ts"
fi

# empty, garbage, audio only
: >"$out/empty.mp4"
[[ -s "$out/garbage.mp4" ]] || python3 -c "
import random, sys
rng = random.Random(99)
sys.stdout.buffer.write(bytes(rng.randrange(256) for _ in range(65536)))" >"$out/garbage.mp4"
[[ -s "$out/audio_only.wav" ]] ||
  "${FF[@]}" -f lavfi -i "sine=frequency=440:duration=1" "$out/audio_only.wav"

# images: one PNG, one JPEG, a folder of three PNGs (odd sizes)
[[ -s "$out/image.png" ]] ||
  "${FF[@]}" -f lavfi -i "testsrc2=size=96x64" -vf scale=97:61 -frames:v 1 -pix_fmt rgb24 "$out/image.png"
[[ -s "$out/image.jpg" ]] ||
  "${FF[@]}" -f lavfi -i "testsrc2=size=160x120" -vf scale=161:121 -frames:v 1 -q:v 2 "$out/image.jpg"
if [[ ! -d "$out/images" ]]; then
  mkdir -p "$out/images.tmp"
  "${FF[@]}" -f lavfi -i "testsrc2=size=64x32:rate=5" -vf scale=65:33 -frames:v 3 -pix_fmt rgb24 \
    "$out/images.tmp/frame_%03d.png"
  echo "not an image" >"$out/images.tmp/readme.txt"
  mv "$out/images.tmp" "$out/images"
fi

for f in h264_320x240.mp4 h264_1366x768.mp4 hevc_1366x768.mkv mpeg4_641x481.avi \
  mpeg2_641x481.ts h264_raw.h264 hevc_raw.hevc vfr.mkv truncated.mp4 corrupt.ts; do
  framemd5 "$f"
done

# references for the image tests: ffmpeg's RGB24 view of the images and of one video frame
[[ -s "$out/image.png.framemd5" ]] ||
  "${FF[@]}" -i "$out/image.png" -pix_fmt rgb24 -f framemd5 "$out/image.png.framemd5"
[[ -s "$out/images.framemd5" ]] ||
  "${FF[@]}" -i "$out/images/frame_%03d.png" -pix_fmt rgb24 -f framemd5 "$out/images.framemd5"
[[ -s "$out/image.jpg.rgb" ]] ||
  "${FF[@]}" -i "$out/image.jpg" -pix_fmt rgb24 -f rawvideo "$out/image.jpg.rgb"
[[ -s "$out/h264_320x240.mp4.first.rgb" ]] ||
  "${FF[@]}" -i "$out/h264_320x240.mp4" -frames:v 1 -pix_fmt rgb24 -f rawvideo \
    "$out/h264_320x240.mp4.first.rgb"
