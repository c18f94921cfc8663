#pragma once
// Throughput and latency over simulated time, from the history: completions
// per time bucket, and the 50th and 99th latency percentiles per bucket,
// each split by outcome (ok, fail, info), with the faults shaded behind.

#include <string>

#include "reports/line_chart_svg.h"
#include "reports/run_view.h"

namespace castle::reports {

inline constexpr std::int64_t plot_buckets_target = 80;

// A round bucket width (1, 2 or 5 times a power of ten) giving about
// plot_buckets_target buckets over the run.
std::int64_t plot_bucket_ns(std::int64_t end_ns);

LineChart throughput_chart(const RunView& v);
LineChart latency_chart(const RunView& v);

}  // namespace castle::reports
