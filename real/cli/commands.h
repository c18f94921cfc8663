#pragma once
// The castle subcommands. Each takes the arguments after its name and
// returns the process exit code: 0 checks hold, 1 safety violation, 2 bad
// input or usage, 3 liveness violation.

#include <string>
#include <vector>

namespace castle::cli {

int cmd_sim(const std::vector<std::string>& args);
int cmd_check(const std::vector<std::string>& args);
int cmd_bugs(const std::vector<std::string>& args);
int cmd_logsvc(const std::vector<std::string>& args);
int cmd_broker(const std::vector<std::string>& args);
int cmd_cluster(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args);
int cmd_shrink(const std::vector<std::string>& args);
int cmd_replay(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);

}  // namespace castle::cli
