#include "reports/pictures.h"

#include <cstdio>
#include <fstream>
#include <functional>

#include "reports/cluster_dot.h"
#include "reports/dot.h"
#include "reports/plots.h"
#include "reports/sequence_dot.h"
#include "reports/timeline_dot.h"
#include "system/runtime/assert.h"

namespace castle::reports {

namespace {

bool write_file(const std::string& path, const std::string& text, std::string* error) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

struct DotPicture {
  Picture picture;
  std::function<std::string(const RunView&)> draw;
};

std::vector<DotPicture> dot_pictures() {
  return {
      {{"timeline", "Timeline: nodes, faults and leadership",
        "One lane per node over simulated time. Coloured bars are faults in force on the nodes they "
        "target (legend below the axis), diamonds are instant faults, dark bars are down times and "
        "green bars leadership claims seen in the trace. The dashed blue rule is the end of the fault "
        "phase; red rules mark the first violation's operations (#history index).",
        true, false, "", true},
       timeline_dot},
      {{"sequence", "Sequence chart around the first violation",
        "Rows in time order. Each operation is a request arrow at its invoke and a reply arrow at its "
        "completion, labelled #history index; the violation's operations are red and marked '!'. "
        "Replies: green ok, orange fail, grey dashed info (outcome unknown). Faults and trace events "
        "of the same stretch sit on their nodes' lanes.",
        true, false, ""},
       sequence_dot},
      {{"cluster", "Cluster shape",
        "Servers, clients and the keys they used, with operation counts per client and key; dashed "
        "red edges are links the faults cut (tees mark the blocked direction), dashed yellow ones "
        "clogged links; a red border marks an isolated node.",
        true, false, ""},
       cluster_dot},
  };
}

// Renders one picture; a failure is noted on the picture, never fatal.
// True if `dot` could not be run at all.
bool render(const std::string& dir, Picture& p) {
  const RenderResult r = render_svg(dir + "/" + p.stem + ".dot", dir + "/" + p.stem + ".svg");
  p.rendered = r.ok;
  p.error = r.error;
  return r.missing;
}

}  // namespace

bool write_pictures(const std::string& dir, const RunView& v, std::vector<Picture>* pictures,
                    std::string* error) {
  CASTLE_ASSERT(pictures != nullptr && pictures->empty(), "pictures are written once");
  bool dot_missing = false;
  for (auto& d : dot_pictures()) {
    if (!write_file(dir + "/" + d.picture.stem + ".dot", d.draw(v), error)) return false;
    dot_missing |= render(dir, d.picture);
    pictures->push_back(d.picture);
  }
  const std::vector<std::pair<Picture, LineChart>> plots = {
      {{"throughput", "Throughput over simulated time",
        "Operations completed per time bucket, by outcome; faults are shaded in their timeline colours.",
        false, true, "", true},
       throughput_chart(v)},
      {{"latency", "Latency over simulated time",
        "Invoke-to-completion latency of the operations completed in each bucket (log scale).", false,
        true, "", true},
       latency_chart(v)},
  };
  for (const auto& [picture, chart] : plots) {
    if (!write_file(dir + "/" + picture.stem + ".svg", line_chart_svg(chart), error)) return false;
    pictures->push_back(picture);
  }
  for (const auto& p : *pictures)
    if (!p.rendered) {
      std::fprintf(stderr, "castle: report pictures not rendered (%s); the .dot files are in %s%s\n",
                   p.error.c_str(), dir.c_str(),
                   dot_missing ? " (install Graphviz: apt-get install graphviz)" : "");
      break;
    }
  return true;
}

}  // namespace castle::reports
