#include "checkers/log_checks.h"

namespace castle::checkers {

using history::History;
using history::Op;
using history::OpType;

void CheckResult::add(Anomaly a) {
  ++counts[a.type];
  anomalies.push_back(std::move(a));
}

namespace {

struct Sent {
  std::int64_t invoke = -1;  // history index of the invoke
  std::int64_t done = -1;    // of the completion
  std::string key;
  OpType outcome = OpType::info;
  std::optional<std::int64_t> offset;
};

struct Observed {
  std::int64_t value;
  std::int64_t op;
};

struct Model {
  std::map<std::int64_t, Sent> sends;  // by value
  // key -> offset -> values seen there (acks and reads)
  std::map<std::string, std::map<std::int64_t, std::vector<Observed>>> at;
  std::map<std::string, std::int64_t> max_read_offset;
  std::map<std::int64_t, std::vector<std::pair<std::string, std::int64_t>>> read_positions;
};

void index_sends(const History& h, Model& m) {
  std::map<std::int64_t, std::vector<std::int64_t>> open;  // process -> values in flight
  for (const Op& op : h.ops()) {
    if (op.f != "send") continue;
    if (op.type == OpType::invoke) {
      auto& vals = open[op.process];
      vals.clear();
      for (const auto& s : op.sends) {
        m.sends[s.value] = Sent{op.index, -1, s.key, OpType::info, std::nullopt};
        vals.push_back(s.value);
      }
      continue;
    }
    for (std::int64_t v : open[op.process]) {
      Sent& s = m.sends[v];
      s.done = op.index;
      s.outcome = op.type;
    }
    for (const auto& s : op.sends) {
      if (op.type != OpType::ok || !s.offset) continue;
      m.sends[s.value].offset = s.offset;
      m.at[s.key][*s.offset].push_back({s.value, op.index});
    }
    open[op.process].clear();
  }
}

void index_reads(const History& h, Model& m) {
  for (const Op& op : h.ops()) {
    if (op.f != "poll" || op.type != OpType::ok) continue;
    for (const auto& [key, pairs] : op.polls) {
      for (const auto& [offset, value] : pairs) {
        m.at[key][offset].push_back({value, op.index});
        m.read_positions[value].emplace_back(key, offset);
        auto& mx = m.max_read_offset.try_emplace(key, -1).first->second;
        mx = std::max(mx, offset);
      }
    }
  }
}

void check_offsets(const Model& m, CheckResult& r) {
  for (const auto& [key, offsets] : m.at) {
    for (const auto& [offset, seen] : offsets) {
      std::set<std::int64_t> values;
      std::vector<std::int64_t> ops;
      for (const auto& o : seen) {
        values.insert(o.value);
        ops.push_back(o.op);
      }
      if (values.size() > 1)
        r.add({"inconsistent-offsets", key,
               "offset " + std::to_string(offset) + " holds " + std::to_string(values.size()) +
                   " different values",
               ops});
    }
  }
}

void check_reads(const Model& m, CheckResult& r) {
  for (const auto& [value, positions] : m.read_positions) {
    std::set<std::pair<std::string, std::int64_t>> distinct(positions.begin(), positions.end());
    auto it = m.sends.find(value);
    if (it == m.sends.end()) {
      r.add({"phantom", distinct.begin()->first,
             "value " + std::to_string(value) + " was read but never sent", {}});
      continue;
    }
    const Sent& s = it->second;
    if (distinct.size() > 1)
      r.add({"duplicate", s.key,
             "value " + std::to_string(value) + " appears at " + std::to_string(distinct.size()) +
                 " offsets",
             {s.invoke}});
    if (s.outcome == OpType::fail)
      r.add({"G1a", s.key, "value " + std::to_string(value) + " was read though its send failed",
             {s.invoke, s.done}});
  }
}

void check_acked(const Model& m, const LogCheckOptions& opt, CheckResult& r) {
  for (const auto& [value, s] : m.sends) {
    if (s.outcome != OpType::ok) continue;
    ++r.acked_sends;
    const bool read = m.read_positions.count(value) != 0;
    if (read) continue;
    if (s.offset && opt.corruption_injected && opt.reported_corrupt.count({s.key, *s.offset})) {
      ++r.excused;
      continue;
    }
    auto mx = m.max_read_offset.find(s.key);
    const bool passed = s.offset && mx != m.max_read_offset.end() && mx->second >= *s.offset;
    const std::string what = "value " + std::to_string(value) +
                             (s.offset ? " acknowledged at offset " + std::to_string(*s.offset)
                                       : " acknowledged");
    if (passed)
      r.add({"lost-write", s.key, what + " is missing although reads went past it",
             {s.invoke, s.done}});
    else
      r.add({"unseen", s.key, what + " was never read", {s.invoke, s.done}});
  }
}

}  // namespace

CheckResult check_log_history(const History& h, const LogCheckOptions& options) {
  Model m;
  index_sends(h, m);
  index_reads(h, m);
  CheckResult r;
  check_offsets(m, r);
  check_reads(m, r);
  check_acked(m, options, r);
  return r;
}

}  // namespace castle::checkers
