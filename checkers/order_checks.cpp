#include "checkers/order_checks.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "checkers/dense_map.h"
#include "checkers/key_ids.h"

namespace castle::checkers {

using history::History;
using history::Op;
using history::OpType;

namespace {

// Offsets are indexed by key id (key_ids.h): a run's history holds hundreds
// of thousands of reads, and string-keyed trees made that the check's cost.

// Per key, the offsets that exist in the log, ascending, each with the
// first operation (completion index) that revealed it.
using KnownOffsets = std::vector<std::vector<std::pair<std::int64_t, std::int64_t>>>;

// Where a process last was on one key, and which operation put it there.
struct ProcessPosition {
  std::int64_t offset = 0;
  std::int64_t op = 0;
};

struct ProcessState {
  std::vector<std::optional<ProcessPosition>> polled;  // last offset polled, by key
  std::vector<std::optional<ProcessPosition>> sent;    // last offset acknowledged, by key
};

std::optional<ProcessPosition>& at_key(std::vector<std::optional<ProcessPosition>>& v, KeyId key) {
  if (key >= v.size()) v.resize(key + 1);
  return v[key];
}

// Offsets "exist in the log" when any acknowledgement or read names them,
// whenever in the history that happens.
KnownOffsets known_offsets(const History& h, KeyIds& keys) {
  std::vector<DenseMap<std::int64_t>> first_op;  // key -> offset -> first op
  auto offsets_of = [&](const std::string& key) -> DenseMap<std::int64_t>& {
    const KeyId id = keys.id(key);
    if (id >= first_op.size()) first_op.resize(id + 1);
    return first_op[id];
  };
  auto reveal = [](DenseMap<std::int64_t>& offsets, std::int64_t offset, std::int64_t op) {
    bool fresh = false;
    std::int64_t& first = offsets.get(offset, &fresh);
    if (fresh) first = op;
  };
  for (const Op& op : h.ops()) {
    if (op.type != OpType::ok) continue;
    for (const auto& s : op.sends)
      if (s.offset) reveal(offsets_of(s.key), *s.offset, op.index);
    for (const auto& [key, pairs] : op.polls) {
      DenseMap<std::int64_t>& offsets = offsets_of(key);
      for (const auto& [offset, value] : pairs) reveal(offsets, offset, op.index);
    }
  }
  KnownOffsets known(first_op.size());
  for (KeyId k = 0; k < first_op.size(); ++k) {
    known[k].reserve(first_op[k].size());
    first_op[k].for_each([&](std::int64_t offset, std::int64_t op) { known[k].emplace_back(offset, op); });
  }
  return known;
}

// The first known offset strictly between low and high, if any.
std::optional<std::pair<std::int64_t, std::int64_t>> skipped(const KnownOffsets& known, KeyId key,
                                                             std::int64_t low, std::int64_t high) {
  if (high - 1 <= low || key >= known.size()) return std::nullopt;  // nothing lies between
  const auto& offsets = known[key];
  auto it = std::upper_bound(offsets.begin(), offsets.end(), low,
                             [](std::int64_t v, const auto& e) { return v < e.first; });
  if (it == offsets.end() || it->first >= high) return std::nullopt;
  return *it;
}

std::string step_text(std::int64_t from, std::int64_t to) {
  return "offset " + std::to_string(from) + " then " + std::to_string(to);
}

struct Checking {
  const KnownOffsets& known;
  KeyIds& keys;
  CheckResult& r;
};

// One step of a process's reading on a key: from offset `from` (seen by op
// `from_op`) to offset `to` (seen by op `to_op`).
void check_poll_step(const Checking& c, KeyId key, ProcessPosition from, ProcessPosition to, const char* where) {
  if (to.offset <= from.offset) {
    c.r.add({"nonmonotonic-poll", c.keys.name(key), step_text(from.offset, to.offset) + where,
             {from.op, to.op}});
    return;
  }
  if (auto gap = skipped(c.known, key, from.offset, to.offset)) {
    std::vector<std::int64_t> ops{from.op, to.op};
    if (gap->second != from.op && gap->second != to.op) ops.push_back(gap->second);
    c.r.add({"poll-skip", c.keys.name(key),
             step_text(from.offset, to.offset) + where + " skips offset " +
                 std::to_string(gap->first) + ", which exists",
             ops});
  }
}

void check_poll(const Checking& c, const Op& op, ProcessState& p) {
  for (const auto& [name, pairs] : op.polls) {
    if (pairs.empty()) continue;
    const KeyId key = c.keys.id(name);
    std::optional<ProcessPosition>& last = at_key(p.polled, key);
    if (last) check_poll_step(c, key, *last, {pairs.front().first, op.index}, " across polls");
    for (std::size_t i = 1; i < pairs.size(); ++i)
      check_poll_step(c, key, {pairs[i - 1].first, op.index}, {pairs[i].first, op.index},
                      " within one poll");
    last = ProcessPosition{pairs.back().first, op.index};
  }
}

void check_send(const Checking& c, const Op& op, ProcessState& p) {
  for (const auto& s : op.sends) {
    if (!s.offset) continue;
    std::optional<ProcessPosition>& last = at_key(p.sent, c.keys.id(s.key));
    if (last && *s.offset <= last->offset)
      c.r.add({"nonmonotonic-send", s.key, "acknowledged " + step_text(last->offset, *s.offset),
               {last->op, op.index}});
    last = ProcessPosition{*s.offset, op.index};
  }
}

// Any line of these resets: some histories record a crash as a single line,
// and resetting twice around one operation only forgets more.
bool resets(const Op& op) { return op.f == "assign" || op.f == "subscribe" || op.f == "crash"; }

}  // namespace

void check_order(const History& h, CheckResult& r) {
  KeyIds keys;
  const KnownOffsets known = known_offsets(h, keys);
  const Checking c{known, keys, r};
  std::map<std::int64_t, ProcessState> processes;
  for (const Op& op : h.ops()) {
    ProcessState& p = processes[op.process];
    if (resets(op)) {
      p = ProcessState{};
    } else if (op.f == "poll" && op.type == OpType::info) {
      p.polled.clear();
    } else if (op.f == "poll" && op.type == OpType::ok) {
      check_poll(c, op, p);
    } else if (op.f == "send" && op.type == OpType::ok) {
      check_send(c, op, p);
    }
  }
}

}  // namespace castle::checkers
