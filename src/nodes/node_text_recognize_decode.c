/* node_text_recognize_decode.c - the `text_recognize_decode` node: CTC greedy decoding of a text
 * recogniser's output [N, T, C] with a dictionary (PP-OCR: ppocr_keys_v1.txt + space) into the
 * text of the packet's N objects, then keeps only readings that look right: at least
 * min_score, min_length characters, and matching `pattern` (a POSIX extended regex) when set.
 * An output in CUDA memory is decoded on the device (vg_ctc_decode_objects_cuda: only the kept
 * classes come back), a host one by the CPU twin. */
#include "node_util.h"
#include "vidgraph/vg_post.h"

#include <jansson.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

typedef struct ctc_state {
  const char *input, *dict_path, *pattern_text;
  bool use_space, drop_unread, reject_lower;
  float min_score;
  int min_length, max_length;
  vg_text_norm norm;
  vg_ctc_dict *dict;
  bool has_pattern;
  regex_t pattern;
  nodes_ws_pool pool; /* vg_ctc_cuda workspaces */
} ctc_state;

static vg_status ctc_ws_make(vg_device dev, void **ws) {
  return vg_ctc_cuda_create(dev, (vg_ctc_cuda **)ws);
}

static void ctc_ws_drop(void *ws) {
  vg_ctc_cuda_destroy(ws);
}

enum { STAT_READ = VG_STAT_NODE0, STAT_REJECTED };

/* normalize: none|plate (vg_text_norm_from_name). */
static vg_status read_norm(vg_node *self, const vg_cnode *params, const vg_param *p, void *field) {
  const char *name = "none";
  VG_TRY(vg_cfg_string(params, p->name, false, "none", &name));
  if (vg_text_norm_from_name(name, field) != VG_OK)
    return vg_cnode_error(vg_cnode_get(params, p->name), VG_ERR_PARSE, "%s", vg_last_error());
  return VG_OK;
}

static const vg_param k_params[] = {
    VG_P_STRING(ctc_state, input, "input", "output", "tensor of the recogniser, [N, T, C]"),
    VG_P_STRING(ctc_state, dict_path, "dict", NULL,
                "dictionary file, one character a line (relative: to the spec's folder)",
                .required = true),
    VG_P_BOOL(ctc_state, use_space, "use_space", true, "the last class is a space (PP-OCR)"),
    VG_P_FLOAT(ctc_state, min_score, "min_score", 0.5, 0, 1, "readings below are dropped"),
    VG_P_INT(ctc_state, min_length, "min_length", 1, 0, 64, "shorter readings are dropped"),
    VG_P_INT(ctc_state, max_length, "max_length", VG_TEXT_MAX, 1, VG_TEXT_MAX,
             "longer readings are dropped (with normalize: plate, separators do not count)"),
    VG_P_CUSTOM(ctc_state, norm, "normalize", read_norm,
                "none, or plate (vg_text_norm_from_name) before the checks"),
    VG_P_STRING(ctc_state, pattern_text, "pattern", NULL,
                "POSIX extended regex a reading must match"),
    VG_P_BOOL(ctc_state, reject_lower, "reject_lower", false,
              "drop readings with a lower-case letter whose capital looks different (checked "
              "before normalize): plates are written in capitals, shop signs often are not"),
    VG_P_BOOL(ctc_state, drop_unread, "drop_unread", true, "drop objects without a reading"),
    {0}};

static void ctc_destroy(void *state) {
  ctc_state *s = state;
  nodes_ws_pool_free(&s->pool, ctc_ws_drop);
  vg_ctc_dict_free(s->dict);
  if (s->has_pattern) regfree(&s->pattern);
}

static vg_status ctc_init(vg_node *self, const vg_cnode *params, void **state) {
  ctc_state *s = *state;
  nodes_ws_pool_init(&s->pool);
  char base[1024], path[2048];
  nodes_base_dir(params, base, sizeof base);
  snprintf(path, sizeof path, "%s", s->dict_path);
  FILE *probe = fopen(path, "r");
  if (!probe && s->dict_path[0] != '/') snprintf(path, sizeof path, "%s/%s", base, s->dict_path);
  if (probe) fclose(probe);
  VG_TRY(vg_ctc_dict_load(path, s->use_space, &s->dict));
  if (!s->pattern_text) return VG_OK;
  int rc = regcomp(&s->pattern, s->pattern_text, REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char err[128];
    regerror(rc, &s->pattern, err, sizeof err);
    return vg_cnode_error(vg_cnode_get(params, "pattern"), VG_ERR_PARSE, "bad pattern '%s': %s",
                          s->pattern_text, err);
  }
  s->has_pattern = true;
  return VG_OK;
}

/* Characters (UTF-8 code points) in s. */
static int utf8_len(const char *s) {
  int n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static bool accept(const ctc_state *s, const vg_object *o) {
  int len = s->norm ? (int)vg_text_plate_length(o->text) : utf8_len(o->text);
  if (o->text_score < s->min_score || len < s->min_length || len > s->max_length) return false;
  return !s->has_pattern || regexec(&s->pattern, o->text, 0, NULL, 0) == 0;
}

/* Decodes the objects' rows where the tensor lives. */
static vg_status ctc_decode(vg_call *c, ctc_state *s, const vg_tensor *t, vg_objects *objs) {
  if (vg_tensor_device(t).kind != VG_DEVICE_CUDA)
    return vg_ctc_decode_objects(t, s->dict, VG_CTC_AUTO, objs->items, objs->count);
  void *ws;
  VG_TRY(nodes_ws_take(&s->pool, vg_tensor_device(t), ctc_ws_make, &ws));
  vg_status st =
      vg_ctc_decode_objects_cuda(ws, t, s->dict, VG_CTC_AUTO, objs->items, objs->count, c->stream);
  nodes_ws_give(&s->pool, ws);
  return st;
}

static vg_status ctc_one(vg_call *c, vg_node_io *io) {
  ctc_state *s = c->state;
  const vg_tensor *t = vg_packet_tensor(io->in[0], s->input);
  const vg_objects *in = vg_packet_objects(io->in[0]);
  vg_packet *out;
  VG_TRY(vg_packet_derive(io->in[0], &out));
  vg_status st = VG_OK;
  vg_objects *objs = NULL;
  if (in->count > 0) {
    if (!t)
      st = vg_node_error(c->node, VG_ERR_NOT_FOUND, "packet has %zu objects but no tensor '%s'",
                         in->count, s->input);
    else if (t->ndim != 3 || t->shape[0] < (int64_t)in->count) /* padded batches: more rows */
      st = vg_node_error(c->node, VG_ERR_INVALID_ARG,
                         "tensor '%s' has %lld rows for %zu objects (expected [N, T, C])", s->input,
                         (long long)(t->ndim ? t->shape[0] : 0), in->count);
    if (st == VG_OK) st = vg_packet_objects_edit(out, &objs);
    if (st == VG_OK) st = ctc_decode(c, s, t, objs);
    if (st == VG_OK) {
      size_t w = 0;
      for (size_t i = 0; i < objs->count; i++) {
        bool lower = s->reject_lower && vg_text_distinct_lower(objs->items[i].text) > 0;
        vg_text_normalize(objs->items[i].text, s->norm);
        bool ok = !lower && accept(s, &objs->items[i]);
        vg_node_stat_add(c->node, ok ? STAT_READ : STAT_REJECTED, 1);
        if (!ok) {
          objs->items[i].text[0] = '\0';
          objs->items[i].text_score = 0;
          if (s->drop_unread) continue;
        }
        objs->items[w++] = objs->items[i];
      }
      objs->count = w;
    }
  }
  if (t) vg_packet_remove_tensor(out, s->input);
  return nodes_hand_over(io, out, st);
}

static vg_status ctc_process(vg_call *c) {
  return nodes_per_frame(c, ctc_one);
}

static char *ctc_describe(void *state) {
  ctc_state *s = state;
  json_t *o = json_pack("{s:I,s:s}", "classes", (json_int_t)vg_ctc_dict_num_classes(s->dict),
                        "pattern", s->pattern_text ? s->pattern_text : "");
  char *t = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return t;
}

const vg_node_type vg_node_text_recognize_decode = {
    .name = "text_recognize_decode",
    .doc = "CTC decoding of a text recogniser output into object texts (dict, min_score, pattern)",
    .inputs = {{"in", VG_PORT_OBJECTS | VG_PORT_TENSOR}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU | VG_DEVICES_CUDA, /* on CUDA the output stays on the device */
    .preferred = VG_DEVICE_CUDA,
    .params = k_params,
    .state_size = sizeof(ctc_state),
    .init = ctc_init,
    .process = ctc_process,
    .destroy = ctc_destroy,
    .describe = ctc_describe,
    .stats = {"read", "rejected"},
};
