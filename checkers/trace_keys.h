#pragma once
// Small dense ids for the partitions and nodes that trace events name. The
// replication invariants watch every replica.append, replica.hw and
// replica.ack of a run, tens of thousands of them; building a
// "topic-partition" string and walking string-keyed maps per event made
// watching cost more than the replication it watched. Ids are handed out in
// order of first appearance, so they depend only on the trace.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "system/runtime/assert.h"
#include "system/runtime/trace.h"

namespace castle::checkers {

// The broker ids of a trace id list ("1,2,3", as trace_id_list writes them).
inline std::vector<std::int64_t> parse_id_list(const std::string& list) {
  std::vector<std::int64_t> out;
  std::int64_t v = 0;
  bool digits = false;
  for (char c : list) {
    if (c >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      digits = true;
    } else {
      if (digits) out.push_back(v);
      v = 0;
      digits = false;
    }
  }
  if (digits) out.push_back(v);
  return out;
}

// Whether a metadata.partition event restored a snapshot rather than
// applied a record.
inline bool from_snapshot(const TraceEvent& e) {
  const TraceValue* s = e.find("snapshot");
  return s != nullptr && std::get_if<bool>(s) != nullptr && *std::get_if<bool>(s);
}

class TraceKeys {
 public:
  // The id of the partition an event names (fields "topic", "partition").
  std::uint32_t partition(const TraceEvent& e) {
    static const std::string no_topic;
    const auto* t = e.find("topic");
    const std::string* s = t != nullptr ? std::get_if<std::string>(t) : nullptr;
    const std::string& topic = s != nullptr ? *s : no_topic;
    const std::int64_t p = e.int_field("partition");
    // Runs have a topic or two: remember the last one's table.
    if (last_topic_ == nullptr || *last_topic_ != topic) {
      auto it = topics_.try_emplace(topic).first;
      last_topic_ = &it->first;
      last_table_ = &it->second;
    }
    std::uint32_t& id = slot(*last_table_, p);
    if (id == 0) {
      names_.push_back(topic + "-" + std::to_string(p));
      id = static_cast<std::uint32_t>(names_.size());
    }
    return id - 1;
  }
  // "topic-partition", as the anomalies name the partition.
  const std::string& partition_name(std::uint32_t id) const {
    CASTLE_ASSERT(id < names_.size(), "a partition id that was never handed out");
    return names_[id];
  }
  std::size_t partitions() const { return names_.size(); }

  std::uint32_t node(const std::string& name) {
    auto [it, fresh] = nodes_.try_emplace(name, static_cast<std::uint32_t>(node_names_.size()));
    if (fresh) node_names_.push_back(name);
    return it->second;
  }
  const std::string& node_name(std::uint32_t id) const {
    CASTLE_ASSERT(id < node_names_.size(), "a node id that was never handed out");
    return node_names_[id];
  }
  std::size_t nodes() const { return node_names_.size(); }

 private:
  // Partition numbers are small and dense; negative or huge ones (never in
  // a correct trace) share a hash map.
  struct Table {
    std::vector<std::uint32_t> dense;                    // partition -> id + 1
    std::unordered_map<std::int64_t, std::uint32_t> rest;  // likewise
  };
  static constexpr std::int64_t dense_partitions_max = 1 << 16;

  static std::uint32_t& slot(Table& t, std::int64_t p) {
    if (p < 0 || p >= dense_partitions_max) return t.rest[p];
    if (static_cast<std::size_t>(p) >= t.dense.size()) t.dense.resize(static_cast<std::size_t>(p) + 1, 0);
    return t.dense[static_cast<std::size_t>(p)];
  }

  std::unordered_map<std::string, Table> topics_;
  const std::string* last_topic_ = nullptr;
  Table* last_table_ = nullptr;
  std::vector<std::string> names_;  // by partition id
  std::unordered_map<std::string, std::uint32_t> nodes_;
  std::vector<std::string> node_names_;
};

}  // namespace castle::checkers
