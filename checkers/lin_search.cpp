// Wing and Gong's linearizability search with Lowe's cache, for one key's log.
//
// The history is a doubly linked list of call and return entries in real-time
// order. The search walks it from the head: at a call whose operation the
// model accepts now, it linearizes the operation (lifts both its entries out
// of the list) and starts again from the head; at a return, the operation
// returning was never placed, so it backtracks the latest choice and tries
// the next call after it. Lowe's cache records every (linearized set, model
// state) reached, so no configuration is explored twice; here the state is
// a function of the set (the first m appends in offset order), so the set
// alone is the key. Info operations have no return entry: nothing forces
// them, and the search succeeds once every ok operation is placed.
#include <algorithm>
#include <map>
#include <optional>
#include <unordered_set>

#include "checkers/lin_search.h"
#include "system/runtime/assert.h"

namespace castle::checkers::lin {

namespace {

struct Entry {
  std::size_t op = 0;
  bool is_return = false;
};

// What the search needs to know of each operation, fixed before it starts.
struct Prepared {
  std::vector<std::size_t> chain_position;  // append: its place in offset order
  std::vector<std::size_t> appends_needed;  // poll: m it needs (matched polls)
  std::string static_failure;               // why no order at all can work
  std::vector<std::size_t> culprits;        // the operations that say so
};

using Chain = std::vector<const LinOp*>;  // the appends in offset order

// Where a poll's read departs from every log the appends can form, told
// with the appends involved.
struct Mismatch {
  std::string text;
  std::vector<const LinOp*> appends;
};

std::string poll_text(const LinOp& p) {
  return "poll invoked at history index " + std::to_string(p.call) + " returning offsets " +
         std::to_string(p.observed.front().first) + ".." + std::to_string(p.observed.back().first);
}

std::string at_text(std::int64_t value, std::int64_t offset) {
  return "value " + std::to_string(value) + " at offset " + std::to_string(offset);
}

// Explains the first entry of a poll that differs from the appends' log.
Mismatch explain(const LinOp* there, std::int64_t offset, std::int64_t value,
                 const std::map<std::int64_t, const LinOp*>& by_value) {
  Mismatch m;
  if (there && there->offset < offset) {
    m.text = "it skips " + at_text(there->value, there->offset) + ", which was appended";
    m.appends.push_back(there);
    return m;
  }
  m.text = "it read " + at_text(value, offset);
  auto a = by_value.find(value);
  if (a == by_value.end()) {
    m.text += ", which no send wrote";
  } else {
    m.appends.push_back(a->second);
    if (a->second->offset != offset) m.text += ", appended at offset " + std::to_string(a->second->offset);
  }
  if (there && there->offset == offset) {
    m.text += ", where " + at_text(there->value, there->offset) + " was appended";
    m.appends.push_back(there);
  }
  return m;
}

// The log segment a poll read must equal the appends between its first and
// last offset; otherwise no linearization exists whatever the timing.
std::optional<Mismatch> segment_mismatch(const Chain& chain, const LinOp& p,
                                         const std::map<std::int64_t, const LinOp*>& by_value,
                                         std::size_t* needed) {
  for (std::size_t i = 1; i < p.observed.size(); ++i)
    if (p.observed[i].first <= p.observed[i - 1].first)
      return Mismatch{"its offsets go from " + std::to_string(p.observed[i - 1].first) + " to " +
                          std::to_string(p.observed[i].first),
                      {}};
  auto by_offset = [](const LinOp* a, std::int64_t o) { return a->offset < o; };
  auto lo = std::lower_bound(chain.begin(), chain.end(), p.observed.front().first, by_offset);
  auto hi = std::lower_bound(chain.begin(), chain.end(), p.observed.back().first + 1, by_offset);
  for (std::size_t i = 0; i < p.observed.size(); ++i) {
    const auto [offset, value] = p.observed[i];
    const LinOp* there = lo + static_cast<std::ptrdiff_t>(i) < hi ? lo[static_cast<std::ptrdiff_t>(i)] : nullptr;
    if (!there || there->offset != offset || there->value != value)
      return explain(there, offset, value, by_value);
  }
  // Offsets only grow along the chain, so every append in [lo, hi) was read.
  CASTLE_ASSERT(hi - lo == static_cast<std::ptrdiff_t>(p.observed.size()), "segment covered");
  *needed = static_cast<std::size_t>(hi - chain.begin());
  return std::nullopt;
}

Chain offset_order(const std::vector<LinOp>& ops) {
  Chain chain;
  for (const LinOp& op : ops)
    if (op.kind == LinOp::Kind::append) chain.push_back(&op);
  std::stable_sort(chain.begin(), chain.end(),
                   [](const LinOp* a, const LinOp* b) { return a->offset < b->offset; });
  return chain;
}

void fail(Prepared& p, const std::vector<LinOp>& ops, std::string why,
          std::vector<const LinOp*> involved) {
  p.static_failure = std::move(why);
  for (const LinOp* op : involved) p.culprits.push_back(static_cast<std::size_t>(op - ops.data()));
}

Prepared prepare(const std::vector<LinOp>& ops) {
  Prepared p;
  p.chain_position.assign(ops.size(), 0);
  p.appends_needed.assign(ops.size(), 0);
  const Chain chain = offset_order(ops);
  std::map<std::int64_t, const LinOp*> by_value;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    p.chain_position[static_cast<std::size_t>(chain[i] - ops.data())] = i;
    by_value.try_emplace(chain[i]->value, chain[i]);
    if (i > 0 && chain[i]->offset == chain[i - 1]->offset && p.static_failure.empty())
      fail(p, ops, "two appends at one offset: " + at_text(chain[i - 1]->value, chain[i]->offset) +
                       " and " + at_text(chain[i]->value, chain[i]->offset),
           {chain[i - 1], chain[i]});
  }
  for (std::size_t i = 0; i < ops.size() && p.static_failure.empty(); ++i) {
    if (ops[i].kind != LinOp::Kind::poll) continue;
    if (auto m = segment_mismatch(chain, ops[i], by_value, &p.appends_needed[i])) {
      m->appends.insert(m->appends.begin(), &ops[i]);
      fail(p, ops, poll_text(ops[i]) + " is no segment of any log the appends can form: " + m->text,
           m->appends);
    }
  }
  return p;
}

// Entries in real-time order; ties cannot mix two operations of one key
// except the micro-ops of one send, whose order does not matter.
std::vector<Entry> entries(const std::vector<LinOp>& ops) {
  std::vector<Entry> e;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    e.push_back({i, false});
    if (ops[i].required()) e.push_back({i, true});
  }
  auto time = [&](const Entry& x) { return x.is_return ? ops[x.op].ret : ops[x.op].call; };
  std::stable_sort(e.begin(), e.end(), [&](const Entry& a, const Entry& b) {
    return std::pair(time(a), a.is_return) < std::pair(time(b), b.is_return);
  });
  return e;
}

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The set of linearized operations, kept as a 128-bit fingerprint updated as
// members come and go (Zobrist hashing: each operation owns two random words,
// the set is their XOR), so a cache probe costs O(1) time and the cache 16
// bytes per configuration instead of a bitset of every operation. Two sets
// collide with probability 2^-128 per pair; a collision could only make the
// search skip a configuration it believes seen, so it could hide a
// linearization (a false "invalid", which the witness search would then
// have to reproduce on subsets) but never invent one.
struct OpSet {
  std::uint64_t low = 0, high = 0;
  void flip(std::size_t i) {
    low ^= mix(2 * i);
    high ^= mix(2 * i + 1);
  }
  bool operator==(const OpSet& o) const { return low == o.low && high == o.high; }
};

struct OpSetHash {
  std::size_t operator()(const OpSet& s) const { return s.low; }
};

// The linked list of entries: index 0 is the head sentinel, entry k is k+1.
struct EntryList {
  std::vector<std::size_t> next, prev;
  std::vector<std::size_t> call_of, return_of;  // op -> node (0: none)
  explicit EntryList(const std::vector<Entry>& e, std::size_t op_count)
      : next(e.size() + 2), prev(e.size() + 2), call_of(op_count, 0), return_of(op_count, 0) {
    for (std::size_t k = 0; k <= e.size(); ++k) {
      next[k] = k + 1;
      prev[k + 1] = k;
    }
    for (std::size_t k = 0; k < e.size(); ++k)
      (e[k].is_return ? return_of : call_of)[e[k].op] = k + 1;
  }
  std::size_t end() const { return next.size() - 1; }
  void unlink(std::size_t n) {
    next[prev[n]] = next[n];
    prev[next[n]] = prev[n];
  }
  void relink(std::size_t n) {
    next[prev[n]] = n;
    prev[next[n]] = n;
  }
  void lift(std::size_t op) {
    unlink(call_of[op]);
    if (return_of[op]) unlink(return_of[op]);
  }
  void unlift(std::size_t op) {
    if (return_of[op]) relink(return_of[op]);
    relink(call_of[op]);
  }
};

class Search {
 public:
  Search(const std::vector<LinOp>& ops, const Prepared& prepared, const Budget& budget)
      : ops_(ops), prepared_(prepared), budget_(budget), entries_(entries(ops)),
        list_(entries_, ops.size()) {
    for (const LinOp& op : ops) required_left_ += op.required() ? 1 : 0;
  }
  SearchResult run();

 private:
  bool legal(std::size_t op) const {
    if (ops_[op].kind == LinOp::Kind::append) return prepared_.chain_position[op] == appended_;
    return appended_ >= prepared_.appends_needed[op];
  }
  void apply(std::size_t op, int direction) {
    if (ops_[op].kind == LinOp::Kind::append) appended_ += direction;
    required_left_ -= ops_[op].required() ? direction : 0;
    linearized_.flip(op);
  }
  bool over_budget();
  std::string stuck_text() const;
  bool try_call(std::size_t node);
  std::size_t backtrack();

  const std::vector<LinOp>& ops_;
  const Prepared& prepared_;
  const Budget& budget_;
  std::vector<Entry> entries_;
  EntryList list_;
  OpSet linearized_;
  std::unordered_set<OpSet, OpSetHash> cache_;
  std::vector<std::size_t> stack_;  // ops linearized, in order
  std::size_t appended_ = 0;
  std::int64_t required_left_ = 0;
  std::size_t deepest_ = 0;  // most operations placed when a return blocked
  std::size_t stuck_ = 0;    // the operation whose return blocked there
  std::int64_t steps_ = 0;
  std::int64_t cache_bytes_ = 0;
};

bool Search::over_budget() {
  if (steps_ >= budget_.steps_max || cache_bytes_ >= budget_.cache_bytes_max) return true;
  // Reading the clock every step would cost more than the step itself.
  return steps_ % 4096 == 0 && std::chrono::steady_clock::now() >= budget_.deadline;
}

// Linearizes the call at `node` if the model accepts it and the resulting
// configuration is new.
bool Search::try_call(std::size_t node) {
  const std::size_t op = entries_[node - 1].op;
  if (!legal(op)) return false;
  apply(op, +1);
  if (!cache_.insert(linearized_).second) {
    apply(op, -1);
    return false;
  }
  // The fingerprint plus a rough per-node overhead of the hash set.
  cache_bytes_ += static_cast<std::int64_t>(sizeof(OpSet) + 32);
  stack_.push_back(op);
  list_.lift(op);
  return true;
}

// Undoes the latest choice; returns the node to continue from (after its call).
std::size_t Search::backtrack() {
  const std::size_t op = stack_.back();
  stack_.pop_back();
  list_.unlift(op);
  apply(op, -1);
  return list_.next[list_.call_of[op]];
}

std::string Search::stuck_text() const {
  const LinOp& op = ops_[stuck_];
  const bool append = op.kind == LinOp::Kind::append;
  return std::string("no order of the operations places the ") + (append ? "send" : "poll") +
         " of process " + std::to_string(op.process) + " (history indexes " +
         std::to_string(op.call) + ".." + std::to_string(op.ret) + ") within its interval" +
         (append ? ": the sends at offsets below its " + std::to_string(op.offset) +
                        " cannot all precede it"
                 : ": the sends it read cannot all precede it");
}

SearchResult Search::run() {
  std::size_t node = list_.next[0];
  while (required_left_ > 0) {
    ++steps_;
    if (over_budget()) return {Outcome::budget_exceeded, steps_, "search budget exceeded", {}};
    CASTLE_ASSERT(node != list_.end(), "a required operation's return is always ahead");
    if (!entries_[node - 1].is_return) {
      node = try_call(node) ? list_.next[0] : list_.next[node];
      continue;
    }
    // The return met with the most operations placed is the best
    // explanation of a failure: everything before it fitted.
    if (stack_.size() >= deepest_) {
      deepest_ = stack_.size();
      stuck_ = entries_[node - 1].op;
    }
    if (stack_.empty()) return {Outcome::not_linearizable, steps_, stuck_text(), {}};
    node = backtrack();
  }
  return {Outcome::linearizable, steps_, "", {}};
}

}  // namespace

SearchResult search(const std::vector<LinOp>& ops, const Budget& budget) {
  const Prepared prepared = prepare(ops);
  if (!prepared.static_failure.empty())
    return {Outcome::not_linearizable, 0, prepared.static_failure, prepared.culprits};
  Search s(ops, prepared, budget);
  return s.run();
}

}  // namespace castle::checkers::lin
