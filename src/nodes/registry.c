/* registry.c - the table of built-in node types. Adding a type: write src/nodes/node_<name>.c
 * defining `const vg_node_type vg_node_<name>` and add one X(<name>) line below. */
#include "vidgraph/vg_graph.h"

#define VG_BUILTIN_NODES(X)                                                                        \
  X(input)                                                                                         \
  X(output)                                                                                        \
  X(json_sink)                                                                                     \
  X(callback_sink)                                                                                 \
  X(pass)                                                                                          \
  X(test_source)                                                                                   \
  X(test_sum)                                                                                      \
  X(source)                                                                                        \
  X(preprocess)                                                                                    \
  X(infer)                                                                                         \
  X(text_detect_decode)                                                                            \
  X(roi_crop)                                                                                      \
  X(text_direction)                                                                                \
  X(text_recognize_decode)                                                                         \
  X(track)                                                                                         \
  X(overlay)                                                                                       \
  X(events)                                                                                        \
  X(video_sink)                                                                                    \
  X(tiles)                                                                                         \
  X(yolo_decode)                                                                                   \
  X(nms)                                                                                           \
  X(tile_fuse)                                                                                     \
  X(classify)                                                                                      \
  X(count)                                                                                         \
  X(fatigue)                                                                                       \
  X(jpeg_sink)

#define DECLARE(name) extern const vg_node_type vg_node_##name;
#define ENTRY(name) &vg_node_##name,

VG_BUILTIN_NODES(DECLARE)

static const vg_node_type *const g_builtin[] = {VG_BUILTIN_NODES(ENTRY) NULL};

const vg_node_type *const *vg_builtin_node_types(size_t *count) {
  if (count) *count = sizeof g_builtin / sizeof g_builtin[0] - 1;
  return g_builtin;
}
