#include "real/cli/sim_common.h"

#include <fstream>

#include "real/cli/args.h"
#include "scenarios/run.h"
#include "system/broker/broker.h"
#include "system/client/config.h"
#include "system/logsvc/server.h"

namespace castle::cli {

namespace {

void check_bugs(const scenarios::Scenario& s) {
  for (const auto& b : s.bugs) {
    bool known = false;
    for (const auto& [name, why] : logsvc::planted_bugs()) known |= name == b;
    for (const auto& [name, why] : broker::planted_bugs()) known |= name == b;
    for (const auto& [name, why] : broker::cluster_planted_bugs()) known |= name == b;
    for (const auto& [name, why] : client::planted_bugs()) known |= name == b;
    if (!known) throw UsageError("unknown planted bug '" + b + "' (castle bugs lists them)");
  }
}

}  // namespace

scenarios::Scenario load_checked(const std::string& path, const std::vector<std::string>& bugs) {
  scenarios::ParseError err;
  auto s = scenarios::load_scenario(path, &err);
  if (!s || !scenarios::validate_targets(*s, &err))
    throw BadScenario("bad scenario " + path + ": " + err.to_string());
  for (const auto& b : bugs) s->bugs.insert(b);
  check_bugs(*s);
  return *s;
}

bool write_text_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  return static_cast<bool>(f);
}

}  // namespace castle::cli
