/* vg_test.h - what every cmocka test of vidgraph includes. */
#ifndef VIDGRAPH_TEST_H
#define VIDGRAPH_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vidgraph/vg_core.h"

/* Fails the test with the library's last message when a call does not return VG_OK. */
#define VG_ASSERT_OK(expr)                                                                         \
  do {                                                                                             \
    vg_status s_ = (expr);                                                                         \
    if (s_ != VG_OK) fail_msg("%s -> %s: %s", #expr, vg_status_name(s_), vg_last_error());         \
  } while (0)

/* Asserts that the last error message contains needle. */
#define VG_ASSERT_MSG_HAS(needle)                                                                  \
  do {                                                                                             \
    if (!strstr(vg_last_error(), (needle)))                                                        \
      fail_msg("message '%s' lacks '%s'", vg_last_error(), (needle));                              \
  } while (0)

/* For GPU test programs: exits with ctest's skip code 77 and the reason when there is no GPU. */
static inline void vg_test_require_gpu(void) {
  int n = 0;
  vg_cuda_device_count(&n);
  if (n == 0) {
    printf("SKIP: %s\n", vg_cuda_unavailable_reason());
    exit(77);
  }
}

/* The repository root (tests run there; VG_SOURCE_DIR overrides). */
static inline const char *vg_test_root(void) {
  const char *r = getenv("VG_SOURCE_DIR");
  return r ? r : ".";
}

#endif
