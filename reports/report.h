#pragma once
// Writes a run's folder: report.json (the verdict, numbers, faults and
// anomalies), history.jsonl, trace.jsonl, the pictures (timeline.dot/.svg,
// sequence.dot/.svg, cluster.dot/.svg, throughput.svg, latency.svg) and
// index.html, which shows them all and opens from file:// with no server.

#include <string>

#include "scenarios/run.h"
#include "scenarios/scenario.h"

namespace castle::reports {

// The command that reproduces a run.
std::string reproduce_command(const std::string& scenario_path, std::uint64_t seed,
                              const scenarios::Scenario& s);

// Returns false (with *error) if the folder cannot be written.
bool write_run_folder(const std::string& dir, const std::string& scenario_path,
                      const scenarios::Scenario& s, const scenarios::RunResult& r,
                      std::string* error);

std::string hex64(std::uint64_t v);

}  // namespace castle::reports
