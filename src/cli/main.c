/* main.c - entry point of the `vidgraph` command: dispatches to the subcommands. Adding a
 * subcommand is one cli_<name>.c file plus one line in the table below. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const cli_command commands[] = {
    {"run", "run GRAPH.yaml [--input URL]... [--output DIR] [--device D] [--set k=v]...", cli_run},
    {"nodes", "the node types this build knows, with their ports and devices", cli_nodes},
    {"version", "print versions, build options and devices", cli_version},
    {"check", "preflight: devices, ONNX Runtime providers, NVDEC, models of a config", cli_check},
    {"probe", "probe URL [--count] [--json]: a source as vidgraph sees it", cli_probe},
    {"models", "models inspect MODEL: inputs, outputs, metadata, usable providers", cli_models},
    {"bench", "inference latency of a model (trtexec style)", cli_bench},
    {"serve", "HTTP API, event streams, metrics and dashboard (docs/API.md)", cli_serve},
};

static void usage(FILE *out) {
  fprintf(out, "usage: vidgraph <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n  vidgraph --version      same as `vidgraph version`\n"
               "  vidgraph <command> --help\n"
               "\nenvironment: VG_LOG_LEVEL=trace|debug|info|warn|error|off, VG_LOG_FILE=path\n");
}

int cli_fail(const char *cmd, const char *what) {
  const char *e = vg_last_error();
  fprintf(stderr, "vidgraph %s: %s%s%s\n", cmd, what, e[0] ? ": " : "", e);
  return 1;
}

bool cli_is(const char *arg, const char *a, const char *b) {
  return (a && strcmp(arg, a) == 0) || (b && strcmp(arg, b) == 0);
}

static void setup_logging(void) {
  const char *lvl = getenv("VG_LOG_LEVEL");
  vg_log_level l;
  vg_log_set_level(NULL, VG_LOG_WARN);
  if (lvl && vg_log_level_parse(lvl, &l) == VG_OK) vg_log_set_level(NULL, l);
  const char *file = getenv("VG_LOG_FILE");
  if (file && vg_log_set_file(file) != VG_OK)
    fprintf(stderr, "vidgraph: %s (logging to stderr)\n", vg_last_error());
}

int main(int argc, char **argv) {
  setup_logging();
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (cli_is(cmd, "--version", "-V")) cmd = "version";
  if (cli_is(cmd, "--help", "-h") || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(commands[i].name, cmd) == 0) {
      int rc = commands[i].main(argc - 1, argv + 1);
      vg_log_flush();
      return rc;
    }
  }
  fprintf(stderr, "vidgraph: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return 2;
}
