#include "reports/plots.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "reports/dot.h"
#include "system/runtime/assert.h"

namespace castle::reports {

namespace {

using history::OpType;

constexpr std::array<OpType, 3> outcomes = {OpType::ok, OpType::fail, OpType::info};

const char* outcome_colour(OpType t) {
  switch (t) {
    case OpType::ok: return "#2a7a2a";
    case OpType::fail: return "#c06000";
    default: return "#7a4fa0";
  }
}

std::size_t bucket_count(const RunView& v, std::int64_t bucket_ns) {
  return static_cast<std::size_t>(v.end_ns / bucket_ns + 1);
}

// Completed operations of one outcome, by the bucket they completed in.
std::vector<std::vector<double>> latencies_ms(const RunView& v, std::int64_t bucket_ns, OpType t) {
  std::vector<std::vector<double>> buckets(bucket_count(v, bucket_ns));
  for (const auto& op : v.ops) {
    if (!op.completed() || op.outcome != t) continue;
    const auto b = static_cast<std::size_t>(op.complete_ns / bucket_ns);
    CASTLE_ASSERT(b < buckets.size(), "a completion after the end of the run");
    buckets[b].push_back(static_cast<double>(op.latency_ns()) / 1e6);
  }
  return buckets;
}

// Nearest-rank percentile of a bucket's latencies.
std::optional<double> percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

void add_fault_shading(const RunView& v, LineChart& c) {
  for (const auto& f : v.faults)
    c.bands.push_back({f.start_ns, f.end_ns, family_colour(fault_family(f.kind)),
                       f.label + " at " + format_time(f.start_ns)});
  if (v.faults_end_ns) c.rules.push_back({*v.faults_end_ns, "#3366cc", "faults stop"});
}

LineChart base_chart(const RunView& v, std::string title, std::string y_label) {
  LineChart c;
  c.title = std::move(title);
  c.y_label = std::move(y_label);
  c.end_ns = v.end_ns;
  c.bucket_ns = plot_bucket_ns(v.end_ns);
  add_fault_shading(v, c);
  return c;
}

}  // namespace

std::int64_t plot_bucket_ns(std::int64_t end_ns) {
  CASTLE_ASSERT(end_ns > 0, "a run has a positive length");
  return round_step(static_cast<double>(end_ns), plot_buckets_target);
}

LineChart throughput_chart(const RunView& v) {
  LineChart c = base_chart(v, "Throughput: operations completed per bucket", "completions per bucket");
  for (OpType t : outcomes) {
    ChartSeries s{history::to_string(t), outcome_colour(t), false, {}};
    for (const auto& bucket : latencies_ms(v, c.bucket_ns, t))
      s.values.push_back(static_cast<double>(bucket.size()));
    c.series.push_back(std::move(s));
  }
  return c;
}

LineChart latency_chart(const RunView& v) {
  LineChart c = base_chart(v, "Latency: p50 (solid) and p99 (dashed) per bucket of completions",
                           "latency ms (log)");
  c.log_y = true;
  for (OpType t : outcomes) {
    const auto buckets = latencies_ms(v, c.bucket_ns, t);
    ChartSeries p50{std::string(history::to_string(t)) + " p50", outcome_colour(t), false, {}};
    ChartSeries p99{std::string(history::to_string(t)) + " p99", outcome_colour(t), true, {}};
    for (const auto& bucket : buckets) {
      p50.values.push_back(percentile(bucket, 0.50));
      p99.values.push_back(percentile(bucket, 0.99));
    }
    c.series.push_back(std::move(p50));
    c.series.push_back(std::move(p99));
  }
  return c;
}

}  // namespace castle::reports
