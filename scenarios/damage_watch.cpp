#include "scenarios/damage_watch.h"

#include <sstream>

namespace castle::scenarios {

namespace {

// "kafka-logs/t-5" -> "t-5"
std::string dir_name(const std::string& dir) {
  const auto slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

bool damaged_field(const TraceEvent& e) {
  const TraceValue* v = e.find("damaged");
  const bool* b = v == nullptr ? nullptr : std::get_if<bool>(v);
  return b != nullptr && *b;
}

std::vector<std::int64_t> parse_ids(const std::string& text) {
  std::vector<std::int64_t> ids;
  std::istringstream in(text);
  for (std::string id; std::getline(in, id, ',');)
    if (!id.empty()) ids.push_back(std::stoll(id));
  return ids;
}

}  // namespace

void DamageWatch::observe(const TraceEvent& e) {
  if (e.kind == "broker.partition_offline" || e.kind == "broker.partition_recovery_failed") {
    if (damaged_field(e)) damaged_.insert({e.node, dir_name(e.str_field("dir"))});
  } else if (e.kind == "broker.partition_online") {
    damaged_.erase({e.node, dir_name(e.str_field("dir"))});
  } else if (e.kind == "raft.role") {
    if (e.str_field("role") != "observer") voters_.insert(e.node);
  } else if (e.kind == "raft.repair") {
    if (e.str_field("state") == "done") {
      repairing_.erase(e.node);
    } else {
      repairing_.insert(e.node);
    }
  } else if (e.kind == "metadata.partition") {
    const std::string name = e.str_field("topic") + "-" + std::to_string(e.int_field("partition"));
    Latest& l = partitions_[name];
    const std::int64_t epoch = e.int_field("partition_epoch");
    if (epoch > l.partition_epoch) {
      l = {epoch, parse_ids(e.str_field("isr")), parse_ids(e.str_field("replicas"))};
      const auto elr = parse_ids(e.str_field("elr"));
      l.eligible.insert(l.eligible.end(), elr.begin(), elr.end());
    }
  }
}

std::vector<std::string> DamageWatch::unavailable(const std::set<std::string>& flipped, bool unclean,
                                                  std::set<std::string>* partitions) const {
  std::vector<std::string> out;
  for (const auto& [name, l] : partitions_) {
    const std::vector<std::int64_t>& electable = unclean ? l.replicas : l.eligible;
    if (electable.empty()) continue;
    std::string members;
    bool all_damaged = true;
    for (std::int64_t id : electable) {
      const std::string node = "s" + std::to_string(id);
      all_damaged = all_damaged && flipped.count(node) && damaged_.count({node, name});
      members += (members.empty() ? "" : ",") + node;
    }
    if (!all_damaged) continue;
    partitions->insert(name);
    out.push_back(name + ": every " + (unclean ? "" : "eligible ") + "replica (" + members + ") is damaged");
  }
  return out;
}

std::string DamageWatch::quorum_unavailable(const std::set<std::string>& flipped) const {
  if (voters_.empty()) return "";
  std::string members;
  for (const auto& v : voters_) {
    if (!repairing_.count(v) || !flipped.count(v)) return "";
    members += (members.empty() ? "" : ",") + v;
  }
  return "every metadata quorum voter (" + members + ") is repairing a damaged log";
}

}  // namespace castle::scenarios
