/* cli.h - the `vidgraph` command: one function per subcommand, each in its own cli_*.c file.
 * A subcommand gets argv with argv[0] = its own name and returns the process exit code. */
#ifndef VIDGRAPH_CLI_H
#define VIDGRAPH_CLI_H

#include "vidgraph/vg_core.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct cli_command {
  const char *name;
  const char *summary;
  int (*main)(int argc, char **argv);
} cli_command;

int cli_version(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_probe(int argc, char **argv);
int cli_models(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_nodes(int argc, char **argv);
int cli_serve(int argc, char **argv);

/* Prints "vidgraph <cmd>: <message>" with the last error to stderr; returns exit code 1. */
int cli_fail(const char *cmd, const char *what);
/* True when arg equals one of the given flag spellings (e.g. "-h", "--help"). */
bool cli_is(const char *arg, const char *a, const char *b);

#endif
