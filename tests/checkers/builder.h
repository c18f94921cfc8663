#pragma once
// Builds histories operation by operation for the checker tests, in the same
// shape as history.jsonl. Each call appends lines; the history index of a
// line is its position, so tests can name the operations they expect.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "checkers/history.h"

namespace castle::checkers::testing {

using Pairs = std::vector<std::pair<std::int64_t, std::int64_t>>;

class Builder {
 public:
  // Each returns the history index of the line it added.
  std::int64_t invoke_send(std::int64_t p, const std::string& key, std::int64_t value) {
    history::Op op = line(p, history::OpType::invoke, "send");
    op.sends.push_back({key, value, std::nullopt});
    return push(std::move(op));
  }
  std::int64_t ok_send(std::int64_t p, const std::string& key, std::int64_t value,
                       std::int64_t offset) {
    history::Op op = line(p, history::OpType::ok, "send");
    op.sends.push_back({key, value, offset});
    return push(std::move(op));
  }
  std::int64_t end_send(std::int64_t p, history::OpType type, const std::string& key,
                        std::int64_t value) {
    history::Op op = line(p, type, "send");
    op.sends.push_back({key, value, std::nullopt});
    return push(std::move(op));
  }
  // A whole acknowledged send: invoke then ok.
  std::int64_t send(std::int64_t p, const std::string& key, std::int64_t value,
                    std::int64_t offset) {
    invoke_send(p, key, value);
    return ok_send(p, key, value, offset);
  }
  std::int64_t invoke_poll(std::int64_t p) { return push(line(p, history::OpType::invoke, "poll")); }
  std::int64_t ok_poll(std::int64_t p, const std::string& key, Pairs pairs) {
    history::Op op = line(p, history::OpType::ok, "poll");
    op.polls[key] = std::move(pairs);
    return push(std::move(op));
  }
  std::int64_t end_poll(std::int64_t p, history::OpType type) { return push(line(p, type, "poll")); }
  // A whole poll of one key: invoke then ok; returns the ok's index.
  std::int64_t poll(std::int64_t p, const std::string& key, Pairs pairs) {
    invoke_poll(p);
    return ok_poll(p, key, std::move(pairs));
  }
  std::int64_t assign(std::int64_t p, std::initializer_list<std::string> keys,
                      const char* f = "assign") {
    history::Op invoke = line(p, history::OpType::invoke, f);
    invoke.keys = keys;
    push(invoke);
    invoke.type = history::OpType::ok;
    return push(std::move(invoke));
  }
  std::int64_t crash(std::int64_t p) {
    push(line(p, history::OpType::invoke, "crash"));
    return push(line(p, history::OpType::info, "crash"));
  }
  std::int64_t next_index() const { return static_cast<std::int64_t>(h_.size()); }
  const history::History& history() const { return h_; }

 private:
  history::Op line(std::int64_t p, history::OpType type, const char* f) const {
    history::Op op;
    op.process = p;
    op.type = type;
    op.f = f;
    op.time_ns = next_index() * 1000;
    return op;
  }
  std::int64_t push(history::Op op) { return h_.add(std::move(op)).index; }

  history::History h_;
};

}  // namespace castle::checkers::testing
