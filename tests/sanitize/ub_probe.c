/* ub_probe.c - a tiny program (not part of the library) that commits, on purpose, the kind of
 * fault named by its argument, so that the sanitizer build proves its flags: with
 * -fno-sanitize-recover=all, halt_on_error and leak detection, each run must die with a report.
 *   ubsan  signed overflow and qsort(NULL, 0) (the dbnet.c:212 class of report)
 *   asan   a heap read one past the end
 *   leak   a block that is never freed */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv) {
  const char *kind = argc > 1 ? argv[1] : "";
  if (strcmp(kind, "ubsan") == 0) {
    volatile int big = INT_MAX;
    int *none = argc > 5 ? (int *)argv : NULL; /* NULL, unknown to the compiler */
    qsort(none, 0, sizeof(int), cmp);
    printf("%d\n", big + argc); /* signed overflow */
    return 0;
  }
  if (strcmp(kind, "asan") == 0) {
    char *p = malloc(8);
    memset(p, 1, 8);
    volatile char c = p[argc + 7]; /* 8 or more: past the end */
    printf("%d\n", c);
    free(p);
    return 0;
  }
  if (strcmp(kind, "leak") == 0) {
    void *volatile p = malloc(4096);
    memset(p, 1, 4096);
    p = NULL;
    printf("leaked\n");
    return 0;
  }
  fprintf(stderr, "usage: vg_ub_probe ubsan|asan|leak\n");
  return 2;
}
