#include "checkers/order_checks.h"

#include <map>
#include <optional>
#include <string>

namespace castle::checkers {

using history::History;
using history::Op;
using history::OpType;

namespace {

// key -> offset -> the first operation (completion index) that revealed it.
using KnownOffsets = std::map<std::string, std::map<std::int64_t, std::int64_t>>;

// Where a process last was on one key, and which operation put it there.
struct Position {
  std::int64_t offset = 0;
  std::int64_t op = 0;
};

struct ProcessState {
  std::map<std::string, Position> polled;  // last offset polled, per key
  std::map<std::string, Position> sent;    // last offset acknowledged, per key
};

// Offsets "exist in the log" when any acknowledgement or read names them,
// whenever in the history that happens.
KnownOffsets known_offsets(const History& h) {
  KnownOffsets known;
  for (const Op& op : h.ops()) {
    if (op.type != OpType::ok) continue;
    for (const auto& s : op.sends)
      if (s.offset) known[s.key].try_emplace(*s.offset, op.index);
    for (const auto& [key, pairs] : op.polls)
      for (const auto& [offset, value] : pairs) known[key].try_emplace(offset, op.index);
  }
  return known;
}

// The first known offset strictly between low and high, if any.
std::optional<std::pair<std::int64_t, std::int64_t>> skipped(const KnownOffsets& known,
                                                             const std::string& key,
                                                             std::int64_t low, std::int64_t high) {
  auto k = known.find(key);
  if (k == known.end()) return std::nullopt;
  auto it = k->second.upper_bound(low);
  if (it == k->second.end() || it->first >= high) return std::nullopt;
  return *it;
}

std::string step_text(std::int64_t from, std::int64_t to) {
  return "offset " + std::to_string(from) + " then " + std::to_string(to);
}

// One step of a process's reading on a key: from offset `from` (seen by op
// `from_op`) to offset `to` (seen by op `to_op`).
void check_poll_step(const KnownOffsets& known, const std::string& key, Position from,
                     Position to, const char* where, CheckResult& r) {
  if (to.offset <= from.offset) {
    r.add({"nonmonotonic-poll", key, step_text(from.offset, to.offset) + where, {from.op, to.op}});
    return;
  }
  if (auto gap = skipped(known, key, from.offset, to.offset)) {
    std::vector<std::int64_t> ops{from.op, to.op};
    if (gap->second != from.op && gap->second != to.op) ops.push_back(gap->second);
    r.add({"poll-skip", key,
           step_text(from.offset, to.offset) + where + " skips offset " +
               std::to_string(gap->first) + ", which exists",
           ops});
  }
}

void check_poll(const KnownOffsets& known, const Op& op, ProcessState& p, CheckResult& r) {
  for (const auto& [key, pairs] : op.polls) {
    if (pairs.empty()) continue;
    auto last = p.polled.find(key);
    if (last != p.polled.end())
      check_poll_step(known, key, last->second, {pairs.front().first, op.index},
                      " across polls", r);
    for (std::size_t i = 1; i < pairs.size(); ++i)
      check_poll_step(known, key, {pairs[i - 1].first, op.index}, {pairs[i].first, op.index},
                      " within one poll", r);
    p.polled[key] = {pairs.back().first, op.index};
  }
}

void check_send(const Op& op, ProcessState& p, CheckResult& r) {
  for (const auto& s : op.sends) {
    if (!s.offset) continue;
    auto last = p.sent.find(s.key);
    if (last != p.sent.end() && *s.offset <= last->second.offset)
      r.add({"nonmonotonic-send", s.key,
             "acknowledged " + step_text(last->second.offset, *s.offset),
             {last->second.op, op.index}});
    p.sent[s.key] = {*s.offset, op.index};
  }
}

// Any line of these resets: some histories record a crash as a single line,
// and resetting twice around one operation only forgets more.
bool resets(const Op& op) { return op.f == "assign" || op.f == "subscribe" || op.f == "crash"; }

}  // namespace

void check_order(const History& h, CheckResult& r) {
  const KnownOffsets known = known_offsets(h);
  std::map<std::int64_t, ProcessState> processes;
  for (const Op& op : h.ops()) {
    ProcessState& p = processes[op.process];
    if (resets(op)) {
      p = ProcessState{};
    } else if (op.f == "poll" && op.type == OpType::info) {
      p.polled.clear();
    } else if (op.f == "poll" && op.type == OpType::ok) {
      check_poll(known, op, p, r);
    } else if (op.f == "send" && op.type == OpType::ok) {
      check_send(op, p, r);
    }
  }
}

}  // namespace castle::checkers
