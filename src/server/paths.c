/* paths.c - confinement of file paths named in API requests: a model or media path must resolve
 * (realpath: `..` and symlinks followed) to a file inside one of the configured roots, so a
 * request can never read /etc/passwd or escape through a symlink planted in a root. */
#include "server_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool inside(const char *root, const char *real) {
  size_t n = strlen(root);
  if (strcmp(root, "/") == 0) return true;
  return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

vg_status srv_confine_path(const char roots[][SRV_PATH_MAX], int nroots, const char *path,
                           const char *field, char *out, size_t cap) {
  if (!path || !path[0]) return vg_set_error(VG_ERR_INVALID_ARG, "%s: empty path", field);
  if (strlen(path) >= SRV_PATH_MAX / 2)
    return vg_set_error(VG_ERR_INVALID_ARG, "%s: path too long", field);
  if (nroots == 0)
    return vg_set_error(VG_ERR_INVALID_ARG, "%s: no roots configured for this kind of path", field);
  bool exists_outside = false;
  for (int i = 0; i < nroots; i++) {
    char want[SRV_PATH_MAX], real[PATH_MAX];
    if (path[0] == '/')
      snprintf(want, sizeof want, "%s", path);
    else
      snprintf(want, sizeof want, "%s/%s", roots[i], path);
    if (!realpath(want, real)) continue;
    if (!inside(roots[i], real)) {
      exists_outside = true;
      continue;
    }
    snprintf(out, cap, "%s", real);
    return VG_OK;
  }
  if (exists_outside)
    return vg_set_error(VG_ERR_INVALID_ARG,
                        "%s: '%s' resolves outside the allowed roots (first: %s)", field, path,
                        roots[0]);
  return vg_set_error(VG_ERR_NOT_FOUND, "%s: '%s' not found under the allowed roots (first: %s)",
                      field, path, roots[0]);
}

bool srv_is_network_url(const char *url) {
  static const char *const schemes[] = {"rtsp://",  "rtsps://", "rtmp://", "http://",
                                        "https://", "srt://",   "udp://",  NULL};
  for (int i = 0; schemes[i]; i++)
    if (strncmp(url, schemes[i], strlen(schemes[i])) == 0) return true;
  return false;
}
