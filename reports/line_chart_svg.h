#pragma once
// A small line chart written directly as SVG (no plotting library): time
// buckets on x, one polyline per series (broken where a bucket has no
// value), shaded bands for fault intervals and vertical rules for marks.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace castle::reports {

struct ChartSeries {
  std::string name;
  std::string colour;
  bool dashed = false;
  std::vector<std::optional<double>> values;  // one per bucket
};

struct ChartBand {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::string colour;
  std::string title;  // shown as a tooltip
};

struct ChartRule {
  std::int64_t time_ns = 0;
  std::string colour;
  std::string label;
};

struct LineChart {
  std::string title;
  std::string y_label;
  std::int64_t end_ns = 1;
  std::int64_t bucket_ns = 1;
  bool log_y = false;  // values must then be > 0
  std::vector<ChartSeries> series;
  std::vector<ChartBand> bands;
  std::vector<ChartRule> rules;
};

inline constexpr double chart_width_px = 960;
inline constexpr double chart_height_px = 280;

std::string line_chart_svg(const LineChart& c);

// Escapes text for SVG and HTML: &, <, >, ".
std::string xml_escape(const std::string& s);

}  // namespace castle::reports
