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

std::string with_ops(const std::string& label, const std::map<std::string, std::int64_t>& ops,
                     const std::string& name) {
  auto it = ops.find(name);
  return it == ops.end() ? label : label + "\n" + std::to_string(it->second) + " ops";
}

// Per node: how often it crashed and whether it was isolated, for its label.
std::string node_attrs(const RunView& v, const std::string& node, const std::string& fill,
                       const std::map<std::string, std::int64_t>& ops) {
  int crashes = 0, isolations = 0;
  for (const auto& f : v.faults) {
    const bool targeted = std::find(f.nodes.begin(), f.nodes.end(), node) != f.nodes.end();
    crashes += targeted && f.kind == "crash";
    isolations += targeted && f.kind == "isolate";
  }
  std::string label = with_ops(node, ops, node);
  if (crashes > 0) label += "\ncrashed x" + std::to_string(crashes);
  if (isolations > 0) label += "\nisolated x" + std::to_string(isolations);
  std::string attrs = "label=" + dot_quote(label) + ", style=filled, fillcolor=" + dot_quote(fill);
  if (isolations > 0) attrs += ", color=\"#cc0000\", penwidth=2.5";
  return attrs;
}

// What the history says about who used what: per (process node, key) edge,
// per node and per key.
struct Usage {
  std::map<std::pair<std::string, std::string>, Counts> edges;
  std::map<std::string, std::int64_t> ops_by_node;
  std::map<std::string, std::int64_t> ops_by_key;
  std::set<std::string> process_boxes;  // processes with no client node of their own
};

// The box each process's operations are drawn from. Clients keep theirs;
// past cluster_process_boxes_max other processes (an open-loop workload
// takes a process per in-flight send, thousands in a run, which dot cannot
// lay out in a minute) the busiest keep a box and the rest share one.
std::map<std::int64_t, std::string> process_boxes(const RunView& v) {
  std::map<std::int64_t, std::int64_t> ops;
  for (const auto& op : v.ops) ++ops[op.process];
  std::vector<std::pair<std::int64_t, std::int64_t>> others;  // (ops, process)
  std::map<std::int64_t, std::string> box;
  for (const auto& [process, n] : ops) {
    const std::string& name = box[process] = process_node(v, process);
    if (!is_one_of(name, v.clients)) others.emplace_back(-n, process);
  }
  if (others.size() <= cluster_process_boxes_max) return box;
  std::sort(others.begin(), others.end());
  const std::string rest =
      std::to_string(others.size() - cluster_process_boxes_max + 1) + " other processes";
  for (std::size_t i = cluster_process_boxes_max - 1; i < others.size(); ++i) box[others[i].second] = rest;
  return box;
}

Usage usage(const RunView& v) {
  Usage u;
  const std::map<std::int64_t, std::string> box = process_boxes(v);
  for (const auto& op : v.ops) {
    const std::string& from = box.at(op.process);
    if (!is_one_of(from, v.clients)) u.process_boxes.insert(from);
    ++u.ops_by_node[from];
    for (const auto& k : op.keys) {
      ++u.ops_by_key[k];
      Counts& c = u.edges[{from, k}];
      (op.outcome == history::OpType::ok ? c.ok : op.outcome == history::OpType::fail ? c.fail : c.info)++;
    }
  }
  return u;
}

std::string clusters(const RunView& v, const Usage& u) {
  std::string out = "  subgraph cluster_clients {\n    label=\"clients\"; color=\"#9bb7d4\";\n";
  for (const auto& c : v.clients) out += node_line(c, node_attrs(v, c, "#dbe8f6", u.ops_by_node));
  for (const auto& p : u.process_boxes)
    out += node_line(p, "label=" + dot_quote(with_ops(p, u.ops_by_node, p)) +
                            ", style=filled, fillcolor=\"#dbe8f6\"");
  out += "  }\n  subgraph cluster_keys {\n    label=\"keys (partitions)\"; color=\"#d9c27a\";\n";
  for (const auto& [k, n] : u.ops_by_key)
    out += node_line(k, "label=" + dot_quote(with_ops(k, u.ops_by_key, k)) +
                            ", shape=cylinder, style=filled, fillcolor=\"#fdf1c7\"");
  out += "  }\n  subgraph cluster_servers {\n    label=\"servers\"; color=\"#999999\";\n";
  for (const auto& n : v.servers) out += node_line(n, node_attrs(v, n, "#e6e6e6", u.ops_by_node));
  out += "  }\n  subgraph cluster_others {\n    label=\"other nodes (seen in the trace)\"; color=\"#cccccc\";\n";
  for (const auto& n : v.nodes)
    if (!is_one_of(n, v.servers) && !is_one_of(n, v.clients))
      out += node_line(n, node_attrs(v, n, "#f4f4f4", u.ops_by_node));
  return out + "  }\n";
}

// Edge width says how much a client used a key; the counts are in the
// tooltip, since a label per edge buries the picture on a busy cluster.
std::string op_edges(const Usage& u) {
  std::int64_t most = 1;
  for (const auto& [edge, c] : u.edges) most = std::max(most, c.ok + c.fail + c.info);
  std::string out;
  for (const auto& [edge, c] : u.edges) {
    const double width = 0.6 + 3.0 * static_cast<double>(c.ok + c.fail + c.info) / static_cast<double>(most);
    const std::string counts = edge.first + " -> " + edge.second + ": " + std::to_string(c.ok) + " ok / " +
                               std::to_string(c.fail) + " fail / " + std::to_string(c.info) + " info";
    out += edge_line(edge.first, edge.second,
                     "tooltip=" + dot_quote(counts) + ", penwidth=" + std::to_string(width).substr(0, 4) +
                         ", color=\"#5577aa\", arrowsize=0.6");
  }
  return out;
}

// Who serves each key: the last leadership claim on it, or else the node the
// key is named after ("s0-0" -> "s0"), which is how the proof service names them.
std::string serve_edges(const RunView& v, const Usage& u, std::set<std::string>& served) {
  std::string out;
  for (const auto& [k, n] : u.ops_by_key) {
    std::string server;
    for (const auto& l : v.leaders)
      if (l.subject == k) server = l.node;
    const bool leader = !server.empty();
    if (!leader && is_one_of(k.substr(0, k.rfind('-')), v.servers)) server = k.substr(0, k.rfind('-'));
    if (server.empty()) continue;
    served.insert(server);
    out += edge_line(k, server, leader ? "label=\"leader (last)\", color=\"#2a7a2a\""
                                       : "label=\"served by\", color=\"#888888\"");
  }
  return out;
}

// Servers nothing points at still go right of the keys, so that the picture
// reads left to right: clients, keys, servers.
std::string anchor_edges(const RunView& v, const Usage& u, const std::set<std::string>& served) {
  if (u.ops_by_key.empty()) return "";
  std::string out;
  for (const auto& s : v.servers)
    if (!served.count(s)) out += edge_line(u.ops_by_key.begin()->first, s, "style=invis");
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

// One edge per pair of nodes, naming every fault that cut or clogged the
// link between them, so a busy nemesis does not bury the picture. The name
// is an xlabel: a plain label on an edge within one rank makes dot route
// every other edge around it.
std::string cut_edges(const RunView& v) {
  std::map<std::pair<std::string, std::string>, std::map<std::string, int>> kinds;  // pair -> kind -> count
  for (const auto& f : v.faults)
    for (auto [x, y] : fault_links(f)) {
      if (y < x) std::swap(x, y);
      ++kinds[{x, y}][f.kind];
    }
  std::string out;
  std::size_t drawn = 0;
  for (const auto& [pair, by_kind] : kinds) {
    if (drawn++ == cluster_cut_edges_max) break;
    std::string label;
    bool cut = false;
    for (const auto& [kind, n] : by_kind) {
      label += (label.empty() ? "" : ", ") + kind + " x" + std::to_string(n);
      cut |= kind != "clog";
    }
    const char* colour = cut ? "#cc0000" : "#d4a500";
    out += edge_line(pair.first, pair.second,
                     "xlabel=" + dot_quote(label) + ", style=dashed, dir=none, constraint=false, color=\"" +
                         colour + "\", fontcolor=\"" + colour + "\"");
  }
  return out;
}

}  // namespace

std::string cluster_dot(const RunView& v) {
  const Usage u = usage(v);
  std::set<std::string> served;
  std::string out =
      "digraph cluster_shape {\n"
      "  graph [rankdir=LR, bgcolor=white, pad=0.2, nodesep=0.35, ranksep=1.2, fontname=\"Helvetica\",\n"
      "         label=\"cluster shape: who talked to what, and the links the faults cut\", labelloc=t];\n"
      "  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n"
      "  edge [fontname=\"Helvetica\", fontsize=8];\n";
  out += clusters(v, u) + op_edges(u) + serve_edges(v, u, served);
  out += anchor_edges(v, u, served) + message_edges(v) + cut_edges(v);
  CASTLE_ASSERT(out.find("digraph") == 0, "the picture is a digraph");
  return out + "}\n";
}

}  // namespace castle::reports
