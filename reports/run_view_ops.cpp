// The operation side of the run view: invokes paired with completions, and
// the operations of the first violation.
#include <algorithm>

#include "reports/run_view.h"
#include "system/runtime/assert.h"

namespace castle::reports {

namespace {

using history::Op;
using history::OpType;

std::vector<std::string> op_keys(const Op& op) {
  std::vector<std::string> keys;
  for (const auto& s : op.sends) keys.push_back(s.key);
  for (const auto& [key, pairs] : op.polls) keys.push_back(key);
  for (const auto& k : op.keys) keys.push_back(k);
  for (const auto& [key, offset] : op.commits) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::string request_text(const Op& op) {
  std::string text = op.f;
  for (const auto& s : op.sends) text += " " + s.key + " " + std::to_string(s.value);
  for (const auto& k : op.keys) text += " " + k;
  return text;
}

// A poll's reply says how much it read rather than every value: the pictures
// need the shape, report.json and history.jsonl keep the values.
std::string poll_reply(const Op& op) {
  std::string text;
  for (const auto& [key, pairs] : op.polls) {
    text += " " + key + ":" + std::to_string(pairs.size());
    if (!pairs.empty())
      text += " [" + std::to_string(pairs.front().first) + ".." +
              std::to_string(pairs.back().first) + "]";
  }
  return text;
}

std::string reply_text(const Op& op) {
  std::string text = history::to_string(op.type);
  for (const auto& s : op.sends)
    if (s.offset) text += " @" + std::to_string(*s.offset);
  text += poll_reply(op);
  if (!op.error.empty()) text += ": " + op.error;
  return text;
}

void complete(OpPair& p, const Op& op) {
  p.complete_index = op.index;
  p.complete_ns = op.time_ns;
  p.outcome = op.type;
  p.reply = reply_text(op);
  for (const auto& k : op_keys(op))
    if (std::find(p.keys.begin(), p.keys.end(), k) == p.keys.end()) p.keys.push_back(k);
}

}  // namespace

void add_ops(RunView& v, const history::History& h) {
  std::map<std::int64_t, std::size_t> open;  // process -> its pending invoke
  for (const Op& op : h.ops()) {
    if (op.type == OpType::invoke) {
      OpPair p;
      p.invoke_index = op.index;
      p.process = op.process;
      p.f = op.f;
      p.invoke_ns = op.time_ns;
      p.complete_ns = v.end_ns;
      p.keys = op_keys(op);
      p.request = request_text(op);
      p.reply = "(no completion)";
      open[op.process] = v.ops.size();
      v.op_of_index[op.index] = v.ops.size();
      v.ops.push_back(std::move(p));
      continue;
    }
    auto it = open.find(op.process);
    if (it == open.end()) continue;  // a completion without its invoke: nothing to pair
    complete(v.ops[it->second], op);
    v.op_of_index[op.index] = it->second;
    open.erase(it);
  }
  for (const auto& p : v.ops) CASTLE_ASSERT(p.complete_ns >= p.invoke_ns, "completion before invoke");
}

void add_violation(RunView& v, const checkers::CheckResult& c) {
  if (c.anomalies.empty()) return;
  const auto& a = c.anomalies.front();
  v.violation_ops = a.ops;
  v.violation_title = a.type + (a.key.empty() ? "" : " " + a.key) + ": " + a.description;
}

}  // namespace castle::reports
