# video.sh - NVDEC throughput with 1, 2, 4 and 8 parallel sessions (sourced by run_gpu.sh).
step bench-video-nvdec "$BUILD/bench_video_nvdec" --sessions 1,2,4,8 --frames 1200
step video-probe "$VG_BIN" probe tests/fixtures-gpu/h264_1920x1080_bench.h264 --count --json
