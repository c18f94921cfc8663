#pragma once
// The history of a run, Jepsen-style: each client operation is an `invoke`
// line followed by one `ok`, `fail` or `info` (outcome unknown) line.
// One JSON object per line in history.jsonl, in the shape of Jepsen's Kafka
// workload so that histories are interchangeable:
//   {"index":0,"time_ns":1200,"process":3,"type":"invoke","f":"send",
//    "value":[["send","orders-0",42]]}
//   {"index":1,"time_ns":5300,"process":3,"type":"ok","f":"send",
//    "value":[["send","orders-0",[17,42]]]}
//   {"f":"poll","type":"ok","value":[["poll",{"orders-0":[[17,42],[18,43]]}]]}
// Keys are "topic-partition"; values written are unique per run.

#include <cstdint>
#include <deque>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace castle::history {

enum class OpType { invoke, ok, fail, info };

struct SendValue {
  std::string key;
  std::int64_t value = 0;
  std::optional<std::int64_t> offset;  // known on ok
};

// key -> [(offset, value)]
using PollValue = std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>>;

struct Op {
  std::int64_t index = 0;
  std::int64_t time_ns = 0;
  std::int64_t process = 0;
  OpType type = OpType::invoke;
  std::string f;                  // send, poll, assign, subscribe, commit, crash
  std::vector<SendValue> sends;   // f == send
  PollValue polls;                // f == poll (on ok)
  std::vector<std::string> keys;  // f == assign / subscribe
  std::map<std::string, std::int64_t> commits;  // f == commit
  std::string error;              // optional, on fail/info
};

const char* to_string(OpType t);

class History {
 public:
  // Appends an operation, giving it the next index.
  const Op& add(Op op);
  const std::deque<Op>& ops() const { return ops_; }
  std::size_t size() const { return ops_.size(); }

  void write_jsonl(std::ostream& out) const;
  // Parses history.jsonl. On a malformed line, returns nullopt and says
  // which line and why in *error.
  static std::optional<History> read_jsonl(std::istream& in, std::string* error);

 private:
  // A deque: a run records hundreds of thousands of operations, and a
  // vector's doublings would move each one several times into memory never
  // touched before (which on this project's VMs costs a host page fault).
  std::deque<Op> ops_;
};

std::string op_to_json(const Op& op);

}  // namespace castle::history
