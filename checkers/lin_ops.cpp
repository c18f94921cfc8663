// From a history to the per-key operations of the log linearizability search.
#include <map>
#include <optional>

#include "checkers/dense_map.h"
#include "checkers/key_ids.h"
#include "checkers/lin_search.h"

namespace castle::checkers::lin {

using history::History;
using history::Op;
using history::OpType;

namespace {

// One send micro-op, its interval and what became of it.
struct SendFact {
  std::string key;
  std::int64_t value = 0;
  std::int64_t call = 0;
  std::int64_t ret = return_never;
  std::int64_t process = 0;
  OpType outcome = OpType::info;
  std::optional<std::int64_t> acked_offset;
};

struct Collected {
  std::vector<SendFact> sends;
  std::vector<std::pair<const Op*, const Op*>> polls;  // (invoke, ok completion)
  // (key, value) -> the offset it was first read at; every read of the
  // history lands here. Workloads write each value once under one key, so
  // the map is by value (dense: values are 0, 1, 2, ... across all keys,
  // where per key they would be sparse), remembering the key; a value read
  // under a second key goes to other_keys.
  struct FirstRead {
    KeyId key = 0;
    std::int64_t offset = 0;
  };
  KeyIds keys;
  DenseMap<FirstRead> by_value;
  std::map<std::pair<KeyId, std::int64_t>, std::int64_t> other_keys;

  void read(const std::string& key, const std::vector<std::pair<std::int64_t, std::int64_t>>& pairs) {
    const KeyId id = keys.id(key);
    for (const auto& [offset, value] : pairs) {
      bool fresh = false;
      FirstRead& first = by_value.get(value, &fresh);
      if (fresh) first = {id, offset};
      else if (first.key != id) other_keys.try_emplace({id, value}, offset);
    }
  }
  const std::int64_t* first_read(const std::string& key, std::int64_t value) {
    const FirstRead* first = by_value.find(value);
    if (first == nullptr) return nullptr;
    const KeyId id = keys.id(key);
    if (first->key == id) return &first->offset;
    auto it = other_keys.find({id, value});
    return it == other_keys.end() ? nullptr : &it->second;
  }
};

void complete_send(const Op& invoke, const Op& done, Collected& c) {
  for (const auto& s : invoke.sends) {
    SendFact f{s.key, s.value, invoke.index, return_never, invoke.process, done.type, std::nullopt};
    if (done.type == OpType::ok) {
      f.ret = done.index;
      for (const auto& acked : done.sends)
        if (acked.value == s.value && acked.key == s.key) f.acked_offset = acked.offset;
    }
    c.sends.push_back(std::move(f));
  }
}

void complete(const Op& invoke, const Op& done, Collected& c) {
  if (invoke.f == "send") complete_send(invoke, done, c);
  if (invoke.f != "poll" || done.type != OpType::ok) return;
  c.polls.emplace_back(&invoke, &done);
  for (const auto& [key, pairs] : done.polls) c.read(key, pairs);
}

// Pairs each invoke with its process's next completion; an invoke left open
// at the end of the history is an info send (it may yet take effect).
Collected collect(const History& h) {
  Collected c;
  std::map<std::int64_t, const Op*> open;  // process -> its invoke
  Op never;
  never.type = OpType::info;
  for (const Op& op : h.ops()) {
    if (op.type == OpType::invoke) {
      auto& slot = open[op.process];
      if (slot) complete(*slot, never, c);  // a process that moved on: outcome unknown
      slot = &op;
      continue;
    }
    auto it = open.find(op.process);
    if (it == open.end() || !it->second || it->second->f != op.f) continue;
    complete(*it->second, op, c);
    open.erase(it);
  }
  for (const auto& [process, invoke] : open)
    if (invoke) complete(*invoke, never, c);
  return c;
}

void add_appends(Collected& c, KeyOps& out) {
  for (const SendFact& s : c.sends) {
    if (s.outcome == OpType::fail) continue;
    std::optional<std::int64_t> offset = s.acked_offset;
    const std::int64_t* read = c.first_read(s.key, s.value);
    if (!offset && read != nullptr) offset = *read;
    // Unread info sends and acknowledgements without an offset constrain
    // nothing the search can check.
    if (!offset || (s.outcome == OpType::info && read == nullptr)) continue;
    LinOp op;
    op.kind = LinOp::Kind::append;
    op.call = s.call;
    op.ret = s.ret;
    op.process = s.process;
    op.offset = *offset;
    op.value = s.value;
    out[s.key].push_back(std::move(op));
  }
}

void add_polls(const Collected& c, KeyOps& out) {
  for (const auto& [invoke, done] : c.polls) {
    for (const auto& [key, pairs] : done->polls) {
      if (pairs.empty()) continue;  // says nothing about where the reader was
      LinOp op;
      op.kind = LinOp::Kind::poll;
      op.call = invoke->index;
      op.ret = done->index;
      op.process = invoke->process;
      op.observed = pairs;
      out[key].push_back(std::move(op));
    }
  }
}

}  // namespace

KeyOps lin_ops(const History& h) {
  Collected c = collect(h);
  KeyOps out;
  add_appends(c, out);
  add_polls(c, out);
  return out;
}

}  // namespace castle::checkers::lin
