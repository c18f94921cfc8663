#pragma once
// What the simulator subcommands (sim, sweep, shrink, replay) share:
// loading a scenario with clear errors and checking planted-bug names.

#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace castle::cli {

// A scenario file that cannot be used: the message names the file and field.
class BadScenario : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Loads and validates a scenario, adding planted bugs by name. Throws
// BadScenario (exit 2) for a bad file or field, UsageError for an unknown bug.
scenarios::Scenario load_checked(const std::string& path, const std::vector<std::string>& bugs = {});

// Writes text to a file; false on failure.
bool write_text_file(const std::string& path, const std::string& text);

}  // namespace castle::cli
