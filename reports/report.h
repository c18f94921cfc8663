#pragma once
// Writes a run's folder: report.json (the verdict, numbers, faults and
// anomalies), history.jsonl, trace.jsonl, the pictures (timeline.dot/.svg,
// sequence.dot/.svg, cluster.dot/.svg, throughput.svg, latency.svg) and
// index.html, which shows them all and opens from file:// with no server.

#include <string>

#include "reports/run_facts.h"
#include "reports/run_view.h"
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

// What the pictures and index.html are drawn from, however the run is known
// (write_run_folder: a RunResult; castle report: the folder's files).
struct PageSource {
  const RunFacts& facts;
  const RunView& view;
  const history::History& history;
  bool has_trace = true;   // whether the folder has trace.jsonl and report.json,
  bool has_report = true;  // which the page links to
};

// Writes the pictures and index.html into dir, beside the raw files.
bool write_pages(const std::string& dir, const PageSource& src, std::string* error);

}  // namespace castle::reports
