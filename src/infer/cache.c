/* cache.c - the model cache: an explicit, thread-safe table of loaded models keyed by (content
 * hash of every candidate file, providers, device, precision, options), so that many graph runs
 * share one session. Entries are reference counted; unload removes an entry and frees its model
 * once the last holder releases it. A full cache makes room by unloading the least recently
 * used model that no one holds (a server that runs graphs of many models for months would
 * otherwise refuse every new model once it had seen max_models); only when every cached model
 * is held does a load fail. */
#include "infer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 256
#define MAX_MODEL_FILE ((size_t)4 << 30)

typedef struct cache_entry {
  char key[KEY_MAX];
  vg_model *model;
  int refs;
  uint64_t used; /* the cache's tick at its last get: least recently used goes first */
  bool unloaded; /* removed from the table, freed at the last release */
  struct cache_entry *next;
} cache_entry;

struct vg_model_cache {
  pthread_mutex_t mu;
  pthread_cond_t loaded; /* a load of some key finished */
  size_t max_models, count;
  uint64_t tick;
  cache_entry *head;        /* entries in the table */
  cache_entry *detached;    /* unloaded entries still held */
  char loading[8][KEY_MAX]; /* keys being loaded right now (others wait for them) */
};

vg_status vg_model_cache_create(size_t max_models, vg_model_cache **out) {
  vg_model_cache *c = calloc(1, sizeof *c);
  if (!c) return vg_set_error(VG_ERR_NO_MEMORY, "out of memory for the model cache");
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->loaded, NULL);
  c->max_models = max_models ? max_models : 64;
  *out = c;
  return VG_OK;
}

static void free_list(cache_entry *e, bool only_unheld) {
  while (e) {
    cache_entry *n = e->next;
    if (!only_unheld || e->refs == 0) vg_model_free(e->model);
    free(e);
    e = n;
  }
}

void vg_model_cache_destroy(vg_model_cache *c) {
  if (!c) return;
  pthread_mutex_lock(&c->mu);
  for (cache_entry *e = c->head; e; e = e->next)
    if (e->refs > 0)
      vg_log(VG_LOG_WARN, "infer", NULL, "model cache destroyed while model '%s' is held (%d refs)",
             vg_model_name(e->model), e->refs);
  pthread_mutex_unlock(&c->mu);
  /* Held models leak rather than crash their holders; the warning above says which. */
  free_list(c->head, true);
  free_list(c->detached, true);
  pthread_cond_destroy(&c->loaded);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* ----------------------------------------------------------------- keys */

static uint64_t hash_file(const char *path, uint64_t h) {
  char *data = NULL;
  size_t n = 0;
  if (vg_read_file(path, MAX_MODEL_FILE, &data, &n) != VG_OK) {
    vg_clear_error();
    return vg_hash64("missing", 7, vg_hash64(path, strlen(path), h));
  }
  h = vg_hash64(data, n, h);
  free(data);
  return h;
}

vg_status vg_model_cache_key(const vg_model_spec *spec, char *buf, size_t cap) {
  if (!spec || !buf) return vg_set_error(VG_ERR_INVALID_ARG, "vg_model_cache_key: NULL");
  uint64_t h = VG_HASH_SEED;
  if (spec->bytes)
    h = vg_hash64(spec->bytes, spec->nbytes, h);
  else
    h = hash_file(spec->path, h);
  for (int i = 0; i < spec->nfallbacks && i < VG_MODEL_MAX_FALLBACKS; i++)
    h = hash_file(spec->fallbacks[i], h);
  char prov[32] = "";
  for (int i = 0; i < spec->nproviders && i < VG_MODEL_MAX_PROVIDERS; i++)
    snprintf(prov + strlen(prov), sizeof prov - strlen(prov), "%s%c", i ? "," : "",
             vg_provider_name(spec->providers[i])[0]);
  const vg_trt_options *t = &spec->trt;
  uint64_t opt = vg_hash64(t->engine_cache_dir, strlen(t->engine_cache_dir), VG_HASH_SEED);
  opt = vg_hash64(t->timing_cache_dir, strlen(t->timing_cache_dir), opt);
  opt = vg_hash64(&spec->buckets, sizeof spec->buckets, opt);
  opt = vg_hash64(&spec->warmup, sizeof spec->warmup, opt);
  opt = vg_hash64(&spec->own_thread, sizeof spec->own_thread, opt);
  opt = vg_hash64(&spec->fit_batch, sizeof spec->fit_batch, opt);
  snprintf(buf, cap,
           "%016llx|%s|cuda:%d|%s|bind=%d,graph=%d,algo=%d,mem=%zu,ws=%zu,lvl=%d,thr=%d,batch=%d,"
           "stream=%p,req=%d,opt=%08llx",
           (unsigned long long)h, prov, spec->cuda.device_id,
           t->int8                                ? "int8"
           : t->fp16                              ? "fp16"
           : spec->precision == VG_PRECISION_FP16 ? "file-fp16"
                                                  : "fp32",
           spec->io_binding, spec->cuda.cuda_graph, (int)spec->cuda.conv_algo_search,
           spec->cuda.mem_limit_bytes, t->workspace_bytes, t->builder_opt_level, spec->cpu.threads,
           spec->max_batch, (void *)spec->stream, spec->required,
           (unsigned long long)(opt & 0xffffffffu));
  return VG_OK;
}

/* ----------------------------------------------------------------- get / release / unload */

static cache_entry *find(cache_entry *e, const char *key) {
  for (; e; e = e->next)
    if (strcmp(e->key, key) == 0) return e;
  return NULL;
}

static bool is_loading(vg_model_cache *c, const char *key) {
  for (int i = 0; i < 8; i++)
    if (c->loading[i][0] && strcmp(c->loading[i], key) == 0) return true;
  return false;
}

static int mark_loading(vg_model_cache *c, const char *key) {
  for (int i = 0; i < 8; i++) {
    if (!c->loading[i][0]) {
      snprintf(c->loading[i], KEY_MAX, "%s", key);
      return i;
    }
  }
  return -1;
}

/* Loads outside the lock (loads are slow); a second caller with the same key waits. */
static vg_status load_entry(vg_model_cache *c, const vg_model_spec *spec, const char *key,
                            vg_model **out) {
  int slot;
  while ((slot = mark_loading(c, key)) < 0)
    pthread_cond_wait(&c->loaded, &c->mu);
  pthread_mutex_unlock(&c->mu);
  vg_model *m = NULL;
  vg_status s = vg_model_load(spec, &m);
  cache_entry *e = s == VG_OK ? calloc(1, sizeof *e) : NULL;
  if (s == VG_OK && !e) {
    vg_model_free(m);
    s = vg_set_error(VG_ERR_NO_MEMORY, "out of memory for a model cache entry");
  }
  pthread_mutex_lock(&c->mu);
  c->loading[slot][0] = '\0';
  pthread_cond_broadcast(&c->loaded);
  if (s != VG_OK) return s;
  snprintf(e->key, sizeof e->key, "%s", key);
  e->model = m;
  e->refs = 1;
  e->used = ++c->tick;
  e->next = c->head;
  c->head = e;
  c->count++;
  *out = m;
  return VG_OK;
}

/* Loads in progress (their entries are counted once they are in the table). */
static size_t nloading(const vg_model_cache *c) {
  size_t n = 0;
  for (size_t i = 0; i < sizeof c->loading / sizeof c->loading[0]; i++)
    n += c->loading[i][0] != '\0';
  return n;
}

/* The least recently used entry no one holds, unlinked from the table (lock held); NULL when
 * every entry is held. */
static cache_entry *take_lru_unheld(vg_model_cache *c) {
  cache_entry **best = NULL;
  for (cache_entry **p = &c->head; *p; p = &(*p)->next)
    if ((*p)->refs == 0 && (!best || (*p)->used < (*best)->used)) best = p;
  if (!best) return NULL;
  cache_entry *e = *best;
  *best = e->next;
  c->count--;
  return e;
}

vg_status vg_model_cache_get(vg_model_cache *c, const vg_model_spec *spec, vg_model **out) {
  if (!c || !spec || !out) return vg_set_error(VG_ERR_INVALID_ARG, "vg_model_cache_get: NULL");
  char key[KEY_MAX];
  VG_TRY(vg_model_cache_key(spec, key, sizeof key));
  pthread_mutex_lock(&c->mu);
  vg_status s = VG_OK;
  for (;;) {
    while (is_loading(c, key))
      pthread_cond_wait(&c->loaded, &c->mu);
    cache_entry *e = find(c->head, key);
    if (e) {
      e->refs++;
      e->used = ++c->tick;
      *out = e->model;
      break;
    }
    if (c->count + nloading(c) < c->max_models) {
      s = load_entry(c, spec, key, out);
      break;
    }
    cache_entry *old = take_lru_unheld(c);
    if (!old) {
      s = vg_set_error(VG_ERR_NO_MEMORY,
                       "model cache full (%zu models, every one in use); unload one before "
                       "loading model '%s'",
                       c->max_models, spec->name[0] ? spec->name : spec->path);
      break;
    }
    /* freed without the lock (a session takes a while to release); then look again, since
     * another thread may have loaded this key meanwhile */
    pthread_mutex_unlock(&c->mu);
    vg_log(VG_LOG_INFO, "infer", NULL,
           "model cache full (%zu models): unloaded '%s', which no run held, to load '%s'",
           c->max_models, old->model->spec.name, spec->name[0] ? spec->name : spec->path);
    vg_model_free(old->model);
    free(old);
    pthread_mutex_lock(&c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  return s;
}

static bool unlink_entry(cache_entry **list, cache_entry *e) {
  for (cache_entry **p = list; *p; p = &(*p)->next) {
    if (*p == e) {
      *p = e->next;
      return true;
    }
  }
  return false;
}

static cache_entry *find_model(cache_entry *e, const vg_model *m) {
  for (; e; e = e->next)
    if (e->model == m) return e;
  return NULL;
}

void vg_model_cache_release(vg_model_cache *c, vg_model *m) {
  if (!c || !m) return;
  pthread_mutex_lock(&c->mu);
  cache_entry *e = find_model(c->head, m);
  if (!e) e = find_model(c->detached, m);
  VG_ASSERT(e && e->refs > 0);
  if (e && --e->refs == 0 && e->unloaded) {
    unlink_entry(&c->detached, e);
    vg_model_free(e->model);
    free(e);
  }
  pthread_mutex_unlock(&c->mu);
}

vg_status vg_model_cache_unload(vg_model_cache *c, const vg_model_spec *spec) {
  if (!c || !spec) return vg_set_error(VG_ERR_INVALID_ARG, "vg_model_cache_unload: NULL");
  char key[KEY_MAX];
  VG_TRY(vg_model_cache_key(spec, key, sizeof key));
  pthread_mutex_lock(&c->mu);
  cache_entry *e = find(c->head, key);
  if (!e) {
    pthread_mutex_unlock(&c->mu);
    return vg_set_error(VG_ERR_NOT_FOUND, "model '%s' is not in the cache",
                        spec->name[0] ? spec->name : spec->path);
  }
  unlink_entry(&c->head, e);
  c->count--;
  if (e->refs == 0) {
    vg_model_free(e->model);
    free(e);
  } else {
    e->unloaded = true;
    e->next = c->detached;
    c->detached = e;
  }
  pthread_mutex_unlock(&c->mu);
  return VG_OK;
}

size_t vg_model_cache_count(vg_model_cache *c) {
  pthread_mutex_lock(&c->mu);
  size_t n = c->count;
  pthread_mutex_unlock(&c->mu);
  return n;
}
