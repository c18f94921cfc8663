#pragma once
// Small helpers shared by the DOT pictures, and the one place that runs
// Graphviz. The timeline and the sequence chart pin every node with
// pos="x,y!" and ask for layout=neato in the file itself, so that time maps
// to a coordinate; `dot -Tsvg` honours the file's layout attribute, so every
// picture renders with the same command.

#include <cstdint>
#include <string>

namespace castle::reports {

// A DOT double-quoted string, with quotes, backslashes and newlines escaped.
std::string dot_quote(const std::string& s);

// A pinned position in points for a neato-laid graph: pos="x,y!".
std::string dot_pos(double x_pt, double y_pt);

// Shortens a label to at most chars_max characters, ending in "..".
std::string dot_shorten(const std::string& s, std::size_t chars_max);

// The graph attributes of a pinned-position picture.
std::string pinned_graph_header(const std::string& name);

// One colour per fault family (fault_family in run_view.h).
const char* family_colour(const std::string& family);

struct RenderResult {
  bool ok = false;
  std::string error;  // why not, for the page and stderr
  bool missing = false;  // `dot` could not be run at all (Graphviz not installed)
};

// Renders dot_path to svg_path with `dot -Tsvg`. The dot binary is $CASTLE_DOT
// if set (tests point it at a missing file), else `dot` from PATH. A render
// taking more than timeout_ms is killed and reported as failed.
RenderResult render_svg(const std::string& dot_path, const std::string& svg_path,
                        std::int64_t timeout_ms = 60'000);

}  // namespace castle::reports
