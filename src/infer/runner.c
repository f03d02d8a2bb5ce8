/* runner.c - a model's own thread (issue 12): every run of a model on a GPU provider happens on
 * one thread that the model owns, the warm-up included.
 *
 * Why: ONNX Runtime's CUDA provider keeps per-thread state (cuDNN/cuBLAS handles, and cuDNN its
 * execution plans with them). Measured on the H200 (docs/PERF.md), a model warmed on the thread
 * that loaded it still paid 150 ms to 2.2 s on its first runs per shape on the graph's CUDA
 * worker, and warming again on each calling thread doubled the start-up (rec: 13 s at load +
 * 6.6 s on the worker). With one thread per model, the warm-up at load is the only one, whichever
 * scheduler worker, server request or bench loop calls the model later.
 *
 * The caller holds the model's lock for the whole call, so at most one job is pending: a job
 * slot, a mutex and a condition variable are all the runner needs. Errors are carried back with
 * their message and re-raised on the caller's thread (messages are per thread). */
#include "infer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vg_model_runner {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  vg_status (*fn)(vg_model *, void *);
  void *arg;
  vg_model *m;
  bool pending, done, quit;
  vg_status rs;
  char msg[2048];
};

static void *runner_main(void *p) {
  vg_model_runner *r = p;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while (!r->pending && !r->quit)
      pthread_cond_wait(&r->cv, &r->mu);
    if (!r->pending) break; /* quit with nothing pending */
    vg_status (*fn)(vg_model *, void *) = r->fn;
    void *arg = r->arg;
    pthread_mutex_unlock(&r->mu);
    vg_clear_error();
    vg_status rs = fn(r->m, arg);
    pthread_mutex_lock(&r->mu);
    r->rs = rs;
    if (rs != VG_OK) snprintf(r->msg, sizeof r->msg, "%s", vg_last_error());
    r->pending = false;
    r->done = true;
    pthread_cond_broadcast(&r->cv);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

bool vg_runner_wanted(const vg_model *m) {
  if (m->spec.own_thread == 0) return false;
  if (m->spec.own_thread == 1) return true;
  return m->report.used != VG_PROVIDER_CPU; /* auto: GPU providers keep per-thread state */
}

vg_status vg_runner_start(vg_model *m) {
  if (m->runner) return VG_OK;
  vg_model_runner *r = calloc(1, sizeof *r);
  if (!r) return vg_set_error(VG_ERR_NO_MEMORY, "model '%s': out of memory for its thread",
                              m->spec.name);
  r->m = m;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  int e = pthread_create(&r->thread, NULL, runner_main, r);
  if (e) {
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return vg_set_error(VG_ERR_INTERNAL, "model '%s': cannot start its thread: %s (own_thread: "
                        "false runs it on the caller's threads)", m->spec.name, strerror(e));
  }
  m->runner = r;
  return VG_OK;
}

void vg_runner_stop(vg_model *m) {
  vg_model_runner *r = m->runner;
  if (!r) return;
  pthread_mutex_lock(&r->mu);
  r->quit = true;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  free(r);
  m->runner = NULL;
}

vg_status vg_runner_call(vg_model *m, vg_status (*fn)(vg_model *, void *), void *arg) {
  vg_model_runner *r = m->runner;
  if (!r || pthread_equal(pthread_self(), r->thread)) return fn(m, arg);
  pthread_mutex_lock(&r->mu);
  r->fn = fn;
  r->arg = arg;
  r->done = false;
  r->pending = true;
  pthread_cond_broadcast(&r->cv);
  while (!r->done)
    pthread_cond_wait(&r->cv, &r->mu);
  vg_status rs = r->rs;
  char msg[sizeof r->msg];
  memcpy(msg, r->msg, sizeof msg);
  pthread_mutex_unlock(&r->mu);
  m->runner_calls++;
  if (rs != VG_OK) return vg_set_error(rs, "%s", msg);
  return VG_OK;
}
