/* fuzz_shm_ref.c - libFuzzer target: shared-memory references of `vidgraph serve`
 * (src/server/shm.c). The input is reference JSON. It is parsed on its own
 * (vg_shm_ref_parse_text); an accepted reference must survive a round trip through
 * vg_shm_ref_to_json unchanged. Then it is resolved against a registry holding one 64 KiB region
 * (the name "/fuzz" in the input stands for it): an accepted view must lie inside the region, which
 * is checked by reading its first and last byte. */
#include "fuzz_util.h"
#include "server/shm.h"

#define REGION_BYTES (64 * 1024)

static vg_shm_registry *g_reg;
static char g_name[VG_SHM_NAME_MAX + 1];

static void setup(void) {
  if (g_reg) return;
  fuzz_quiet();
  if (vg_shm_registry_create(NULL, &g_reg) != VG_OK ||
      vg_shm_create(g_reg, REGION_BYTES, g_name, sizeof g_name) != VG_OK) {
    fprintf(stderr, "fuzz_shm_ref: cannot create the test region: %s\n", vg_last_error());
    abort();
  }
}

static void round_trip(const vg_shm_ref *ref) {
  json_t *j = vg_shm_ref_to_json(ref);
  if (!j) abort();
  vg_shm_ref again;
  if (vg_shm_ref_parse(j, &again) != VG_OK) abort(); /* what we write we must read */
  if (again.offset != ref->offset || again.bytes != ref->bytes || again.ndim != ref->ndim ||
      again.extent != ref->extent || again.format != ref->format || again.dtype != ref->dtype)
    abort();
  json_decref(j);
}

static void resolve(const uint8_t *data, size_t size) {
  json_t *obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
  if (!obj) return;
  json_t *name = json_object_get(obj, "shm_name");
  if (json_is_string(name) && strcmp(json_string_value(name), "/fuzz") == 0)
    json_object_set_new(obj, "shm_name", json_string(g_name));
  vg_shm_view v;
  if (vg_shm_ref_resolve(g_reg, obj, &v) == VG_OK) {
    if (v.ref.offset + v.ref.extent > REGION_BYTES || v.ref.extent == 0) abort();
    const volatile uint8_t *p = v.data;
    (void)p[0];
    (void)p[v.ref.extent - 1];
    vg_shm_view_release(&v);
  }
  json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  vg_shm_ref ref;
  if (vg_shm_ref_parse_text((const char *)data, size, &ref) == VG_OK)
    round_trip(&ref);
  else if (vg_last_error()[0] == '\0')
    abort();
  resolve(data, size);
  return 0;
}
