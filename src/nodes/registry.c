/* registry.c - the table of built-in node types and vg_nodes_register_builtin. Adding a type:
 * write src/nodes/node_<name>.c defining `const vg_node_type vg_node_<name>` and add one
 * X(<name>) line below. */
#include "vidgraph/vg_nodes.h"

#define VG_BUILTIN_NODES(X)                                                                        \
  X(input)                                                                                         \
  X(output)                                                                                        \
  X(json_sink)                                                                                     \
  X(callback_sink)                                                                                 \
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

vg_status vg_nodes_register_builtin(vg_registry *reg) {
  for (const vg_node_type *const *t = g_builtin; *t; t++) {
    vg_status s = vg_registry_add(reg, *t);
    if (s != VG_OK) return vg_wrap_error(s, "built-in node types");
  }
  return VG_OK;
}
