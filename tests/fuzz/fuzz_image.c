/* fuzz_image.c - libFuzzer target: still-image loading (src/video/image.c, libjpeg and libpng
 * behind it) through vg_image_read on a temporary file. A decoded frame must have the size and
 * format the loader promises; anything else must be an error message. */
#include "fuzz_util.h"
#include "vidgraph/vg_video.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  const char *path = fuzz_write_temp(data, size, ".img");
  if (!path) return 0;
  vg_frame f;
  if (vg_image_read(path, &f) == VG_OK) {
    if (f.format != VG_PIX_RGB24 || f.width <= 0 || f.height <= 0) abort();
    /* read the last pixel: the frame must hold what it declares */
    volatile uint8_t last =
        vg_frame_plane(&f, 0)[(size_t)(f.height - 1) * f.pitch[0] + (size_t)f.width * 3 - 1];
    (void)last;
    vg_frame_release(&f);
  } else if (vg_last_error()[0] == '\0') {
    abort();
  }
  return 0;
}
