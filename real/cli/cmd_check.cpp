// castle check history.jsonl: runs the checkers over any history file and
// prints a JSON summary. Exit 0 valid, 1 anomalies, 2 unreadable input.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "checkers/log_checks.h"
#include "real/cli/args.h"
#include "real/cli/commands.h"

namespace castle::cli {

int cmd_check(const std::vector<std::string>& argv) {
  Args args(argv, {}, {});
  if (args.positional().size() != 1) throw UsageError("castle check needs one history.jsonl");
  std::ifstream in(args.positional()[0]);
  if (!in) {
    std::fprintf(stderr, "castle check: cannot open %s\n", args.positional()[0].c_str());
    return 2;
  }
  std::string error;
  auto h = history::History::read_jsonl(in, &error);
  if (!h) {
    std::fprintf(stderr, "castle check: %s: %s\n", args.positional()[0].c_str(), error.c_str());
    return 2;
  }
  auto r = checkers::check_log_history(*h, {});
  nlohmann::json anomalies = nlohmann::json::array();
  for (const auto& a : r.anomalies)
    anomalies.push_back({{"type", a.type}, {"key", a.key}, {"description", a.description}, {"ops", a.ops}});
  nlohmann::json out = {{"valid", r.valid()},
                        {"ops", h->size()},
                        {"acked_sends", r.acked_sends},
                        {"counts", r.counts},
                        {"anomalies", anomalies}};
  std::printf("%s\n", out.dump(2).c_str());
  return r.valid() ? 0 : 1;
}

}  // namespace castle::cli
