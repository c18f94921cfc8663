#include "reports/line_chart_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "reports/run_view.h"
#include "system/runtime/assert.h"

namespace castle::reports {

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

namespace {

constexpr double left_px = 70, right_px = 170, top_px = 30, bottom_px = 40;  // margins
constexpr double plot_w = chart_width_px - left_px - right_px;
constexpr double plot_h = chart_height_px - top_px - bottom_px;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string label_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v >= 100 || v == std::floor(v) ? "%.0f" : "%.2g", v);
  return buf;
}

// The y range and its ticks: decades when logarithmic, else 0 to a round max.
struct YScale {
  bool log = false;
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  double y(double v) const {
    const double f = log ? (std::log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo);
    return top_px + plot_h * (1 - std::clamp(f, 0.0, 1.0));
  }
};

YScale y_scale(const LineChart& c) {
  double lo = INFINITY, hi = 0;
  for (const auto& s : c.series)
    for (const auto& v : s.values)
      if (v && (!c.log_y || *v > 0)) lo = std::min(lo, *v), hi = std::max(hi, *v);
  YScale ys;
  ys.log = c.log_y;
  if (c.log_y) {
    ys.lo = std::isfinite(lo) ? std::floor(std::log10(lo)) : 0;
    ys.hi = std::max(ys.lo + 1, std::ceil(std::log10(std::max(hi, 1e-9))));
    for (double d = ys.lo; d <= ys.hi; d += 1) ys.ticks.push_back(std::pow(10.0, d));
    return ys;
  }
  const double raw = std::max(hi, 1.0) / 4;
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  double step = decade;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (decade * m >= raw) { step = decade * m; break; }
  ys.hi = step * std::ceil(std::max(hi, 1.0) / step);
  for (double t = 0; t <= ys.hi + step / 2; t += step) ys.ticks.push_back(t);
  return ys;
}

double x_of(const LineChart& c, double ns) {
  return left_px + plot_w * std::clamp(ns / static_cast<double>(c.end_ns), 0.0, 1.0);
}

std::string bands_and_rules(const LineChart& c) {
  std::string out;
  for (const auto& b : c.bands) {
    const double x0 = x_of(c, static_cast<double>(b.start_ns));
    const double w = std::max(1.5, x_of(c, static_cast<double>(b.end_ns)) - x0);
    out += "<rect x=\"" + num(x0) + "\" y=\"" + num(top_px) + "\" width=\"" + num(w) + "\" height=\"" +
           num(plot_h) + "\" fill=\"" + b.colour + "\" fill-opacity=\"0.28\"><title>" +
           xml_escape(b.title) + "</title></rect>\n";
  }
  for (const auto& r : c.rules) {
    const double x = x_of(c, static_cast<double>(r.time_ns));
    out += "<line x1=\"" + num(x) + "\" y1=\"" + num(top_px) + "\" x2=\"" + num(x) + "\" y2=\"" +
           num(top_px + plot_h) + "\" stroke=\"" + r.colour + "\" stroke-dasharray=\"4 3\"/>\n";
    out += "<text x=\"" + num(x) + "\" y=\"" + num(top_px - 3) + "\" text-anchor=\"middle\" fill=\"" +
           r.colour + "\" font-size=\"10\">" + xml_escape(r.label) + "</text>\n";
  }
  return out;
}

std::string axes(const LineChart& c, const YScale& ys) {
  std::string out = "<rect x=\"" + num(left_px) + "\" y=\"" + num(top_px) + "\" width=\"" + num(plot_w) +
                    "\" height=\"" + num(plot_h) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  for (double t : ys.ticks) {
    const double y = ys.y(t);
    out += "<line x1=\"" + num(left_px - 4) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left_px + plot_w) +
           "\" y2=\"" + num(y) + "\" stroke=\"#e3e3e3\"/>\n";
    out += "<text x=\"" + num(left_px - 6) + "\" y=\"" + num(y + 3) +
           "\" text-anchor=\"end\" font-size=\"10\">" + label_value(t) + "</text>\n";
  }
  const std::int64_t step = round_step(static_cast<double>(c.end_ns), 10);
  for (std::int64_t ns = 0; ns <= c.end_ns; ns += step) {
    const double x = x_of(c, static_cast<double>(ns));
    out += "<line x1=\"" + num(x) + "\" y1=\"" + num(top_px + plot_h) + "\" x2=\"" + num(x) + "\" y2=\"" +
           num(top_px + plot_h + 4) + "\" stroke=\"#333\"/>\n";
    out += "<text x=\"" + num(x) + "\" y=\"" + num(top_px + plot_h + 15) +
           "\" text-anchor=\"middle\" font-size=\"10\">" + xml_escape(format_time_tick(ns)) + "</text>\n";
  }
  out += "<text x=\"14\" y=\"" + num(top_px + plot_h / 2) + "\" font-size=\"11\" text-anchor=\"middle\" "
         "transform=\"rotate(-90 14 " + num(top_px + plot_h / 2) + ")\">" + xml_escape(c.y_label) + "</text>\n";
  out += "<text x=\"" + num(left_px + plot_w / 2) + "\" y=\"" + num(chart_height_px - 6) +
         "\" text-anchor=\"middle\" font-size=\"11\">simulated time (bucket " +
         xml_escape(format_time(c.bucket_ns)) + ")</text>\n";
  return out;
}

// One polyline per run of consecutive buckets with values; a lone value is a dot.
std::string series_svg(const LineChart& c, const YScale& ys, const ChartSeries& s) {
  std::string out, points;
  std::size_t run = 0;
  auto flush = [&] {
    if (run == 1)
      out += "<circle cx=\"" + points.substr(0, points.find(',')) + "\" cy=\"" +
             points.substr(points.find(',') + 1) + "\" r=\"2\" fill=\"" + s.colour + "\"/>\n";
    if (run > 1)
      out += "<polyline fill=\"none\" stroke=\"" + s.colour + "\" stroke-width=\"1.6\"" +
             (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + " points=\"" + points + "\"/>\n";
    points.clear();
    run = 0;
  };
  for (std::size_t i = 0; i < s.values.size(); ++i) {
    const auto& v = s.values[i];
    if (!v || (c.log_y && *v <= 0)) {
      flush();
      continue;
    }
    const double x = x_of(c, (static_cast<double>(i) + 0.5) * static_cast<double>(c.bucket_ns));
    points += (points.empty() ? "" : " ") + num(x) + "," + num(ys.y(*v));
    ++run;
  }
  flush();
  return out;
}

std::string legend(const LineChart& c) {
  std::string out;
  double y = top_px + 8;
  for (const auto& s : c.series) {
    const double x = left_px + plot_w + 14;
    out += "<line x1=\"" + num(x) + "\" y1=\"" + num(y) + "\" x2=\"" + num(x + 22) + "\" y2=\"" + num(y) +
           "\" stroke=\"" + s.colour + "\" stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"5 3\"" : "") +
           "/>\n<text x=\"" + num(x + 28) + "\" y=\"" + num(y + 4) + "\" font-size=\"11\">" +
           xml_escape(s.name) + "</text>\n";
    y += 17;
  }
  return out;
}

}  // namespace

std::string line_chart_svg(const LineChart& c) {
  CASTLE_ASSERT(c.end_ns > 0 && c.bucket_ns > 0, "a chart needs a time range and buckets");
  const YScale ys = y_scale(c);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                    "width=\"" + num(chart_width_px) + "\" height=\"" + num(chart_height_px) +
                    "\" viewBox=\"0 0 " + num(chart_width_px) + " " + num(chart_height_px) +
                    "\" font-family=\"Helvetica, Arial, sans-serif\">\n"
                    "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + num(left_px) + "\" y=\"18\" font-size=\"13\" font-weight=\"bold\">" +
         xml_escape(c.title) + "</text>\n";
  out += bands_and_rules(c) + axes(c, ys);
  for (const auto& s : c.series) out += series_svg(c, ys, s);
  return out + legend(c) + "</svg>\n";
}

}  // namespace castle::reports
