#include "reports/timeline_dot.h"

#include <algorithm>
#include <map>

#include "reports/dot.h"
#include "reports/pinned_graph.h"
#include "system/runtime/assert.h"

namespace castle::reports {

namespace {

constexpr double x0_pt = 110;         // where time 0 sits; lane names to its left
constexpr double subrow_pt = 18;      // one stacked row of items within a lane
constexpr double item_height_pt = 14;
constexpr double lane_gap_pt = 10;
constexpr double label_char_pt = 5.2;  // rough width of a 9 pt Helvetica character
const std::string network_lane = "network";

struct Item {
  std::string lane;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::string label;
  std::string kind;  // the short label
  std::string fill;
  std::string fontcolor = "black";
  bool instant = false;
  int subrow = 0;
};

struct Layout {
  std::vector<std::string> lanes;
  std::map<std::string, double> lane_top_pt;
  std::map<std::string, int> lane_subrows;
  double bottom_pt = 0;
  double ns_to_pt = 0;
  double x(std::int64_t ns) const { return x0_pt + static_cast<double>(ns) * ns_to_pt; }
};

void add_fault_items(const RunView& v, std::vector<Item>& items) {
  for (const auto& f : v.faults) {
    std::vector<std::string> lanes = f.nodes;
    lanes.insert(lanes.end(), f.others.begin(), f.others.end());
    if (lanes.empty()) lanes.push_back(network_lane);  // e.g. a latency spike on every link
    std::sort(lanes.begin(), lanes.end());
    lanes.erase(std::unique(lanes.begin(), lanes.end()), lanes.end());
    for (const auto& lane : lanes)
      items.push_back({lane, f.start_ns, f.end_ns, f.label, f.kind, family_colour(fault_family(f.kind)),
                       "black", f.end_ns == f.start_ns});
  }
}

std::vector<Item> collect_items(const RunView& v) {
  std::vector<Item> items;
  add_fault_items(v, items);
  for (const auto& d : v.down)
    items.push_back({d.node, d.start_ns, d.end_ns, "down", "down", "#555555", "white", false});
  for (const auto& l : v.leaders) {
    std::string label = "leader" + (l.subject.empty() ? "" : " " + l.subject);
    if (!l.epoch.empty()) label += " e" + l.epoch;
    items.push_back({l.node, l.start_ns, l.end_ns, label, "leader", "#8fd18f", "black", false});
  }
  if (items.size() > timeline_items_max) items.resize(timeline_items_max);
  return items;
}

// Stacks overlapping items of a lane into rows, first fit, so none hides another.
void pack(std::vector<Item>& items, Layout& layout) {
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.start_ns < b.start_ns; });
  std::map<std::string, std::vector<double>> row_ends_pt;
  for (auto& it : items) {
    auto& ends = row_ends_pt[it.lane];
    const double start = layout.x(it.start_ns) - (it.instant ? 5 : 0);
    const double end = std::max(layout.x(it.end_ns), start + 8);
    std::size_t row = 0;
    while (row < ends.size() && ends[row] > start) ++row;
    if (row == ends.size()) ends.push_back(0);
    ends[row] = end + 2;
    it.subrow = static_cast<int>(row);
  }
  for (const auto& [lane, ends] : row_ends_pt) layout.lane_subrows[lane] = static_cast<int>(ends.size());
}

Layout make_layout(const RunView& v, std::vector<Item>& items) {
  Layout layout;
  layout.ns_to_pt = timeline_width_pt / static_cast<double>(v.end_ns);
  for (const auto& it : items)
    if (it.lane == network_lane) layout.lanes = {network_lane};
  layout.lanes.insert(layout.lanes.end(), v.nodes.begin(), v.nodes.end());
  for (const auto& it : items)  // a fault may name a node the trace never saw
    if (std::find(layout.lanes.begin(), layout.lanes.end(), it.lane) == layout.lanes.end())
      layout.lanes.push_back(it.lane);
  pack(items, layout);
  double y = 40;
  for (const auto& lane : layout.lanes) {
    layout.lane_top_pt[lane] = y;
    y += std::max(1, layout.lane_subrows[lane]) * subrow_pt + lane_gap_pt;
  }
  layout.bottom_pt = y;
  return layout;
}

void draw_lanes(PinnedGraph& g, const Layout& layout) {
  for (const auto& lane : layout.lanes) {
    const double top = layout.lane_top_pt.at(lane);
    const int rows = std::max(1, layout.lane_subrows.count(lane) ? layout.lane_subrows.at(lane) : 1);
    const double mid = top + rows * subrow_pt / 2;
    g.text(x0_pt - 50, mid, lane, 90, "fontsize=10, fontname=\"Helvetica-Bold\"");
    g.line(x0_pt, top - lane_gap_pt / 2, x0_pt + timeline_width_pt, top - lane_gap_pt / 2,
           "color=\"#e4e4e4\"");
  }
}

void draw_item(PinnedGraph& g, const Layout& layout, const Item& it) {
  const double y = layout.lane_top_pt.at(it.lane) + it.subrow * subrow_pt + subrow_pt / 2;
  const std::string tooltip = it.label + " at " + format_time(it.start_ns) +
                              (it.instant ? "" : " until " + format_time(it.end_ns));
  if (it.instant) {
    g.box(layout.x(it.start_ns), y, 10, 10, "", it.fill, tooltip, "shape=diamond");
    return;
  }
  const double width = std::max(3.0, layout.x(it.end_ns) - layout.x(it.start_ns));
  // A label that does not fit shrinks to the fault's kind, then to nothing
  // (the tooltip still has it all), rather than spilling over its neighbours.
  const auto chars_fit = static_cast<std::size_t>(std::max(0.0, (width - 4) / label_char_pt));
  std::string label = it.label.size() <= chars_fit ? it.label : it.kind.size() <= chars_fit ? it.kind : "";
  g.box(layout.x(it.start_ns) + width / 2, y, width, item_height_pt, label, it.fill, tooltip,
        "fontcolor=" + dot_quote(it.fontcolor) + ", color=\"#666666\", penwidth=0.5");
}

void draw_axis(PinnedGraph& g, const RunView& v, const Layout& layout) {
  const double y = layout.bottom_pt;
  g.line(x0_pt, y, x0_pt + timeline_width_pt, y, "color=black");
  const std::int64_t step = round_step(static_cast<double>(v.end_ns), 10);
  CASTLE_ASSERT(step > 0, "tick step must advance");
  for (std::int64_t t = 0; t <= v.end_ns; t += step) {
    g.line(layout.x(t), y, layout.x(t), y + 4, "color=black");
    g.text(layout.x(t), y + 12, format_time_tick(t), 60, "fontsize=8");
  }
  g.text(x0_pt + timeline_width_pt / 2, y + 28, "simulated time", 200, "fontsize=9");
}

// Vertical rules: the end of the fault phase, and the first violation's operations.
void draw_rules(PinnedGraph& g, const RunView& v, const Layout& layout) {
  const double top = 28;
  const double bottom = layout.bottom_pt;
  if (v.faults_end_ns) {
    g.line(layout.x(*v.faults_end_ns), top, layout.x(*v.faults_end_ns), bottom,
           "color=\"#3366cc\", style=dashed");
    g.text(layout.x(*v.faults_end_ns), top - 6, "faults stop", 70, "fontcolor=\"#3366cc\"");
  }
  for (std::int64_t index : v.violation_ops) {
    auto it = v.op_of_index.find(index);
    if (it == v.op_of_index.end()) continue;
    const OpPair& op = v.ops[it->second];
    const std::int64_t t = op.completed() ? op.complete_ns : op.invoke_ns;
    g.line(layout.x(t), top, layout.x(t), bottom, "color=\"#cc0000\", penwidth=1.5");
    g.text(layout.x(t), top - 18, "#" + std::to_string(index), 40, "fontcolor=\"#cc0000\"");
  }
}

void draw_legend(PinnedGraph& g, double y) {
  const std::vector<std::pair<std::string, std::string>> entries = {
      {"node fault", family_colour("node")},   {"partition", family_colour("partition")},
      {"network", family_colour("network")},   {"clock", family_colour("clock")},
      {"disk", family_colour("disk")},         {"down (trace)", "#555555"},
      {"leader (trace)", "#8fd18f"}};
  double x = x0_pt;
  for (const auto& [name, colour] : entries) {
    g.box(x + 6, y, 12, 10, "", colour, "", "color=\"#666666\", penwidth=0.5");
    g.text(x + 50, y, name, 76, "fontsize=8");
    x += 112;
  }
  g.box(x + 6, y, 10, 10, "", "white", "", "shape=diamond");
  g.text(x + 40, y, "instant", 50, "fontsize=8");
}

}  // namespace

std::string timeline_dot(const RunView& v) {
  CASTLE_ASSERT(v.end_ns > 0, "a run has a positive end time");
  std::vector<Item> items = collect_items(v);
  Layout layout = make_layout(v, items);
  PinnedGraph g("timeline");
  draw_lanes(g, layout);
  for (const auto& it : items) draw_item(g, layout, it);
  draw_rules(g, v, layout);
  draw_axis(g, v, layout);
  draw_legend(g, layout.bottom_pt + 50);
  return g.finish();
}

}  // namespace castle::reports
