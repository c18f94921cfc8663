#include "checkers/log_checks.h"

#include <algorithm>
#include <optional>

#include "checkers/dense_map.h"
#include "checkers/key_ids.h"

namespace castle::checkers {

using history::History;
using history::Op;
using history::OpType;

void CheckResult::add(Anomaly a) {
  ++counts[a.type];
  anomalies.push_back(std::move(a));
}

namespace {

// The history is indexed by key id and in dense maps (key_ids.h,
// dense_map.h): a run's history holds hundreds of thousands of reads, and
// string-keyed trees made indexing them the cost of the check.

// The key of a value acknowledged but never sent: "" in the report.
constexpr KeyId no_key = UINT32_MAX;

struct Sent {
  std::int64_t invoke = -1;  // history index of the invoke
  std::int64_t done = -1;    // of the completion
  KeyId key = no_key;
  OpType outcome = OpType::info;
  std::optional<std::int64_t> offset;
};

// The value first seen at one offset, and whether another one was too.
struct Slot {
  std::int64_t value = 0;
  bool conflict = false;
};

struct Position {
  KeyId key;
  std::int64_t offset;
  bool operator==(const Position&) const = default;
};

// Where a value was read: its first position and any other distinct ones.
struct ReadPositions {
  Position first{0, 0};
  std::vector<Position> others;
};

struct Model {
  KeyIds keys;
  DenseMap<Sent> sends;                   // by value
  std::vector<DenseMap<Slot>> at;         // key -> offset -> values seen (acks and reads)
  std::vector<std::optional<std::int64_t>> max_read_offset;  // by key, once read; at least -1
  DenseMap<ReadPositions> read_positions;     // by value
  bool any_conflict = false;

  KeyId key(const std::string& name) {
    const KeyId id = keys.id(name);
    if (id >= at.size()) {
      at.resize(id + 1);
      max_read_offset.resize(id + 1);
    }
    return id;
  }
  const std::string& name(KeyId id) const {
    static const std::string none;
    return id == no_key ? none : keys.name(id);
  }
  void observe(KeyId key, std::int64_t offset, std::int64_t value) {
    bool fresh = false;
    Slot& slot = at[key].get(offset, &fresh);
    if (fresh) {
      slot.value = value;
    } else if (slot.value != value) {
      slot.conflict = any_conflict = true;
    }
  }
};

// f(key, offset, value, op index) for each offset an acknowledgement names.
template <class F>
void each_ack(const Op& op, F&& f) {
  if (op.f != "send" || op.type != OpType::ok) return;
  for (const auto& s : op.sends)
    if (s.offset) f(s.key, *s.offset, s.value, op.index);
}

// f(key, offset, value, op index) for each record an ok poll returned.
template <class F>
void each_read(const Op& op, F&& f) {
  if (op.f != "poll" || op.type != OpType::ok) return;
  for (const auto& [key, pairs] : op.polls)
    for (const auto& [offset, value] : pairs) f(key, offset, value, op.index);
}

void index_sends(const History& h, Model& m) {
  std::map<std::int64_t, std::vector<std::int64_t>> open;  // process -> values in flight
  for (const Op& op : h.ops()) {
    if (op.f != "send") continue;
    if (op.type == OpType::invoke) {
      auto& vals = open[op.process];
      vals.clear();
      for (const auto& s : op.sends) {
        m.sends.get(s.value) = Sent{op.index, -1, m.key(s.key), OpType::info, std::nullopt};
        vals.push_back(s.value);
      }
      continue;
    }
    for (std::int64_t v : open[op.process]) {
      Sent& s = m.sends.get(v);
      s.done = op.index;
      s.outcome = op.type;
    }
    each_ack(op, [&](const std::string& key, std::int64_t offset, std::int64_t value, std::int64_t) {
      m.sends.get(value).offset = offset;
      m.observe(m.key(key), offset, value);
    });
    open[op.process].clear();
  }
}

void read_at(Model& m, KeyId key, std::int64_t offset, std::int64_t value) {
  m.observe(key, offset, value);
  bool fresh = false;
  ReadPositions& r = m.read_positions.get(value, &fresh);
  const Position p{key, offset};
  if (fresh) {
    r.first = p;
  } else if (!(r.first == p) && std::find(r.others.begin(), r.others.end(), p) == r.others.end()) {
    r.others.push_back(p);
  }
  auto& mx = m.max_read_offset[key];
  mx = std::max(mx.value_or(-1), offset);
}

void index_reads(const History& h, Model& m) {
  for (const Op& op : h.ops()) {
    if (op.f != "poll" || op.type != OpType::ok) continue;
    for (const auto& [key, pairs] : op.polls) {
      const KeyId id = m.key(key);
      for (const auto& [offset, value] : pairs) read_at(m, id, offset, value);
    }
  }
}

struct Observed {
  std::int64_t value;
  std::int64_t op;
};

// Every observation of the offsets that hold two values, in the order the
// history makes them (acknowledgements first, then reads), by key name.
std::map<std::pair<std::string, std::int64_t>, std::vector<Observed>> conflicts(const History& h,
                                                                               Model& m) {
  std::map<std::pair<std::string, std::int64_t>, std::vector<Observed>> out;
  auto gather = [&](const std::string& key, std::int64_t offset, std::int64_t value, std::int64_t op) {
    const Slot* slot = m.at[m.key(key)].find(offset);
    if (slot != nullptr && slot->conflict) out[{key, offset}].push_back({value, op});
  };
  for (const Op& op : h.ops()) each_ack(op, gather);
  for (const Op& op : h.ops()) each_read(op, gather);
  return out;
}

void check_offsets(const History& h, Model& m, CheckResult& r) {
  if (!m.any_conflict) return;
  for (const auto& [where, seen] : conflicts(h, m)) {
    std::set<std::int64_t> values;
    std::vector<std::int64_t> ops;
    for (const auto& o : seen) {
      values.insert(o.value);
      ops.push_back(o.op);
    }
    r.add({"inconsistent-offsets", where.first,
           "offset " + std::to_string(where.second) + " holds " + std::to_string(values.size()) +
               " different values",
           ops});
  }
}

// The first key, by name, at which a value was read.
const std::string& first_key(const Model& m, const ReadPositions& r) {
  const std::string* best = &m.keys.name(r.first.key);
  for (const Position& p : r.others)
    if (m.keys.name(p.key) < *best) best = &m.keys.name(p.key);
  return *best;
}

void check_reads(const Model& m, CheckResult& r) {
  m.read_positions.for_each([&](std::int64_t value, const ReadPositions& positions) {
    const Sent* s = m.sends.find(value);
    if (s == nullptr) {
      r.add({"phantom", first_key(m, positions),
             "value " + std::to_string(value) + " was read but never sent", {}});
      return;
    }
    const std::size_t distinct = 1 + positions.others.size();
    const std::string& key = m.name(s->key);
    if (distinct > 1)
      r.add({"duplicate", key,
             "value " + std::to_string(value) + " appears at " + std::to_string(distinct) +
                 " offsets",
             {s->invoke}});
    if (s->outcome == OpType::fail)
      r.add({"G1a", key, "value " + std::to_string(value) + " was read though its send failed",
             {s->invoke, s->done}});
  });
}

void check_acked(const Model& m, const LogCheckOptions& opt, CheckResult& r) {
  m.sends.for_each([&](std::int64_t value, const Sent& s) {
    if (s.outcome != OpType::ok) return;
    ++r.acked_sends;
    if (m.read_positions.find(value) != nullptr) return;
    const std::string& key = m.name(s.key);
    if (s.offset && opt.corruption_injected && opt.reported_corrupt.count({key, *s.offset})) {
      ++r.excused;
      return;
    }
    const bool key_read = s.key < m.max_read_offset.size() && m.max_read_offset[s.key];
    const bool passed = s.offset && key_read && *m.max_read_offset[s.key] >= *s.offset;
    const std::string what = "value " + std::to_string(value) +
                             (s.offset ? " acknowledged at offset " + std::to_string(*s.offset)
                                       : " acknowledged");
    if (passed)
      r.add({"lost-write", key, what + " is missing although reads went past it",
             {s.invoke, s.done}});
    else
      r.add({"unseen", key, what + " was never read", {s.invoke, s.done}});
  });
}

}  // namespace

CheckResult check_log_history(const History& h, const LogCheckOptions& options) {
  Model m;
  index_sends(h, m);
  index_reads(h, m);
  CheckResult r;
  check_offsets(h, m, r);
  check_reads(m, r);
  check_acked(m, options, r);
  return r;
}

}  // namespace castle::checkers
