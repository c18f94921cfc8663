#pragma once
// The cluster picture (laid out by dot), left to right: clients, the keys
// (partitions) the history touched, servers; past cluster_process_boxes_max
// processes without a client node, the least busy share one box. Clients, keys
// and nodes say how many operations they took part in; a client -> key edge is
// as thick as its share of them (counts by outcome in its tooltip). Key ->
// node edges show who serves a key where leadership claims say so (or, failing
// those, a key named after a node, as the proof service's are); node -> node
// edges count traced messages; one dashed edge per pair of nodes names the
// faults that cut (red) or only clogged (yellow) the link between them; a red
// border marks a node that was isolated, and nodes say how often they crashed.

#include <string>

#include "reports/run_view.h"

namespace castle::reports {

inline constexpr std::size_t cluster_cut_edges_max = 80;
inline constexpr std::size_t cluster_process_boxes_max = 12;  // the last one shared by the rest

std::string cluster_dot(const RunView& v);

}  // namespace castle::reports
