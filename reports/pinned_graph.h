#pragma once
// A builder for pictures whose every node is pinned at a coordinate (the
// timeline and the sequence chart): boxes, text, points and lines, each
// placed in points, y growing downward as on a page.

#include <cstdint>
#include <string>

namespace castle::reports {

class PinnedGraph {
 public:
  explicit PinnedGraph(const std::string& name);

  // A box centred at (x, y). fill may be empty for no fill.
  std::string box(double x, double y, double width_pt, double height_pt, const std::string& label,
                  const std::string& fill, const std::string& tooltip = "",
                  const std::string& extra = "");
  // Text centred at (x, y), no border.
  std::string text(double x, double y, const std::string& label, double width_pt,
                   const std::string& extra = "");
  // An invisible anchor for lines.
  std::string point(double x, double y);
  // A line between two anchors; attrs e.g. "color=gray, style=dashed".
  void line(const std::string& from, const std::string& to, const std::string& attrs);
  // A line between two coordinates.
  void line(double x1, double y1, double x2, double y2, const std::string& attrs);

  std::size_t node_count() const { return nodes_; }
  std::string finish();  // the whole DOT text; the builder is spent

 private:
  std::string next_id();
  std::string out_;
  std::size_t nodes_ = 0;
  bool finished_ = false;
};

}  // namespace castle::reports
