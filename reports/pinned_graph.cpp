#include "reports/pinned_graph.h"

#include <cstdio>

#include "reports/dot.h"
#include "system/runtime/assert.h"

namespace castle::reports {

namespace {

// DOT sizes are in inches; the pictures think in points.
std::string inches(double pt) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", pt / 72.0);
  return buf;
}

}  // namespace

PinnedGraph::PinnedGraph(const std::string& name) : out_(pinned_graph_header(name)) {}

std::string PinnedGraph::next_id() {
  CASTLE_ASSERT(!finished_, "the picture is already finished");
  return "n" + std::to_string(nodes_++);
}

// DOT's y grows upward; the pictures are laid out like a page, so y flips here.
std::string PinnedGraph::box(double x, double y, double width_pt, double height_pt,
                             const std::string& label, const std::string& fill,
                             const std::string& tooltip, const std::string& extra) {
  const std::string id = next_id();
  out_ += "  " + id + " [shape=box, pos=" + dot_pos(x, -y) + ", width=" + inches(width_pt) +
          ", height=" + inches(height_pt) + ", label=" + dot_quote(label);
  if (!fill.empty()) out_ += ", style=filled, fillcolor=" + dot_quote(fill);
  if (!tooltip.empty()) out_ += ", tooltip=" + dot_quote(tooltip);
  if (!extra.empty()) out_ += ", " + extra;
  out_ += "];\n";
  return id;
}

std::string PinnedGraph::text(double x, double y, const std::string& label, double width_pt,
                              const std::string& extra) {
  return box(x, y, width_pt, 12, label, "", "", "shape=plaintext" + (extra.empty() ? "" : ", " + extra));
}

std::string PinnedGraph::point(double x, double y) {
  const std::string id = next_id();
  out_ += "  " + id + " [shape=point, style=invis, width=0.01, pos=" + dot_pos(x, -y) + "];\n";
  return id;
}

void PinnedGraph::line(const std::string& from, const std::string& to, const std::string& attrs) {
  out_ += "  " + from + " -> " + to + " [" + attrs + "];\n";
}

void PinnedGraph::line(double x1, double y1, double x2, double y2, const std::string& attrs) {
  const std::string a = point(x1, y1);
  const std::string b = point(x2, y2);
  line(a, b, "arrowhead=none, " + attrs);
}

std::string PinnedGraph::finish() {
  CASTLE_ASSERT(!finished_, "finish() called twice");
  finished_ = true;
  return std::move(out_) + "}\n";
}

}  // namespace castle::reports
