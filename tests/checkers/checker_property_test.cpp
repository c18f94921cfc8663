// Properties of all the history checkers together. Histories are generated
// by running clients against a correct in-memory log: each operation's
// effect happens at one instant between its invoke and its completion, with
// random interleaving, random info and fail outcomes, reassignments and
// crashes, and a final reader that reads every key from the start. Such a
// history must be judged valid and linearizable; and one planted mutation of
// it (a record swapped, dropped or moved; a read send marked failed) must be
// caught by at least one checker.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "checkers/check_all.h"

namespace castle::checkers {
namespace {

using history::Op;
using history::OpType;

struct Client {
  enum class Phase { idle, invoked, effected };
  Phase phase = Phase::idle;
  bool sending = false;
  std::string key;           // send
  std::int64_t value = 0;    // send
  std::int64_t offset = -1;  // send: where it went, -1 if dropped
  history::PollValue read;   // poll
  std::map<std::string, std::int64_t> positions;  // assigned keys -> next offset
};

class Generator {
 public:
  Generator(std::uint64_t seed, int processes, int keys) : rng_(seed) {
    for (int k = 0; k < keys; ++k) logs_["t-" + std::to_string(k)];
    clients_.resize(static_cast<std::size_t>(processes));
  }
  std::vector<Op> run(int steps);

 private:
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool chance(int percent) { return below(100) < percent; }
  std::string any_key() {
    auto it = logs_.begin();
    std::advance(it, below(static_cast<int>(logs_.size())));
    return it->first;
  }
  Op line(int p, OpType type, const char* f) {
    Op op;
    op.process = p;
    op.type = type;
    op.f = f;
    return op;
  }
  void step(int p);
  void start(int p);
  void reassign(int p, const char* f);
  void crash(int p);
  void take_effect(Client& c);
  void complete(int p);
  void final_read();

  std::mt19937_64 rng_;
  std::map<std::string, std::vector<std::int64_t>> logs_;  // key -> values by offset
  std::vector<Client> clients_;
  std::vector<Op> ops_;
  std::int64_t next_value_ = 1;
};

void Generator::start(int p) {
  Client& c = clients_[static_cast<std::size_t>(p)];
  c.sending = chance(55);
  Op op = line(p, OpType::invoke, c.sending ? "send" : "poll");
  if (c.sending) {
    c.key = any_key();
    c.value = next_value_++;
    op.sends.push_back({c.key, c.value, std::nullopt});
  }
  ops_.push_back(std::move(op));
  c.phase = Client::Phase::invoked;
}

// A fresh assignment starts each key anywhere up to its end, as a consumer
// resuming from a committed offset would.
void Generator::reassign(int p, const char* f) {
  Client& c = clients_[static_cast<std::size_t>(p)];
  c.positions.clear();
  Op op = line(p, OpType::invoke, f);
  for (auto& [key, log] : logs_) {
    if (!chance(60)) continue;
    c.positions[key] = below(static_cast<int>(log.size()) + 1);
    op.keys.push_back(key);
  }
  ops_.push_back(op);
  op.type = OpType::ok;
  ops_.push_back(std::move(op));
}

void Generator::crash(int p) {
  Client& c = clients_[static_cast<std::size_t>(p)];
  ops_.push_back(line(p, OpType::invoke, "crash"));
  ops_.push_back(line(p, OpType::info, "crash"));
  // A restarted consumer resumes at or before where it was.
  for (auto& [key, pos] : c.positions) pos = below(static_cast<int>(pos) + 1);
}

void Generator::take_effect(Client& c) {
  c.phase = Client::Phase::effected;
  if (c.sending) {
    auto& log = logs_[c.key];
    c.offset = chance(85) ? static_cast<std::int64_t>(log.size()) : -1;
    if (c.offset >= 0) log.push_back(c.value);
    return;
  }
  c.read.clear();
  for (auto& [key, pos] : c.positions) {
    const auto& log = logs_[key];
    for (int n = below(4); n > 0 && pos < static_cast<std::int64_t>(log.size()); --n, ++pos)
      c.read[key].emplace_back(pos, log[static_cast<std::size_t>(pos)]);
  }
}

void Generator::complete(int p) {
  Client& c = clients_[static_cast<std::size_t>(p)];
  c.phase = Client::Phase::idle;
  if (!c.sending) {
    Op op = line(p, chance(85) ? OpType::ok : OpType::info, "poll");
    if (op.type == OpType::ok) op.polls = c.read;
    ops_.push_back(std::move(op));
    return;
  }
  OpType type = OpType::info;
  if (c.offset >= 0 && chance(80)) type = OpType::ok;
  if (c.offset < 0 && chance(50)) type = OpType::fail;
  Op op = line(p, type, "send");
  op.sends.push_back({c.key, c.value, std::nullopt});
  if (type == OpType::ok) op.sends.back().offset = c.offset;
  ops_.push_back(std::move(op));
}

void Generator::step(int p) {
  Client& c = clients_[static_cast<std::size_t>(p)];
  if (c.phase == Client::Phase::invoked) return take_effect(c);
  if (c.phase == Client::Phase::effected) return complete(p);
  const int roll = below(100);
  if (roll < 8) return reassign(p, roll < 4 ? "assign" : "subscribe");
  if (roll < 11) return crash(p);
  start(p);
}

void Generator::final_read() {
  const int reader = static_cast<int>(clients_.size()) + 100;
  Op assign = line(reader, OpType::invoke, "assign");
  for (const auto& [key, log] : logs_) assign.keys.push_back(key);
  ops_.push_back(assign);
  assign.type = OpType::ok;
  ops_.push_back(assign);
  for (const auto& [key, log] : logs_) {
    ops_.push_back(line(reader, OpType::invoke, "poll"));
    Op done = line(reader, OpType::ok, "poll");
    for (std::size_t o = 0; o < log.size(); ++o)
      done.polls[key].emplace_back(static_cast<std::int64_t>(o), log[o]);
    ops_.push_back(std::move(done));
  }
}

std::vector<Op> Generator::run(int steps) {
  for (int p = 0; p < static_cast<int>(clients_.size()); ++p) reassign(p, "assign");
  for (int i = 0; i < steps; ++i) step(below(static_cast<int>(clients_.size())));
  // Operations still open stay open (outcome unknown), as at a run's end.
  final_read();
  return ops_;
}

history::History to_history(std::vector<Op> ops) {
  history::History h;
  for (auto& op : ops) h.add(std::move(op));
  return h;
}

std::vector<Op> generated() {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const int processes = *rc::gen::inRange(1, 7);
  const int keys = *rc::gen::inRange(1, 4);
  const int steps = *rc::gen::inRange(0, 1000);
  return Generator(seed, processes, keys).run(steps);
}

AllCheckResult check(std::vector<Op> ops) {
  return check_history(to_history(std::move(ops)), AllCheckOptions{});
}

std::string first_anomaly(const AllCheckResult& r) {
  return r.check.anomalies.empty() ? "" : r.check.anomalies[0].type + ": " + r.check.anomalies[0].description;
}

bool has(const std::vector<Op>& ops, const char* f, OpType type) {
  return std::any_of(ops.begin(), ops.end(),
                     [&](const Op& op) { return op.f == f && op.type == type; });
}

RC_GTEST_PROP(CheckerProperty, HistoriesOfACorrectLogAreValid, ()) {
  auto ops = generated();
  RC_CLASSIFY(has(ops, "send", OpType::info), "info send");
  RC_CLASSIFY(has(ops, "poll", OpType::info), "info poll");
  RC_CLASSIFY(has(ops, "crash", OpType::info), "crash");
  RC_CLASSIFY(ops.size() > 300, "over 300 lines");
  const auto r = check(std::move(ops));
  RC_ASSERT(r.verdict() == std::string("valid"));
  RC_ASSERT(first_anomaly(r).empty());
}

// --- Planted mutations. Each returns the places it can apply to; the
// property picks one place of one applicable mutation. A place is chosen
// only where the change is observable: e.g. swapping two values only where
// one of them was acknowledged, since two unacknowledged values read once
// could have been written in either order.

struct Place {
  std::size_t op = 0;
  std::string key;
  std::size_t entry = 0;
};

using Ops = std::vector<Op>;

std::set<std::int64_t> acked_values(const Ops& ops) {
  std::set<std::int64_t> out;
  for (const Op& op : ops)
    if (op.f == "send" && op.type == OpType::ok)
      for (const auto& s : op.sends) out.insert(s.value);
  return out;
}

std::set<std::int64_t> read_values(const Ops& ops) {
  std::set<std::int64_t> out;
  for (const Op& op : ops)
    for (const auto& [key, pairs] : op.polls)
      for (const auto& [o, v] : pairs) out.insert(v);
  return out;
}

// How many operations name (key, offset): acknowledgements and reads.
std::map<std::pair<std::string, std::int64_t>, int> offset_witnesses(const Ops& ops) {
  std::map<std::pair<std::string, std::int64_t>, int> n;
  for (const Op& op : ops) {
    for (const auto& s : op.sends)
      if (s.offset && op.type == OpType::ok) ++n[{s.key, *s.offset}];
    for (const auto& [key, pairs] : op.polls)
      for (const auto& [o, v] : pairs) ++n[{key, o}];
  }
  return n;
}

// Entries j of ok polls (with at least `before` entries before j and
// `after` after it) where keep(op, key, j) holds.
template <typename Keep>
std::vector<Place> poll_places(const Ops& ops, std::size_t before, std::size_t after, Keep keep) {
  std::vector<Place> out;
  for (std::size_t i = 0; i < ops.size(); ++i)
    for (const auto& [key, pairs] : ops[i].polls)
      for (std::size_t j = before; j + after < pairs.size(); ++j)
        if (keep(ops[i], key, j)) out.push_back({i, key, j});
  return out;
}

struct Mutation {
  const char* name;
  std::vector<Place> (*places)(const Ops&);
  void (*apply)(Ops&, const Place&);
};

const Mutation mutations[] = {
    {"swap two values at adjacent offsets in one poll",
     [](const Ops& ops) {
       const auto acked = acked_values(ops);
       return poll_places(ops, 0, 1, [&](const Op& op, const std::string& key, std::size_t j) {
         const auto& p = op.polls.at(key);
         return acked.count(p[j].second) + acked.count(p[j + 1].second) > 0;
       });
     },
     [](Ops& ops, const Place& at) {
       auto& p = ops[at.op].polls[at.key];
       std::swap(p[at.entry].second, p[at.entry + 1].second);
     }},
    {"reverse two adjacent records in one poll",
     [](const Ops& ops) {
       return poll_places(ops, 0, 1, [](const Op&, const std::string&, std::size_t) { return true; });
     },
     [](Ops& ops, const Place& at) {
       auto& p = ops[at.op].polls[at.key];
       std::swap(p[at.entry], p[at.entry + 1]);
     }},
    {"drop a record from the middle of a poll where others saw its offset",
     [](const Ops& ops) {
       const auto seen = offset_witnesses(ops);
       return poll_places(ops, 1, 1, [&](const Op& op, const std::string& key, std::size_t j) {
         return seen.at({key, op.polls.at(key)[j].first}) > 1;
       });
     },
     [](Ops& ops, const Place& at) {
       auto& p = ops[at.op].polls[at.key];
       p.erase(p.begin() + static_cast<std::ptrdiff_t>(at.entry));
     }},
    {"drop an acknowledged write from every read",
     [](const Ops& ops) {
       std::vector<Place> out;
       for (std::size_t i = 0; i < ops.size(); ++i)
         if (ops[i].f == "send" && ops[i].type == OpType::ok) out.push_back({i, "", 0});
       return out;
     },
     [](Ops& ops, const Place& at) {
       const std::int64_t value = ops[at.op].sends[0].value;
       for (Op& op : ops)
         for (auto& [key, pairs] : op.polls)
           std::erase_if(pairs, [&](const auto& e) { return e.second == value; });
     }},
    {"move an acknowledgement to an offset nobody read",
     [](const Ops& ops) {
       std::vector<Place> out;
       for (std::size_t i = 0; i < ops.size(); ++i)
         if (ops[i].f == "send" && ops[i].type == OpType::ok) out.push_back({i, "", 0});
       return out;
     },
     [](Ops& ops, const Place& at) { *ops[at.op].sends[0].offset += 1'000'000; }},
    {"mark a send that was read as failed",
     [](const Ops& ops) {
       const auto read = read_values(ops);
       std::vector<Place> out;
       for (std::size_t i = 0; i < ops.size(); ++i)
         if (ops[i].f == "send" && ops[i].type != OpType::invoke && read.count(ops[i].sends[0].value))
           out.push_back({i, "", 0});
       return out;
     },
     [](Ops& ops, const Place& at) {
       ops[at.op].type = OpType::fail;
       ops[at.op].sends[0].offset.reset();
     }},
};

RC_GTEST_PROP(CheckerProperty, OnePlantedMutationIsCaught, ()) {
  Ops ops = generated();
  std::vector<std::pair<const Mutation*, std::vector<Place>>> applicable;
  for (const Mutation& m : mutations)
    if (auto places = m.places(ops); !places.empty()) applicable.emplace_back(&m, std::move(places));
  RC_PRE(!applicable.empty());
  const auto& [mutation, places] =
      applicable[*rc::gen::inRange<std::size_t>(0, applicable.size())];
  const Place at = places[*rc::gen::inRange<std::size_t>(0, places.size())];
  mutation->apply(ops, at);
  RC_TAG(mutation->name);
  const auto r = check(std::move(ops));
  RC_ASSERT(r.verdict() == std::string("invalid"));
}

}  // namespace
}  // namespace castle::checkers
