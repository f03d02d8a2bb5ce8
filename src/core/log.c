/* log.c - JSON-lines logger: per-component level filter, file or stderr sink, and rate
 * limiting of repeated messages so that a failing path cannot flood the log.
 *
 * The logger is the one process-wide object of the core layer; it holds no per-run data. */
#include "vidgraph/vg_core.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_COMPONENT_LEVELS 32
#define RATE_SLOTS 256

typedef struct {
  char component[32];
  vg_log_level level;
} comp_level;

typedef struct {
  char key[160]; /* the message with digit runs folded to '#': "frame # corrupt" */
  char component[32];
  int64_t window_start_ns;
  unsigned count;
  unsigned suppressed;
  char last_msg[160];
} rate_slot;

static struct {
  pthread_mutex_t mu;
  FILE *out; /* NULL = stderr */
  vg_log_level default_level;
  comp_level levels[MAX_COMPONENT_LEVELS];
  int nlevels;
  unsigned first_n;
  int64_t window_ns;
  rate_slot slots[RATE_SLOTS];
} g_log = {.mu = PTHREAD_MUTEX_INITIALIZER,
           .default_level = VG_LOG_INFO,
           .first_n = 5,
           .window_ns = 10000000000LL};

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "off"};

const char *vg_log_level_name(vg_log_level level) {
  if ((int)level < 0 || level > VG_LOG_OFF) return "unknown";
  return level_names[level];
}

vg_status vg_log_level_parse(const char *text, vg_log_level *out) {
  for (int i = 0; i <= VG_LOG_OFF; i++) {
    if (text && strcmp(text, level_names[i]) == 0) {
      *out = (vg_log_level)i;
      return VG_OK;
    }
  }
  if (text && strcmp(text, "warning") == 0) {
    *out = VG_LOG_WARN;
    return VG_OK;
  }
  return vg_set_error(VG_ERR_INVALID_ARG,
                      "unknown log level '%s' (use trace, debug, info, warn, error or off)",
                      text ? text : "(null)");
}

char *vg_json_escape(const char *s, char *out, size_t cap) {
  size_t j = 0;
  if (cap == 0) return out;
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && j + 7 < cap; p++) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      out[j++] = '\\';
      out[j++] = (char)c;
    } else if (c == '\n') {
      out[j++] = '\\';
      out[j++] = 'n';
    } else if (c == '\t') {
      out[j++] = '\\';
      out[j++] = 't';
    } else if (c == '\r') {
      out[j++] = '\\';
      out[j++] = 'r';
    } else if (c < 0x20) {
      j += (size_t)snprintf(out + j, cap - j, "\\u%04x", c);
    } else {
      out[j++] = (char)c;
    }
  }
  out[j] = '\0';
  return out;
}

static vg_log_level level_for(const char *component) {
  for (int i = 0; i < g_log.nlevels; i++)
    if (component && strcmp(g_log.levels[i].component, component) == 0)
      return g_log.levels[i].level;
  return g_log.default_level;
}

vg_log_level vg_log_get_level(const char *component) {
  pthread_mutex_lock(&g_log.mu);
  vg_log_level l = component ? level_for(component) : g_log.default_level;
  pthread_mutex_unlock(&g_log.mu);
  return l;
}

void vg_log_set_level(const char *component, vg_log_level level) {
  pthread_mutex_lock(&g_log.mu);
  if (!component) {
    g_log.default_level = level;
  } else {
    int i;
    for (i = 0; i < g_log.nlevels; i++)
      if (strcmp(g_log.levels[i].component, component) == 0) break;
    if (i == g_log.nlevels && g_log.nlevels < MAX_COMPONENT_LEVELS) {
      snprintf(g_log.levels[i].component, sizeof g_log.levels[i].component, "%s", component);
      g_log.nlevels++;
    }
    if (i < MAX_COMPONENT_LEVELS) g_log.levels[i].level = level;
  }
  pthread_mutex_unlock(&g_log.mu);
}

void vg_log_set_rate_limit(unsigned first_n, unsigned window_ms) {
  pthread_mutex_lock(&g_log.mu);
  g_log.first_n = first_n;
  g_log.window_ns = (int64_t)window_ms * 1000000LL;
  memset(g_log.slots, 0, sizeof g_log.slots);
  pthread_mutex_unlock(&g_log.mu);
}

vg_status vg_log_set_file(const char *path) {
  FILE *f = NULL;
  if (path) {
    f = fopen(path, "a");
    if (!f) return vg_set_error(VG_ERR_IO, "cannot open log file '%s': %s", path, strerror(errno));
    setvbuf(f, NULL, _IOLBF, 0);
  }
  pthread_mutex_lock(&g_log.mu);
  if (g_log.out) fclose(g_log.out);
  g_log.out = f;
  pthread_mutex_unlock(&g_log.mu);
  return VG_OK;
}

static void write_line(vg_log_level level, const char *component, const char *fields,
                       const char *msg) {
  char ts[40];
  int64_t now = vg_wall_ns();
  time_t secs = (time_t)(now / 1000000000LL);
  struct tm tmv;
  gmtime_r(&secs, &tmv);
  size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tmv);
  snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)((now / 1000000LL) % 1000));
  char emsg[2048], ecomp[64];
  vg_json_escape(msg, emsg, sizeof emsg);
  vg_json_escape(component, ecomp, sizeof ecomp);
  FILE *out = g_log.out ? g_log.out : stderr;
  fprintf(out, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"msg\":\"%s\"%s%s}\n", ts,
          level_names[level], ecomp, emsg, (fields && fields[0]) ? "," : "",
          (fields && fields[0]) ? fields : "");
}

static void flush_slot(rate_slot *s) {
  if (s->suppressed > 0) {
    char msg[320], fields[64];
    snprintf(msg, sizeof msg, "suppressed %u repeats of: %s", s->suppressed, s->last_msg);
    snprintf(fields, sizeof fields, "\"suppressed\":%u", s->suppressed);
    write_line(VG_LOG_WARN, s->component, fields, msg);
    s->suppressed = 0;
  }
}

/* Messages that differ only in numbers count as the same message. */
static void message_key(const char *msg, char *key, size_t cap) {
  size_t j = 0;
  for (const char *p = msg; *p && j + 1 < cap; p++) {
    if (*p >= '0' && *p <= '9') {
      if (j == 0 || key[j - 1] != '#') key[j++] = '#';
    } else {
      key[j++] = *p;
    }
  }
  key[j] = '\0';
}

/* Returns true when the message may be written; updates the slot. Called with the lock held. */
static bool rate_admit(const char *component, const char *msg) {
  if (g_log.first_n == 0) return true;
  char key[160];
  message_key(msg, key, sizeof key);
  uint64_t h = vg_hash64(component, strlen(component), VG_HASH_SEED);
  h = vg_hash64(key, strlen(key), h);
  rate_slot *s = &g_log.slots[h % RATE_SLOTS];
  int64_t now = vg_now_ns();
  bool same = strcmp(s->key, key) == 0 && strcmp(s->component, component) == 0;
  if (!same || now - s->window_start_ns > g_log.window_ns) {
    flush_slot(s);
    snprintf(s->key, sizeof s->key, "%s", key);
    snprintf(s->component, sizeof s->component, "%s", component);
    s->window_start_ns = now;
    s->count = 0;
  }
  if (s->count < g_log.first_n) {
    s->count++;
    return true;
  }
  s->suppressed++;
  snprintf(s->last_msg, sizeof s->last_msg, "%s", msg);
  return false;
}

void vg_logv(vg_log_level level, const char *component, const char *fields_json, const char *fmt,
             va_list ap) {
  if (!component) component = "vidgraph";
  if (level >= VG_LOG_OFF || (int)level < 0) return;
  pthread_mutex_lock(&g_log.mu);
  if (level < level_for(component)) {
    pthread_mutex_unlock(&g_log.mu);
    return;
  }
  char msg[1536];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (rate_admit(component, msg)) write_line(level, component, fields_json, msg);
  pthread_mutex_unlock(&g_log.mu);
}

void vg_log(vg_log_level level, const char *component, const char *fields_json, const char *fmt,
            ...) {
  va_list ap;
  va_start(ap, fmt);
  vg_logv(level, component, fields_json, fmt, ap);
  va_end(ap);
}

void vg_log_flush(void) {
  pthread_mutex_lock(&g_log.mu);
  for (int i = 0; i < RATE_SLOTS; i++)
    flush_slot(&g_log.slots[i]);
  fflush(g_log.out ? g_log.out : stderr);
  pthread_mutex_unlock(&g_log.mu);
}
