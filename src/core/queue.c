/* queue.c - bounded blocking MPMC queue of pointers with timeouts and close. The unit of
 * backpressure in streaming graphs: a full queue stops its producer instead of growing. */
#include "vidgraph/vg_core.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct vg_queue {
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  void **items;
  size_t cap, head, count;
  bool closed;
};

vg_status vg_queue_create(size_t capacity, vg_queue **out) {
  *out = NULL;
  if (capacity == 0 || capacity > (1u << 24))
    return vg_set_error(VG_ERR_INVALID_ARG, "queue capacity %zu outside 1..16777216", capacity);
  vg_queue *q = calloc(1, sizeof *q);
  void **items = calloc(capacity, sizeof *items);
  if (!q || !items) {
    free(q);
    free(items);
    return vg_set_error(VG_ERR_NO_MEMORY, "out of memory creating a queue of %zu", capacity);
  }
  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->not_empty, &ca);
  pthread_cond_init(&q->not_full, &ca);
  pthread_condattr_destroy(&ca);
  q->items = items;
  q->cap = capacity;
  *out = q;
  return VG_OK;
}

void vg_queue_destroy(vg_queue *q) {
  if (!q) return;
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->not_empty);
  pthread_cond_destroy(&q->not_full);
  free(q->items);
  free(q);
}

static void deadline_in(int timeout_ms, struct timespec *ts) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += timeout_ms / 1000;
  ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

static bool can_push(const vg_queue *q) {
  return q->closed || q->count < q->cap;
}

static bool can_pop(const vg_queue *q) {
  return q->closed || q->count > 0;
}

/* Waits on cv until pred(q) holds or the timeout passes (<0: forever); the lock is held.
 * Returns false on timeout. */
static bool wait_for(vg_queue *q, pthread_cond_t *cv, bool (*pred)(const vg_queue *),
                     int timeout_ms) {
  struct timespec dl;
  if (timeout_ms >= 0) deadline_in(timeout_ms, &dl);
  while (!pred(q)) {
    int rc =
        timeout_ms >= 0 ? pthread_cond_timedwait(cv, &q->mu, &dl) : pthread_cond_wait(cv, &q->mu);
    if (rc == ETIMEDOUT) return pred(q);
  }
  return true;
}

vg_status vg_queue_push(vg_queue *q, void *item, int timeout_ms) {
  pthread_mutex_lock(&q->mu);
  bool ok = wait_for(q, &q->not_full, can_push, timeout_ms);
  if (q->closed) {
    pthread_mutex_unlock(&q->mu);
    return vg_set_error(VG_ERR_STATE, "push on a closed queue");
  }
  if (!ok) {
    pthread_mutex_unlock(&q->mu);
    return vg_set_error(VG_ERR_TIMEOUT, "queue full for %d ms", timeout_ms);
  }
  q->items[(q->head + q->count) % q->cap] = item;
  q->count++;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
  return VG_OK;
}

vg_status vg_queue_try_push(vg_queue *q, void *item) {
  return vg_queue_push(q, item, 0);
}

vg_status vg_queue_pop(vg_queue *q, void **item, int timeout_ms) {
  *item = NULL;
  pthread_mutex_lock(&q->mu);
  wait_for(q, &q->not_empty, can_pop, timeout_ms);
  if (q->count == 0) {
    bool closed = q->closed;
    pthread_mutex_unlock(&q->mu);
    if (closed) return VG_ERR_EOF;
    return vg_set_error(VG_ERR_TIMEOUT, "queue empty for %d ms", timeout_ms);
  }
  *item = q->items[q->head];
  q->head = (q->head + 1) % q->cap;
  q->count--;
  pthread_cond_signal(&q->not_full);
  pthread_mutex_unlock(&q->mu);
  return VG_OK;
}

void vg_queue_close(vg_queue *q) {
  pthread_mutex_lock(&q->mu);
  q->closed = true;
  pthread_cond_broadcast(&q->not_empty);
  pthread_cond_broadcast(&q->not_full);
  pthread_mutex_unlock(&q->mu);
}

size_t vg_queue_size(vg_queue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->count;
  pthread_mutex_unlock(&q->mu);
  return n;
}

size_t vg_queue_capacity(const vg_queue *q) {
  return q->cap;
}
