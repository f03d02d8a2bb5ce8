/* procstat.c - the process's own resource figures (resident memory, open file descriptors,
 * threads) read from /proc/self, for soak runs and leak checks over long runs. */
#include "vidgraph/vg_core.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Entries of a /proc folder, "." and ".." left out; -1 when it cannot be read. */
static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

vg_status vg_proc_stats_read(vg_proc_stats *out) {
  if (!out) return vg_set_error(VG_ERR_INVALID_ARG, "vg_proc_stats_read: NULL argument");
  memset(out, 0, sizeof *out);
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return vg_set_error(VG_ERR_UNSUPPORTED, "cannot read /proc/self/statm: %s", strerror(errno));
  long long size = 0, resident = 0;
  int got = fscanf(f, "%lld %lld", &size, &resident);
  fclose(f);
  if (got != 2) return vg_set_error(VG_ERR_PARSE, "/proc/self/statm: unexpected contents");
  long page = sysconf(_SC_PAGESIZE);
  out->rss_bytes = (int64_t)resident * (page > 0 ? page : 4096);
  /* the folder handle opendir holds is one of the fds counted: leave it out */
  int fds = count_entries("/proc/self/fd");
  out->open_fds = fds > 0 ? fds - 1 : fds;
  out->threads = count_entries("/proc/self/task");
  return VG_OK;
}
