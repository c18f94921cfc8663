#include "reports/cluster_dot.h"

#include <algorithm>
#include <map>
#include <set>

#include "reports/dot.h"
#include "system/runtime/assert.h"

namespace castle::reports {

namespace {

struct Counts {
  std::int64_t ok = 0, fail = 0, info = 0;
};

// The node a process runs on: the harness gives process N the client node
// cN; processes without such a node (e.g. a final reader) get their own box.
std::string process_node(const RunView& v, std::int64_t process) {
  const std::string name = "c" + std::to_string(process);
  if (std::find(v.clients.begin(), v.clients.end(), name) != v.clients.end()) return name;
  return "process " + std::to_string(process);
}

bool is_one_of(const std::string& x, const std::vector<std::string>& list) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

std::string node_line(const std::string& name, const std::string& attrs) {
  return "    " + dot_quote(name) + " [" + attrs + "];\n";
}

std::string edge_line(const std::string& from, const std::string& to, const std::string& attrs) {
  return "  " + dot_quote(from) + " -> " + dot_quote(to) + " [" + attrs + "];\n";
}

// Per node: how often it crashed and whether it was isolated, for its label.
std::string node_attrs(const RunView& v, const std::string& node, const std::string& fill) {
  int crashes = 0, isolations = 0;
  for (const auto& f : v.faults) {
    const bool targeted = std::find(f.nodes.begin(), f.nodes.end(), node) != f.nodes.end();
    crashes += targeted && f.kind == "crash";
    isolations += targeted && f.kind == "isolate";
  }
  std::string label = node;
  if (crashes > 0) label += "\ncrashed x" + std::to_string(crashes);
  if (isolations > 0) label += "\nisolated x" + std::to_string(isolations);
  std::string attrs = "label=" + dot_quote(label) + ", style=filled, fillcolor=" + dot_quote(fill);
  if (isolations > 0) attrs += ", color=\"#cc0000\", penwidth=2.5";
  return attrs;
}

std::string clusters(const RunView& v, const std::set<std::string>& process_boxes,
                     const std::set<std::string>& keys) {
  std::string out = "  subgraph cluster_clients {\n    label=\"clients\"; color=\"#9bb7d4\";\n";
  for (const auto& c : v.clients) out += node_line(c, node_attrs(v, c, "#dbe8f6"));
  for (const auto& p : process_boxes) out += node_line(p, "style=filled, fillcolor=\"#dbe8f6\"");
  out += "  }\n  subgraph cluster_keys {\n    label=\"keys (partitions)\"; color=\"#d9c27a\";\n";
  for (const auto& k : keys) out += node_line(k, "shape=cylinder, style=filled, fillcolor=\"#fdf1c7\"");
  out += "  }\n  subgraph cluster_servers {\n    label=\"servers\"; color=\"#999999\";\n";
  for (const auto& n : v.servers) out += node_line(n, node_attrs(v, n, "#e6e6e6"));
  out += "  }\n  subgraph cluster_others {\n    label=\"other nodes (seen in the trace)\"; color=\"#cccccc\";\n";
  for (const auto& n : v.nodes)
    if (!is_one_of(n, v.servers) && !is_one_of(n, v.clients)) out += node_line(n, node_attrs(v, n, "#f4f4f4"));
  return out + "  }\n";
}

std::string op_edges(const RunView& v, std::set<std::string>& process_boxes, std::set<std::string>& keys) {
  std::map<std::pair<std::string, std::string>, Counts> counts;
  for (const auto& op : v.ops) {
    const std::string from = process_node(v, op.process);
    if (from.rfind("process ", 0) == 0) process_boxes.insert(from);
    for (const auto& k : op.keys) {
      keys.insert(k);
      Counts& c = counts[{from, k}];
      (op.outcome == history::OpType::ok ? c.ok : op.outcome == history::OpType::fail ? c.fail : c.info)++;
    }
  }
  std::string out;
  for (const auto& [edge, c] : counts)
    out += edge_line(edge.first, edge.second,
                     "label=" + dot_quote(std::to_string(c.ok) + " ok / " + std::to_string(c.fail) +
                                          " fail / " + std::to_string(c.info) + " info") +
                         ", color=\"#5577aa\"");
  return out;
}

// Who serves each key: the last leadership claim on it, or else the node the
// key is named after ("s0-0" -> "s0"), which is how the proof service names them.
std::string serve_edges(const RunView& v, const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) {
    std::string leader;
    for (const auto& l : v.leaders)
      if (l.subject == k) leader = l.node;
    if (!leader.empty()) {
      out += edge_line(k, leader, "label=\"leader (last)\", color=\"#2a7a2a\"");
      continue;
    }
    const std::string prefix = k.substr(0, k.rfind('-'));
    if (std::find(v.servers.begin(), v.servers.end(), prefix) != v.servers.end())
      out += edge_line(k, prefix, "label=\"served by\", color=\"#888888\"");
  }
  return out;
}

std::string message_edges(const RunView& v) {
  std::map<std::pair<std::string, std::string>, int> counts;
  for (const auto& p : v.trace)
    if (!p.peer.empty()) ++counts[{p.node, p.peer}];
  std::string out;
  for (const auto& [edge, n] : counts)
    out += edge_line(edge.first, edge.second,
                     "label=" + dot_quote(std::to_string(n) + " traced") + ", color=\"#555555\"");
  return out;
}

// The directed links a fault cuts or clogs; isolation is drawn on the node.
std::vector<std::pair<std::string, std::string>> fault_links(const FaultInterval& f) {
  std::vector<std::pair<std::string, std::string>> links;
  std::vector<std::string> a = f.nodes, b = f.others;
  if (f.kind == "bridge") {  // the bridge (nodes[0]) sees both halves of others
    const auto half = static_cast<std::ptrdiff_t>((f.others.size() + 1) / 2);
    a.assign(f.others.begin(), f.others.begin() + half);
    b.assign(f.others.begin() + half, f.others.end());
  }
  if (f.kind != "split" && f.kind != "oneway" && f.kind != "bridge" && f.kind != "clog") return links;
  for (const auto& x : a)
    for (const auto& y : b)
      if (x != y) links.emplace_back(x, y);
  return links;
}

std::string cut_edges(const RunView& v) {
  std::map<std::tuple<std::string, std::string, std::string>, int> counts;  // (from, to, kind)
  for (const auto& f : v.faults)
    for (const auto& [x, y] : fault_links(f)) ++counts[{x, y, f.kind}];
  std::string out;
  std::size_t drawn = 0;
  for (const auto& [edge, n] : counts) {
    if (drawn++ == cluster_cut_edges_max) break;
    const auto& [from, to, kind] = edge;
    const bool both_ways = kind == "split" || kind == "bridge";
    const char* colour = kind == "clog" ? "#d4a500" : "#cc0000";
    out += edge_line(from, to,
                     "label=" + dot_quote(kind + " x" + std::to_string(n)) + ", style=dashed, color=\"" +
                         colour + "\", fontcolor=\"" + colour + "\", constraint=false" +
                         (both_ways ? ", dir=both, arrowhead=tee, arrowtail=tee" : ", arrowhead=tee"));
  }
  return out;
}

}  // namespace

std::string cluster_dot(const RunView& v) {
  std::set<std::string> process_boxes, keys;
  const std::string ops = op_edges(v, process_boxes, keys);
  std::string out =
      "digraph cluster_shape {\n"
      "  graph [rankdir=LR, bgcolor=white, pad=0.2, nodesep=0.35, ranksep=1.2, fontname=\"Helvetica\",\n"
      "         label=\"cluster shape: who talked to what, and the links the faults cut\", labelloc=t];\n"
      "  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n"
      "  edge [fontname=\"Helvetica\", fontsize=8];\n";
  out += clusters(v, process_boxes, keys);
  out += ops + serve_edges(v, keys) + message_edges(v) + cut_edges(v);
  CASTLE_ASSERT(out.find("digraph") == 0, "the picture is a digraph");
  return out + "}\n";
}

}  // namespace castle::reports
