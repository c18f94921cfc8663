#pragma once
// index.html: one self-contained page for a run folder, opened from file://
// with no server and no network (no scripts or styles from elsewhere). It
// shows the verdict, seed and the command that reproduces the run, the
// numbers, the anomalies with the operations involved, every picture by
// relative path, the faults, and links to the raw files.
//
// A small inline script marks <body> once the page has loaded:
//   data-pictures-status="ok"        every picture loaded with a nonzero size
//   data-pictures-status="broken"    some did not (data-pictures-broken names them)
// and data-pictures-unrendered (written with the page) counts the pictures
// `dot` could not render, so a headless browser can check the page.

#include <string>
#include <vector>

#include "reports/run_facts.h"
#include "reports/run_view.h"

namespace castle::reports {

struct Picture {
  std::string stem;     // files: stem.svg and, for Graphviz pictures, stem.dot
  std::string title;
  std::string caption;  // what the picture shows and how to read it
  bool from_dot = false;
  bool rendered = false;
  std::string error;    // why it was not rendered
  bool fit_width = false;  // scaled to the page's width rather than scrolled
};

struct PageInputs {
  const RunFacts& facts;
  const RunView& view;
  const history::History& history;  // for the anomalies' operations
  const std::vector<Picture>& pictures;
  bool has_trace = true;  // whether the folder has trace.jsonl and report.json
  bool has_report = true;
};

// Bounds on the tables, so a run with thousands of anomalies or faults
// still gives a page a browser opens quickly; report.json has them all.
inline constexpr std::size_t page_anomalies_max = 50;
inline constexpr std::size_t page_ops_per_anomaly_max = 8;
inline constexpr std::size_t page_faults_max = 300;
inline constexpr std::size_t page_op_chars_max = 240;

std::string index_html(const PageInputs& in);

}  // namespace castle::reports
