#pragma once
// The message sequence chart: lanes for the client processes, the keys
// (partitions) they address and the nodes that faulted or traced, and rows
// in time order. Each operation is a request arrow at its invoke and a reply
// arrow at its completion, labelled with its history index (#N). The chart
// centres on the first violation's operations, each with a few operations
// around it; a passing run centres on the last fault instead (or the end).
// Faults and trace events in the same stretch of time appear on their
// nodes' lanes; a trace event with a "to"/"peer" field is an arrow.

#include <cstddef>
#include <string>
#include <vector>

#include "reports/run_view.h"

namespace castle::reports {

// Bounds on what the chart shows, so a violation deep in a long run still
// gives a picture one can read.
inline constexpr std::size_t sequence_focus_ops_max = 6;
inline constexpr std::size_t sequence_context_ops = 6;  // on each side of a focus op
inline constexpr std::size_t sequence_notes_max = 24;   // trace/fault rows per stretch

// The ops positions (into RunView::ops) the chart centres on.
std::vector<std::size_t> sequence_focus(const RunView& v);

std::string sequence_dot(const RunView& v);

}  // namespace castle::reports
