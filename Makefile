# The two commands of the README live here:
#   make demo   set up, build, and run the plate-reading demo on the generated sample video
#   make test   set up, build, run every test, then the sanitizer build of the CPU tests
# Other targets: build, asan, gpu-build (the FFmpeg-less variant for the GPU machine), clean,
#   fuzz (each libFuzzer target for FUZZ_SECONDS), soak (the long soak run, SOAK_SECONDS),
#   fuzz-test (the CI part of `make test`: seeds + reproducers, then a few seconds each).
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup build asan gpu-build test unit-test asan-test demo clean fuzz-build fuzz fuzz-test soak

all: build

setup:
	scripts/setup.sh

build: setup
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build build -j $(JOBS)

# ASan + UBSan, CPU only (CUDA's runtime and ASan do not mix), debug assertions on.
asan: setup
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVG_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-asan -j $(JOBS)

# The variant for the GPU machine: no FFmpeg (not installed there), Debian libraries linked
# statically, sm_90 only to keep the build short.
gpu-build: setup
	cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DVG_WITH_FFMPEG=OFF -DVG_STATIC_DEPS=ON \
	  -DVG_CUDA_ARCHS="90-real;90-virtual" $(CMAKE_FLAGS) >/dev/null
	cmake --build build-gpu -j $(JOBS)

unit-test: build
	cd build && ctest --output-on-failure -j $(JOBS) -LE gpu
	cd build && ctest --output-on-failure -L gpu

# Any sanitizer report fails its test: the code is built with -fno-sanitize-recover=all and every
# test runs with halt_on_error and leak detection (CMakeLists.txt, VG_SANITIZER_ENV; the options
# below are the same, for programs run by hand from this shell). sanitizer_fails_on_* prove it.
SAN_ENV = ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
asan-test: asan
	cd build-asan && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) -L unit
	cd build-asan && $(SAN_ENV) ctest --output-on-failure -L asan

# libFuzzer targets (tests/fuzz, clang, ASan + UBSan): docs/RELIABILITY.md has the figures.
FUZZ_SECONDS ?= 180
fuzz-build: setup
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVG_FUZZ=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-fuzz -j $(JOBS)

fuzz: fuzz-build
	scripts/fuzz.sh --seconds $(FUZZ_SECONDS)

fuzz-test: fuzz-build
	scripts/fuzz.sh --seconds 5

# The long soak: the plate graph looped for SOAK_SECONDS on the release build, RSS growth after
# the warm-up at most 1%.
SOAK_SECONDS ?= 1200
soak: build
	VG_BIN=$(CURDIR)/build/vidgraph VG_SOAK_SECONDS=$(SOAK_SECONDS) VG_SOAK_MAX_RSS_PCT=1 \
	  VG_SOAK_OUT=$(CURDIR)/out/soak bash tests/asan/test_soak.sh

test: unit-test asan-test fuzz-test

# The plate-reading demo: the sample video through examples/plates.yaml, then the plates read
# compared with the ground truth (exact-read rate, each plate reported once).
DEMO_OUT ?= out/plates
demo: build
	./build/vidgraph run examples/plates.yaml --input samples/plates.mp4 --output $(DEMO_OUT)
	python3 scripts/eval_plates.py --truth samples/plates_truth.json --events $(DEMO_OUT)/events.jsonl \
	  --min-rate 0.9 --max-duplicates 0
	@echo "annotated video: $(DEMO_OUT)/annotated.mp4   summary: $(DEMO_OUT)/summary.json"

clean:
	rm -rf build build-asan build-gpu build-fuzz
