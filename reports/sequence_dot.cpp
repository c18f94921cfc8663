#include "reports/sequence_dot.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "reports/dot.h"
#include "reports/pinned_graph.h"
#include "system/runtime/assert.h"

namespace castle::reports {

namespace {

constexpr double time_column_pt = 60;
constexpr double first_lane_pt = 150;
constexpr double lane_spacing_pt = 170;
constexpr double header_y_pt = 50;
constexpr double first_row_pt = 80;
constexpr double row_pt = 22;
constexpr double sequence_label_char_pt = 4.6;  // rough width of an 8 pt character

enum class RowKind { invoke, complete, trace, fault_start, fault_end, gap };

struct Row {
  std::int64_t time_ns = 0;
  RowKind kind = RowKind::gap;
  std::size_t ref = 0;  // into ops, trace or faults
};

// A stretch of the run: a few neighbouring operations and what happened
// to the nodes meanwhile.
struct Stretch {
  std::size_t first_op = 0;  // positions in RunView::ops, inclusive
  std::size_t last_op = 0;
  std::set<std::size_t> focus;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
};

std::vector<Stretch> make_stretches(const RunView& v, const std::vector<std::size_t>& focus) {
  std::vector<Stretch> out;
  for (std::size_t f : focus) {
    Stretch s;
    s.first_op = f >= sequence_context_ops ? f - sequence_context_ops : 0;
    s.last_op = std::min(v.ops.size() - 1, f + sequence_context_ops);
    s.focus.insert(f);
    if (!out.empty() && s.first_op <= out.back().last_op + 1) {  // overlapping: merge
      out.back().last_op = std::max(out.back().last_op, s.last_op);
      out.back().focus.insert(f);
      continue;
    }
    out.push_back(s);
  }
  for (auto& s : out) {
    s.start_ns = v.ops[s.first_op].invoke_ns;
    s.end_ns = s.start_ns;
    for (std::size_t i = s.first_op; i <= s.last_op; ++i)
      s.end_ns = std::max(s.end_ns, v.ops[i].complete_ns);
  }
  return out;
}

// Trace and fault rows of a stretch, the nearest to its focus first, bounded.
std::vector<Row> note_rows(const RunView& v, const Stretch& s) {
  const std::int64_t centre = v.ops[*s.focus.begin()].invoke_ns;
  std::vector<Row> notes;
  for (std::size_t i = 0; i < v.trace.size(); ++i)
    if (v.trace[i].time_ns >= s.start_ns && v.trace[i].time_ns <= s.end_ns)
      notes.push_back({v.trace[i].time_ns, RowKind::trace, i});
  for (std::size_t i = 0; i < v.faults.size(); ++i) {
    const auto& f = v.faults[i];
    if (f.start_ns >= s.start_ns && f.start_ns <= s.end_ns)
      notes.push_back({f.start_ns, RowKind::fault_start, i});
    if (f.end_ns > f.start_ns && f.end_ns >= s.start_ns && f.end_ns <= s.end_ns)
      notes.push_back({f.end_ns, RowKind::fault_end, i});
  }
  std::stable_sort(notes.begin(), notes.end(), [centre](const Row& a, const Row& b) {
    return std::llabs(a.time_ns - centre) < std::llabs(b.time_ns - centre);
  });
  if (notes.size() > sequence_notes_max) notes.resize(sequence_notes_max);
  return notes;
}

std::vector<Row> stretch_rows(const RunView& v, const Stretch& s) {
  std::vector<Row> rows = note_rows(v, s);
  for (std::size_t i = s.first_op; i <= s.last_op; ++i) {
    rows.push_back({v.ops[i].invoke_ns, RowKind::invoke, i});
    if (v.ops[i].completed()) rows.push_back({v.ops[i].complete_ns, RowKind::complete, i});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.time_ns < b.time_ns; });
  return rows;
}

struct Chart {
  std::vector<Row> rows;
  std::set<std::size_t> focus;
  std::vector<std::string> lanes;
  std::map<std::string, double> lane_x;
  std::map<std::string, std::string> lane_fill;
};

void add_lane(Chart& c, const std::string& name, const std::string& fill) {
  if (c.lane_x.count(name)) return;
  c.lane_x[name] = first_lane_pt + lane_spacing_pt * static_cast<double>(c.lanes.size());
  c.lane_fill[name] = fill;
  c.lanes.push_back(name);
}

std::string process_lane(std::int64_t process) { return "process " + std::to_string(process); }
std::string key_lane(const OpPair& op) { return op.keys.empty() ? "(no key)" : "key " + op.keys[0]; }

// Lanes left to right: processes, then keys, then nodes, each in first-seen order.
void make_lanes(const RunView& v, Chart& c) {
  std::set<std::int64_t> processes;
  std::set<std::string> keys;
  for (const Row& r : c.rows)
    if (r.kind == RowKind::invoke) {
      processes.insert(v.ops[r.ref].process);
      keys.insert(key_lane(v.ops[r.ref]));
    }
  for (auto p : processes) add_lane(c, process_lane(p), "#dbe8f6");
  for (const auto& k : keys) add_lane(c, k, "#fdf1c7");
  for (const Row& r : c.rows) {
    if (r.kind == RowKind::trace) {
      add_lane(c, v.trace[r.ref].node, "#e6e6e6");
      if (!v.trace[r.ref].peer.empty()) add_lane(c, v.trace[r.ref].peer, "#e6e6e6");
    }
    if (r.kind == RowKind::fault_start || r.kind == RowKind::fault_end)
      for (const auto* list : {&v.faults[r.ref].nodes, &v.faults[r.ref].others})
        for (const auto& n : *list) add_lane(c, n, "#e6e6e6");
  }
}

Chart make_chart(const RunView& v) {
  Chart c;
  const auto focus = sequence_focus(v);
  // Red marks a violation's operations; a passing run's centre is not one.
  if (!v.violation_ops.empty()) c.focus.insert(focus.begin(), focus.end());
  for (const Stretch& s : make_stretches(v, focus)) {
    if (!c.rows.empty()) c.rows.push_back({s.start_ns, RowKind::gap, 0});
    auto rows = stretch_rows(v, s);
    c.rows.insert(c.rows.end(), rows.begin(), rows.end());
  }
  make_lanes(v, c);
  return c;
}

double row_y(std::size_t row) { return first_row_pt + row_pt * static_cast<double>(row); }

std::string fit_label(const std::string& text, double from_x, double to_x) {
  const double room = std::abs(to_x - from_x) - 16;
  return dot_shorten(text, static_cast<std::size_t>(std::max(6.0, room / sequence_label_char_pt)));
}

std::string reply_colour(history::OpType t) {
  switch (t) {
    case history::OpType::ok: return "#2a7a2a";
    case history::OpType::fail: return "#c06000";
    default: return "#777777";
  }
}

void draw_arrow(PinnedGraph& g, double from_x, double to_x, double y, const std::string& label,
                const std::string& attrs) {
  const std::string a = g.point(from_x, y);
  const std::string b = g.point(to_x, y);
  g.line(a, b, "label=" + dot_quote(fit_label(label, from_x, to_x)) + ", " + attrs);
}

void draw_op_row(PinnedGraph& g, const RunView& v, const Chart& c, const Row& r, double y) {
  const OpPair& op = v.ops[r.ref];
  const bool focus = c.focus.count(r.ref) > 0;
  const double px = c.lane_x.at(process_lane(op.process));
  const double kx = c.lane_x.at(key_lane(op));
  const std::string tag = (focus ? "!" : "") + std::string("#") +
                          std::to_string(r.kind == RowKind::invoke ? op.invoke_index : op.complete_index);
  const std::string colour = focus ? "#cc0000" : (r.kind == RowKind::invoke ? "#333333" : reply_colour(op.outcome));
  std::string attrs = "color=" + dot_quote(colour) + ", fontcolor=" + dot_quote(colour) +
                      ", arrowsize=0.6, penwidth=" + (focus ? "2" : "1");
  if (r.kind == RowKind::complete && op.outcome == history::OpType::info) attrs += ", style=dashed";
  if (r.kind == RowKind::invoke)
    draw_arrow(g, px, kx, y, tag + " " + op.request, attrs);
  else
    draw_arrow(g, kx, px, y, tag + " " + op.reply, attrs);
}

void draw_note_row(PinnedGraph& g, const RunView& v, const Chart& c, const Row& r, double y) {
  if (r.kind == RowKind::trace) {
    const TracePoint& p = v.trace[r.ref];
    const double x = c.lane_x.at(p.node);
    if (!p.peer.empty()) {
      draw_arrow(g, x, c.lane_x.at(p.peer), y, p.kind, "color=\"#555555\", arrowsize=0.6");
      return;
    }
    g.box(x, y, 130, 16, dot_shorten(p.kind, 26), "#f2f2f2", p.kind + " " + p.details,
          "shape=note, color=\"#999999\"");
    return;
  }
  const FaultInterval& f = v.faults[r.ref];
  const std::string label = f.kind + (r.kind == RowKind::fault_start ? " starts" : " ends");
  std::vector<std::string> targets = f.nodes;
  targets.insert(targets.end(), f.others.begin(), f.others.end());
  for (const auto& n : targets)
    g.box(c.lane_x.at(n), y, 130, 16, label, family_colour(fault_family(f.kind)), f.label,
          "color=\"#666666\"");
  if (targets.empty())  // a fault on every link: say so across the chart
    g.text(c.lanes.empty() ? first_lane_pt : c.lane_x.at(c.lanes.back()) + 120, y, f.label, 200);
}

void draw_lanes(PinnedGraph& g, const Chart& c, double bottom_y) {
  for (const auto& lane : c.lanes) {
    const double x = c.lane_x.at(lane);
    g.box(x, header_y_pt, 140, 22, dot_shorten(lane, 28), c.lane_fill.at(lane), lane,
          "fontname=\"Helvetica-Bold\"");
    g.line(x, header_y_pt + 11, x, bottom_y, "color=\"#aaaaaa\", style=dashed");
  }
}

std::string chart_title(const RunView& v) {
  if (!v.violation_title.empty()) return "First violation: " + dot_shorten(v.violation_title, 160);
  if (!v.faults.empty())
    return "No violation. Operations around the last fault: " + v.faults.back().label + " at " +
           format_time(v.faults.back().start_ns);
  return "No violation and no faults. Operations at the end of the run";
}

}  // namespace

std::vector<std::size_t> sequence_focus(const RunView& v) {
  std::vector<std::size_t> focus;
  for (std::int64_t index : v.violation_ops) {
    auto it = v.op_of_index.find(index);
    if (it != v.op_of_index.end() && std::find(focus.begin(), focus.end(), it->second) == focus.end())
      focus.push_back(it->second);
  }
  if (focus.empty() && !v.ops.empty()) {
    // A passing run: the operation invoked nearest the last fault, or the last one.
    const std::int64_t t = v.faults.empty() ? v.ops.back().invoke_ns : v.faults.back().start_ns;
    auto nearest = std::min_element(v.ops.begin(), v.ops.end(), [t](const OpPair& a, const OpPair& b) {
      return std::llabs(a.invoke_ns - t) < std::llabs(b.invoke_ns - t);
    });
    focus.push_back(static_cast<std::size_t>(nearest - v.ops.begin()));
  }
  std::sort(focus.begin(), focus.end());
  if (focus.size() > sequence_focus_ops_max) focus.resize(sequence_focus_ops_max);
  return focus;
}

std::string sequence_dot(const RunView& v) {
  const Chart c = make_chart(v);
  PinnedGraph g("sequence");
  g.text(first_lane_pt - 70 + 300, 14, chart_title(v), 760,
         "fontsize=11, fontname=\"Helvetica-Bold\", fixedsize=false");
  draw_lanes(g, c, row_y(c.rows.size()));
  for (std::size_t i = 0; i < c.rows.size(); ++i) {
    const Row& r = c.rows[i];
    const double y = row_y(i);
    if (r.kind == RowKind::gap) {
      g.text(time_column_pt + 200, y, "... later ...", 160, "fontcolor=\"#3366cc\"");
      continue;
    }
    g.text(time_column_pt, y, format_time_fine(r.time_ns), 90, "fontsize=8, fontcolor=\"#555555\"");
    if (r.kind == RowKind::invoke || r.kind == RowKind::complete)
      draw_op_row(g, v, c, r, y);
    else
      draw_note_row(g, v, c, r, y);
  }
  if (c.rows.empty()) g.text(first_lane_pt, first_row_pt, "(the history is empty)", 200);
  return g.finish();
}

}  // namespace castle::reports
