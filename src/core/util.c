/* util.c - small helpers with no better home: clocks, hashing, whole-file reads, build info. */
#include "vidgraph/vg_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int64_t vg_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t vg_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void vg_sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

uint64_t vg_hash64(const void *data, size_t len, uint64_t seed) {
  const unsigned char *p = data;
  uint64_t h = seed;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

vg_status vg_read_file(const char *path, size_t max_bytes, char **data, size_t *size) {
  if (!path || !data) return vg_set_error(VG_ERR_INVALID_ARG, "vg_read_file: no path given");
  *data = NULL;
  if (size) *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    return vg_set_error(errno == ENOENT ? VG_ERR_NOT_FOUND : VG_ERR_IO, "cannot open '%s': %s",
                        path, strerror(errno));
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return vg_set_error(VG_ERR_IO, "'%s' is not a regular file", path);
  }
  if (max_bytes && (size_t)st.st_size > max_bytes) {
    fclose(f);
    return vg_set_error(VG_ERR_INVALID_ARG, "'%s' is %lld bytes, more than the limit of %zu", path,
                        (long long)st.st_size, max_bytes);
  }
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    fclose(f);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory reading '%s' (%lld bytes)", path,
                        (long long)st.st_size);
  }
  size_t n = fread(buf, 1, (size_t)st.st_size, f);
  int err = ferror(f);
  fclose(f);
  if (err || n != (size_t)st.st_size) {
    free(buf);
    return vg_set_error(VG_ERR_IO, "short read on '%s'", path);
  }
  buf[n] = '\0';
  *data = buf;
  if (size) *size = n;
  return VG_OK;
}

#ifndef VG_BUILD_COMMIT
#define VG_BUILD_COMMIT "unknown"
#endif

const char *vg_build_info(void) {
  return "vidgraph " VG_VERSION_STRING " commit=" VG_BUILD_COMMIT
#ifdef VG_HAVE_CUDA
         " cuda=yes"
#else
         " cuda=no"
#endif
#ifdef VG_HAVE_FFMPEG
         " ffmpeg=yes"
#else
         " ffmpeg=no"
#endif
#ifdef VG_HAVE_ORT
         " onnxruntime=yes"
#else
         " onnxruntime=no"
#endif
      ;
}
