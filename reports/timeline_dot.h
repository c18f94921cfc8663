#pragma once
// The timeline picture: one lane per node over simulated time, with every
// fault drawn as an interval (instant faults as a diamond) on the lanes it
// targets, down times seen in the trace, leadership claims, the end of the
// fault phase and the times of the first violation's operations.

#include <string>

#include "reports/run_view.h"

namespace castle::reports {

// Bounds that keep the picture readable and `dot` quick on long runs.
inline constexpr std::size_t timeline_items_max = 1500;
inline constexpr double timeline_width_pt = 960;

std::string timeline_dot(const RunView& v);

}  // namespace castle::reports
