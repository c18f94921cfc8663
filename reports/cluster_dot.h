#pragma once
// The cluster picture (laid out by dot): servers, clients and the keys
// (partitions) the history touched; client -> key edges with operation
// counts; key -> node edges where leadership claims (or, failing those, a
// key named after a node, as the proof service's are) say who serves a key;
// node -> node edges for traced messages; and the cuts the nemesis injected,
// as dashed red edges (split, oneway, bridge), dashed yellow (clog), or a
// red border on a node that was isolated. Nodes that crashed say how often.

#include <string>

#include "reports/run_view.h"

namespace castle::reports {

inline constexpr std::size_t cluster_cut_edges_max = 80;

std::string cluster_dot(const RunView& v);

}  // namespace castle::reports
