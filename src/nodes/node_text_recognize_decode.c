/* node_text_recognize_decode.c - the `text_recognize_decode` node: CTC greedy decoding of a text
 * recogniser's output [N, T, C] with a dictionary (PP-OCR: ppocr_keys_v1.txt + space) into the
 * text of the packet's N objects, then keeps only readings that look right: at least
 * min_score, min_length characters, and matching `pattern` (a POSIX extended regex) when set. */
#include "node_util.h"
#include "vidgraph/vg_post.h"

#include <jansson.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct ctc_state {
  vg_ctc_dict *dict;
  char input[VG_TENSOR_NAME_MAX];
  float min_score;
  int min_length, max_length;
  vg_text_norm norm;
  bool has_pattern, drop_unread;
  regex_t pattern;
  char pattern_text[256];
  atomic_ullong read, rejected;
} ctc_state;

static const char *const k_params[] = {"input",      "dict",    "use_space",   "min_score",
                                       "min_length", "pattern", "drop_unread", "normalize",
                                       "max_length", NULL};

static void ctc_destroy(void *state) {
  ctc_state *s = state;
  if (!s) return;
  vg_ctc_dict_free(s->dict);
  if (s->has_pattern) regfree(&s->pattern);
  free(s);
}

static vg_status ctc_init(vg_node *self, const vg_cnode *params, void **state) {
  VG_TRY(vg_params_check(self, params, k_params));
  const char *in, *dict, *pat;
  bool space;
  double ms;
  int64_t ml;
  VG_TRY(vg_cfg_string(params, "input", false, "output", &in));
  VG_TRY(vg_cfg_string(params, "dict", true, NULL, &dict));
  VG_TRY(vg_cfg_bool(params, "use_space", false, true, &space));
  VG_TRY(vg_cfg_double_range(params, "min_score", false, 0.5, 0, 1, &ms));
  VG_TRY(vg_cfg_int_range(params, "min_length", false, 1, 0, 64, &ml));
  int64_t maxl; /* with normalize: plate, lengths count characters other than separators */
  VG_TRY(vg_cfg_int_range(params, "max_length", false, VG_TEXT_MAX, 1, VG_TEXT_MAX, &maxl));
  const char *norm_name;
  vg_text_norm norm;
  VG_TRY(vg_cfg_string(params, "normalize", false, "none", &norm_name));
  if (vg_text_norm_from_name(norm_name, &norm) != VG_OK)
    return vg_cnode_error(vg_cnode_get(params, "normalize"), VG_ERR_PARSE, "%s", vg_last_error());
  VG_TRY(vg_cfg_string(params, "pattern", false, NULL, &pat));
  bool drop_unread;
  VG_TRY(vg_cfg_bool(params, "drop_unread", false, true, &drop_unread));
  ctc_state *s = calloc(1, sizeof *s);
  if (!s) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory");
  s->drop_unread = drop_unread;
  char base[1024], path[2048];
  nodes_base_dir(params, base, sizeof base);
  snprintf(path, sizeof path, "%s", dict);
  FILE *probe = fopen(path, "r");
  if (!probe && dict[0] != '/') snprintf(path, sizeof path, "%s/%s", base, dict);
  if (probe) fclose(probe);
  vg_status st = vg_ctc_dict_load(path, space, &s->dict);
  if (st == VG_OK && pat) {
    int rc = regcomp(&s->pattern, pat, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      char err[128];
      regerror(rc, &s->pattern, err, sizeof err);
      st = vg_cnode_error(vg_cnode_get(params, "pattern"), VG_ERR_PARSE, "bad pattern '%s': %s",
                          pat, err);
    } else {
      s->has_pattern = true;
      snprintf(s->pattern_text, sizeof s->pattern_text, "%s", pat);
    }
  }
  if (st != VG_OK) {
    ctc_destroy(s);
    return st;
  }
  snprintf(s->input, sizeof s->input, "%s", in);
  s->min_score = (float)ms;
  s->min_length = (int)ml;
  s->max_length = (int)maxl;
  s->norm = norm;
  *state = s;
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
    if (st == VG_OK) st = vg_ctc_decode_objects(t, s->dict, VG_CTC_AUTO, objs->items, objs->count);
    if (st == VG_OK) {
      size_t w = 0;
      for (size_t i = 0; i < objs->count; i++) {
        vg_text_normalize(objs->items[i].text, s->norm);
        bool ok = accept(s, &objs->items[i]);
        atomic_fetch_add(ok ? &s->read : &s->rejected, 1);
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
  json_t *o =
      json_pack("{s:I,s:I,s:I,s:s}", "classes", (json_int_t)vg_ctc_dict_num_classes(s->dict),
                "read", (json_int_t)atomic_load(&s->read), "rejected",
                (json_int_t)atomic_load(&s->rejected), "pattern", s->pattern_text);
  char *t = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return t;
}

const vg_node_type vg_node_text_recognize_decode = {
    .name = "text_recognize_decode",
    .doc = "CTC decoding of a text recogniser output into object texts (dict, min_score, pattern)",
    .inputs = {{"in", VG_PORT_OBJECTS | VG_PORT_TENSOR}},
    .outputs = {{"out", VG_PORT_OBJECTS | VG_PORT_FORWARD}},
    .devices = VG_DEVICES_CPU,
    .preferred = VG_DEVICE_CPU,
    .init = ctc_init,
    .process = ctc_process,
    .destroy = ctc_destroy,
    .describe = ctc_describe,
};
