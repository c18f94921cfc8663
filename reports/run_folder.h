#pragma once
// Re-renders a run folder from its files alone, without running anything
// again: `castle report DIR`. The pictures and index.html are drawn by the
// same code as `castle sim --out` (report.h write_pages), from a RunFacts
// and a RunView read back from
//   history.jsonl   required: the operations
//   report.json     the verdict, numbers, faults and anomalies (optional)
//   scenario.json   the cluster's node names, the fault phase (optional)
//   trace.jsonl     down times, leadership, messages (optional)
// A folder with no report.json (a bare history, e.g. from a real cluster)
// gets its anomalies from every history checker (checkers/check_all.h), as
// `castle check` would find them. Raw files are only read, never rewritten.

#include <string>

#include "checkers/check_all.h"
#include "reports/run_facts.h"

namespace castle::reports {

struct RebuildOptions {
  checkers::AllCheckOptions check;
  // Run the checkers even when report.json has anomalies (e.g. after
  // editing history.jsonl); the page then shows theirs.
  bool recheck = false;
};

// Returns false with *error naming the missing or broken file (and line or
// field) when dir is not a readable run folder, or a file cannot be written.
// On success *facts holds what the page shows (verdict, anomalies).
bool rebuild_run_folder(const std::string& dir, const RebuildOptions& options, RunFacts* facts,
                        std::string* error);

}  // namespace castle::reports
