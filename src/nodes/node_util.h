/* node_util.h - small helpers shared by the built-in nodes (private to src/nodes). */
#ifndef VIDGRAPH_NODE_UTIL_H
#define VIDGRAPH_NODE_UTIL_H

#include "vidgraph/vg_graph.h"
#include "vidgraph/vg_imgproc.h"

#include <pthread.h>

/* The folder of the spec file a params map came from ("." when unknown), for relative paths. */
void nodes_base_dir(const vg_cnode *params, char *buf, size_t cap);

/* Reads how samples become tensor values: interp (bilinear|nearest), bgr, mean/std (lists of 3
 * in 0..1 units) or scale (unit|none), pad_value. Defaults come in *tp. */
vg_status nodes_tensor_params(const vg_cnode *params, vg_tensor_params *tp);

/* layout (nchw|nhwc) and dtype (f32|f16). */
vg_status nodes_layout_dtype(const vg_cnode *params, vg_layout *layout, vg_dtype *dtype);

/* What a node that writes a model-input tensor reads: the sample parameters (defaults of
 * vg_tensor_params_default), layout (nchw), dtype (f32) and the tensor's name under `output`
 * (default def_name). */
typedef struct nodes_tensor_out {
  vg_tensor_params tp;
  vg_layout layout;
  vg_dtype dtype;
  char name[VG_TENSOR_NAME_MAX];
} nodes_tensor_out;
vg_status nodes_tensor_out_params(const vg_cnode *params, const char *def_name,
                                  nodes_tensor_out *o);
/* The keys nodes_tensor_out_params reads, and their doc line, for parameter tables. */
extern const char *const nodes_tensor_out_keys[];
#define NODES_TENSOR_OUT_DOC                                                                       \
  "sampling: interp bilinear|nearest, bgr (false), mean/std [3] in 0..1 units or scale "           \
  "unit|none (unit = v/255), pad_value (114), layout nchw|nhwc, dtype f32|f16, output (name)"

/* A parameter hook: a tensor name of 1..VG_TENSOR_NAME_MAX-1 characters into a
 * char[VG_TENSOR_NAME_MAX] field; absent: p->sdef. */
vg_status nodes_tensor_name(vg_node *self, const vg_cnode *params, const vg_param *p, void *field);

/* Reads a list of `n` numbers at key into out (absent: out unchanged). */
vg_status nodes_floats(const vg_cnode *params, const char *key, float *out, int n);

/* Runs one(c, &c->io[i]) for every frame of the call, stopping at the first failure: the
 * process() of nodes that treat frames independently. */
vg_status nodes_per_frame(vg_call *c, vg_status (*one)(vg_call *c, vg_node_io *io));

/* The end of a per-frame step: on success hands `out` to output port 0, on failure drops it.
 * Returns st. */
vg_status nodes_hand_over(vg_node_io *io, vg_packet *out, vg_status st);

/* A copy of `src` on the node's device from the node's pool (pixels and metadata). */
vg_status nodes_frame_copy(vg_node *self, const vg_frame *src, vg_stream s, vg_frame *out);

/* Device workspaces of a node (decoders on CUDA), one per concurrent call, made on first use by
 * make(dev, &ws) and freed by drop at destroy. A node runs on one device, so all live there. */
#define NODES_WS_MAX 16
typedef struct nodes_ws_pool {
  pthread_mutex_t mu;
  void *ws[NODES_WS_MAX];
  bool busy[NODES_WS_MAX];
  int n;
  bool inited; /* a zeroed pool that was never initialised frees nothing */
} nodes_ws_pool;
void nodes_ws_pool_init(nodes_ws_pool *p);
void nodes_ws_pool_free(nodes_ws_pool *p, void (*drop)(void *));
/* A free workspace (made when none is free); give it back with nodes_ws_give. */
vg_status nodes_ws_take(nodes_ws_pool *p, vg_device dev, vg_status (*make)(vg_device, void **),
                        void **ws);
void nodes_ws_give(nodes_ws_pool *p, void *ws);

#endif
