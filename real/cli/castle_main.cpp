// The castle command: one binary, subcommands.
#include <cstdio>
#include <string>
#include <vector>

#include "real/cli/args.h"
#include "real/cli/commands.h"

namespace {

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: castle COMMAND [ARGS]\n"
               "  sim SCENARIO.json --seed N [--check-determinism] [--out DIR] [--bug NAME]...\n"
               "                      run one seed of a scenario in the simulator\n"
               "  sweep SCENARIO.json... --seeds A..B [-j N] [--shard i/n] [--bug NAME]...\n"
               "                      run many seeds, N in parallel; summary table\n"
               "  shrink SCENARIO.json --seed N [--out FILE] [--max-runs K]\n"
               "                      shrink a failing seed to a minimal replayable scenario\n"
               "  replay DIR           re-run a report folder's run and check it is identical\n"
               "  report DIR [--recheck] [--lin-budget-ms N] [--no-lin]\n"
               "                      redraw a run folder's pictures and index.html from its files\n"
               "  check HISTORY.jsonl  run the checkers over a history file\n"
               "  bugs                 list the planted bugs\n"
               "  logsvc serve --listen HOST:PORT --dir DIR\n"
               "  logsvc workload --servers H:P[,H:P...] --count N [--history FILE]\n"
               "                      the proof service as a real process, and a client for it\n"
               "  broker --config server.properties [--override NAME=VALUE]...\n"
               "                      a Kafka broker, configured with Kafka's property names\n"
               "  cluster up|config --brokers N [--controllers K] [--dir DIR] [--port-base P]\n"
               "                      a local cluster of broker processes (config: files only)\n"
               "exit codes: 0 checks hold, 1 safety violation, 2 bad input or usage,\n"
               "            3 liveness violation\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    if (cmd == "sim") return castle::cli::cmd_sim(rest);
    if (cmd == "check") return castle::cli::cmd_check(rest);
    if (cmd == "sweep") return castle::cli::cmd_sweep(rest);
    if (cmd == "shrink") return castle::cli::cmd_shrink(rest);
    if (cmd == "replay") return castle::cli::cmd_replay(rest);
    if (cmd == "report") return castle::cli::cmd_report(rest);
    if (cmd == "bugs") return castle::cli::cmd_bugs(rest);
    if (cmd == "logsvc") return castle::cli::cmd_logsvc(rest);
    if (cmd == "broker") return castle::cli::cmd_broker(rest);
    if (cmd == "cluster") return castle::cli::cmd_cluster(rest);
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
      usage(stdout);
      return 0;
    }
    std::fprintf(stderr, "castle: unknown command '%s'\n", cmd.c_str());
    usage(stderr);
    return 2;
  } catch (const castle::cli::UsageError& e) {
    std::fprintf(stderr, "castle %s: %s\n", cmd.c_str(), e.what());
    return 2;
  }
}
