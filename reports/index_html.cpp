#include "reports/index_html.h"

#include "reports/line_chart_svg.h"
#include "system/runtime/assert.h"

namespace castle::reports {

namespace {

const char* const style = R"(<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1500px; }
h1 { margin-bottom: 4px; } h2 { margin-top: 32px; border-bottom: 1px solid #ddd; }
.verdict { display: inline-block; padding: 3px 12px; border-radius: 4px; color: white; font-weight: bold; }
.pass { background: #2a7a2a; } .safety { background: #c62828; } .liveness { background: #c06000; }
.unknown { background: #777777; } .note { background: #eef3fb; border: 1px solid #9bb7d4; padding: 8px; }
table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } code, pre { font-family: Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
figure { margin: 12px 0 28px 0; } figcaption { font-size: 13px; color: #444; margin: 6px 0; }
.picture-box { overflow-x: auto; border: 1px solid #e4e4e4; background: white; }
.picture-box img { display: block; }
.picture-box img.fit { max-width: 100%; height: auto; }
.missing { background: #fff4e5; border: 1px solid #f2a541; padding: 8px; }
.ops td:first-child { white-space: nowrap; }
</style>
)";

// Sets data attributes on <body> once everything has loaded; a headless
// browser's --dump-dom shows them (tests/reports/chromium_test.sh reads them).
const char* const check_script = R"(<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll('img.picture'));
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0); })
                   .map(function (i) { return i.getAttribute('src'); });
  document.body.setAttribute('data-pictures-expected', String(imgs.length));
  document.body.setAttribute('data-pictures-loaded', String(imgs.length - broken.length));
  document.body.setAttribute('data-pictures-broken', broken.join(' '));
  document.body.setAttribute('data-pictures-status', broken.length === 0 && imgs.length > 0 ? 'ok' : 'broken');
});
</script>
)";

std::string h(const std::string& s) { return xml_escape(s); }

std::string cut(const std::string& s, std::size_t chars_max) {
  return s.size() <= chars_max ? s : s.substr(0, chars_max) + " ...";
}

std::string row(std::initializer_list<std::string> cells) {
  std::string out = "<tr>";
  for (const auto& c : cells) out += "<td>" + c + "</td>";
  return out + "</tr>\n";
}

// Rows for what is known: a bare history has no seed, hash or scenario.
std::string header(const PageInputs& in) {
  const auto& f = in.facts;
  std::string out = "<h1>" + h(f.name) + " <span class=\"verdict " + h(f.verdict) + "\">" + h(f.verdict) +
                    "</span></h1>\n<p>" + h(f.purpose) + "</p>\n";
  if (!f.note.empty()) out += "<p class=\"note\">" + h(f.note) + "</p>\n";
  out += "<table>\n";
  if (f.seed) out += row({"seed", std::to_string(*f.seed)});
  if (!f.trace_hash.empty()) out += row({"trace hash", "<code>" + h(f.trace_hash) + "</code>"});
  out += row({"simulated time", h(format_time(f.seed ? f.sim_time_ns : in.view.end_ns))});
  if (f.seed) out += row({"events", std::to_string(f.events)});
  if (!f.scenario_path.empty()) out += row({"scenario file", "<code>" + h(f.scenario_path) + "</code>"});
  out += "</table>\n";
  if (!f.reproduce.empty()) out += "<p>Reproduce:</p>\n<pre>" + h(f.reproduce) + "</pre>\n";
  if (!f.liveness_failure.empty()) out += "<p><b>Liveness:</b> " + h(f.liveness_failure) + "</p>\n";
  if (!f.liveness_excused.empty())
    out += "<p><b>Liveness excused:</b> " + h(f.liveness_excused) + "</p>\n";
  return out;
}

std::string stats(const PageInputs& in) {
  const auto& st = in.facts.stats;
  std::string out = "<h2>Numbers</h2>\n<table>\n<tr><th>sends</th><th>acked</th><th>failed</th>"
                    "<th>unknown</th><th>server restarts</th><th>operations</th><th>faults applied</th></tr>\n";
  out += row({std::to_string(st.sends), std::to_string(st.acked), std::to_string(st.failed),
              std::to_string(st.unknown), std::to_string(st.server_restarts),
              std::to_string(in.view.ops.size()), std::to_string(in.facts.faults.size())});
  out += "</table>\n";
  if (!in.view.violation_title.empty()) {
    out += "<p><b>First violation:</b> " + h(in.view.violation_title) + " (operations";
    for (std::int64_t i : in.view.violation_ops) out += " #" + std::to_string(i);
    out += "; see the <a href=\"#sequence\">sequence chart</a> and the <a href=\"#anomalies\">anomalies</a>).</p>\n";
  }
  if (!in.facts.buggify_points.empty()) {
    out += "<p>Buggify points reached:";
    for (const auto& [point, armed] : in.facts.buggify_points) {
      const auto fired = in.facts.buggify_fired.find(point);
      const std::string state = !armed ? "off"
                                : fired == in.facts.buggify_fired.end()
                                    ? "armed"
                                    : "fired " + std::to_string(fired->second) + "x";
      out += " <code>" + h(point) + "=" + state + "</code>";
    }
    out += "</p>\n";
  }
  return out;
}

std::string anomaly_ops(const PageInputs& in, const checkers::Anomaly& a) {
  std::string out = "<table class=\"ops\">";
  const auto& ops = in.history.ops();
  std::size_t shown = 0;
  for (std::int64_t index : a.ops) {
    if (shown++ == page_ops_per_anomaly_max) {
      out += row({"...", std::to_string(a.ops.size() - page_ops_per_anomaly_max) + " more in report.json"});
      break;
    }
    const bool known = index >= 0 && static_cast<std::size_t>(index) < ops.size();
    // A final read's value holds the whole log; the line is cut, history.jsonl has it.
    const std::string text =
        known ? cut(history::op_to_json(ops[static_cast<std::size_t>(index)]), page_op_chars_max) : "(not in the history)";
    out += row({"#" + std::to_string(index), "<code>" + h(text) + "</code>"});
  }
  return out + "</table>";
}

std::string anomalies(const PageInputs& in) {
  const auto& list = in.facts.check.anomalies;
  std::string out = "<h2 id=\"anomalies\">Anomalies (" + std::to_string(list.size()) + ")</h2>\n";
  if (list.empty()) return out + "<p>None: every check holds.</p>\n";
  out += "<p>By type:";
  for (const auto& [type, n] : in.facts.check.counts) out += " <code>" + h(type) + "=" + std::to_string(n) + "</code>";
  out += ". The first is the one the pictures centre on.</p>\n";
  out += "<table>\n<tr><th>type</th><th>key</th><th>description</th><th>operations</th></tr>\n";
  for (std::size_t i = 0; i < list.size() && i < page_anomalies_max; ++i)
    out += row({h(list[i].type), h(list[i].key), h(list[i].description), anomaly_ops(in, list[i])});
  out += "</table>\n";
  if (list.size() > page_anomalies_max)
    out += "<p>" + std::to_string(list.size() - page_anomalies_max) + " more in report.json.</p>\n";
  return out;
}

std::string picture(const Picture& p) {
  std::string out = "<figure id=\"" + p.stem + "\">\n<h3>" + h(p.title) + "</h3>\n";
  if (p.rendered) {
    // Pictures over time fit the page width; the sequence chart and the cluster
    // keep their size (their text would get too small) and scroll instead.
    const char* fit = p.fit_width ? " fit" : "";
    out += "<div class=\"picture-box\"><a href=\"" + p.stem + ".svg\"><img class=\"picture" + fit + "\" src=\"" +
           p.stem + ".svg\" alt=\"" + h(p.title) + "\"></a></div>\n";
  } else {
    out += "<div class=\"missing\">Not rendered: " + h(p.error) + ". The Graphviz source is <a href=\"" +
           p.stem + ".dot\">" + p.stem + ".dot</a>; with Graphviz installed, <code>dot -Tsvg " + p.stem +
           ".dot -o " + p.stem + ".svg</code> draws it.</div>\n";
  }
  out += "<figcaption>" + h(p.caption);
  if (p.from_dot) out += " Source: <a href=\"" + p.stem + ".dot\">" + p.stem + ".dot</a>.";
  return out + " Hover for details; open the SVG alone for tooltips.</figcaption>\n</figure>\n";
}

std::string contents(const std::vector<Picture>& pictures) {
  std::string out = "<p>Contents:";
  for (const auto& p : pictures) out += " <a href=\"#" + p.stem + "\">" + p.stem + "</a> &middot;";
  return out + " <a href=\"#anomalies\">anomalies</a> &middot; <a href=\"#faults\">faults</a> &middot; "
               "<a href=\"#files\">files</a></p>\n";
}

std::string faults(const PageInputs& in) {
  const auto& list = in.facts.faults;
  std::string out = "<h2 id=\"faults\">Faults applied (" + std::to_string(list.size()) + ")</h2>\n";
  if (list.empty()) return out + "<p>None.</p>\n";
  out += "<table>\n<tr><th>time</th><th>fault</th></tr>\n";
  for (std::size_t i = 0; i < list.size() && i < page_faults_max; ++i)
    out += row({h(format_time(list[i].time_ns)), h(list[i].description)});
  return out + "</table>\n";
}

// Links only to the raw files the folder has (a bare history has one).
std::string files(const PageInputs& in) {
  std::string out = "<h2 id=\"files\">Files</h2>\n<ul>\n";
  if (in.has_report)
    out += "<li><a href=\"report.json\">report.json</a>: verdict, numbers, faults and every anomaly</li>\n";
  out += "<li><a href=\"history.jsonl\">history.jsonl</a>: the operations, Jepsen's Kafka shape</li>\n";
  if (in.has_trace) out += "<li><a href=\"trace.jsonl\">trace.jsonl</a>: structured trace events</li>\n";
  return out + "</ul>\n";
}

std::string title(const RunFacts& f) {
  return f.name + (f.seed ? " seed " + std::to_string(*f.seed) : "") + ": " + f.verdict;
}

std::size_t unrendered(const std::vector<Picture>& pictures) {
  std::size_t n = 0;
  for (const auto& p : pictures) n += p.rendered ? 0 : 1;
  return n;
}

}  // namespace

std::string index_html(const PageInputs& in) {
  CASTLE_ASSERT(!in.pictures.empty(), "a report has pictures");
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
                    h(title(in.facts)) + "</title>\n" + style + check_script + "</head>\n";
  out += "<body data-pictures-unrendered=\"" + std::to_string(unrendered(in.pictures)) + "\">\n";
  out += header(in) + stats(in) + contents(in.pictures);
  out += "<h2>Pictures</h2>\n";
  if (unrendered(in.pictures) > 0)
    out += "<p class=\"missing\">Some pictures were not rendered (Graphviz <code>dot</code> was not "
           "available or failed); their DOT sources are in this folder.</p>\n";
  for (const auto& p : in.pictures) out += picture(p);
  out += anomalies(in) + faults(in) + files(in);
  return out + "</body>\n</html>\n";
}

}  // namespace castle::reports
