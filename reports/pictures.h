#pragma once
// Writes every picture of a run folder: the Graphviz ones as .dot, rendered
// to .svg when `dot` can be run, and the plots as .svg directly. A missing or
// failing `dot` never fails the run: the .dot files stay, the page says the
// pictures were not rendered, and one note goes to stderr.

#include <string>
#include <vector>

#include "reports/index_html.h"
#include "reports/run_view.h"

namespace castle::reports {

// Returns false (with *error) only if a file cannot be written.
bool write_pictures(const std::string& dir, const RunView& v, std::vector<Picture>* pictures,
                    std::string* error);

}  // namespace castle::reports
