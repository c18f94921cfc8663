#include "checkers/epoch_register.h"

#include <algorithm>
#include <map>
#include <utility>

namespace castle::checkers {

namespace {

// An instant: a position of the total order, then a count of instants
// placed just after it (operations placed "just after" one another).
struct Instant {
  std::int64_t pos = std::numeric_limits<std::int64_t>::min();
  std::int64_t sub = 0;
  friend auto operator<=>(const Instant&, const Instant&) = default;
};

Instant at(std::int64_t pos) { return {pos, 0}; }
Instant just_after(Instant t) { return {t.pos, t.sub + 1}; }

std::string describe(const EpochOp& op) {
  return std::string(op.kind == EpochOp::Kind::write ? "write" : "read") + " (epoch " +
         std::to_string(op.epoch) + ", leader " + std::to_string(op.leader) + ") [" +
         std::to_string(op.invoke) + ", " +
         (op.complete == EpochOp::never ? std::string("?") : std::to_string(op.complete)) + "]";
}

struct Epoch {
  const EpochOp* write = nullptr;
  std::vector<const EpochOp*> reads;
};

class KeyCheck {
 public:
  KeyCheck(const std::string& key, std::vector<Anomaly>& out) : key_(key), out_(out) {}

  void run(const std::vector<const EpochOp*>& ops) {
    collect_writes(ops);
    collect_reads(ops);
    place();
  }

 private:
  void report(const char* type, std::string text, std::vector<const EpochOp*> ops) {
    Anomaly a{type, key_, std::move(text), {}};
    for (const auto* op : ops) a.ops.push_back(op->id);
    out_.push_back(std::move(a));
  }

  // One write per epoch. A second write of the same (epoch, leader) could
  // not succeed as a CAS: it is a record of the same election, so it counts
  // as a read of it; a second leader for one epoch is split brain.
  void collect_writes(const std::vector<const EpochOp*>& ops) {
    for (const auto* op : ops) {
      if (op->kind != EpochOp::Kind::write) continue;
      Epoch& e = epochs_[op->epoch];
      if (!e.write) {
        e.write = op;
      } else if (e.write->leader != op->leader) {
        report("split-brain",
               "epoch " + std::to_string(op->epoch) + " elected two leaders: " +
                   describe(*e.write) + " and " + describe(*op),
               {e.write, op});
      } else {
        const bool earlier = op->complete < e.write->complete;
        e.reads.push_back(earlier ? e.write : op);
        if (earlier) e.write = op;
      }
    }
  }

  void collect_reads(const std::vector<const EpochOp*>& ops) {
    for (const auto* op : ops) {
      if (op->kind != EpochOp::Kind::read) continue;
      auto it = epochs_.find(op->epoch);
      if (it == epochs_.end() || !it->second.write) {
        report("phantom-leader", describe(*op) + " but nobody wrote epoch " + std::to_string(op->epoch),
               {op});
      } else if (it->second.write->leader != op->leader) {
        report("phantom-leader", describe(*op) + " but epoch's leader was written as " +
                                     std::to_string(it->second.write->leader) + " by " +
                                     describe(*it->second.write),
               {op, it->second.write});
      } else {
        it->second.reads.push_back(op);
      }
    }
    // An info write nobody read may never have happened: drop it.
    std::erase_if(epochs_, [](const auto& kv) {
      return kv.second.write->complete == EpochOp::never && kv.second.reads.empty();
    });
  }

  // Earliest placement in epoch order; an operation whose earliest instant
  // is past its completion cannot be placed at all.
  void place() {
    Instant floor;
    const EpochOp* floor_by = nullptr;  // the operation that set the floor
    for (auto& [epoch, e] : epochs_) {
      const Instant tw = place_one(*e.write, floor, floor_by);
      Instant next = just_after(tw);
      const EpochOp* next_by = e.write;
      for (const auto* r : e.reads) {
        const Instant tr = place_one(*r, just_after(tw), e.write);
        if (tr >= next) {
          next = just_after(tr);
          next_by = r;
        }
      }
      floor = next;
      floor_by = next_by;
    }
  }

  Instant place_one(const EpochOp& op, Instant floor, const EpochOp* floor_by) {
    const Instant t = std::max(floor, at(op.invoke));
    if (op.complete == EpochOp::never || t <= at(op.complete)) return t;
    report("stale-leader",
           describe(op) + " completed before it could follow " +
               (floor_by ? describe(*floor_by) : std::string("the start")),
           floor_by ? std::vector<const EpochOp*>{&op, floor_by} : std::vector<const EpochOp*>{&op});
    return at(op.complete);  // placed as late as it can be, so one fault reports once
  }

  const std::string& key_;
  std::vector<Anomaly>& out_;
  std::map<std::int64_t, Epoch> epochs_;
};

}  // namespace

std::vector<Anomaly> check_epoch_registers(const std::vector<EpochOp>& ops) {
  std::map<std::string, std::vector<const EpochOp*>> by_key;
  for (const auto& op : ops) by_key[op.key].push_back(&op);
  std::vector<Anomaly> out;
  for (auto& [key, key_ops] : by_key) {
    // Completion order decides which duplicate write counts; keep it stable.
    std::stable_sort(key_ops.begin(), key_ops.end(),
                     [](const EpochOp* a, const EpochOp* b) { return a->invoke < b->invoke; });
    KeyCheck(key, out).run(key_ops);
  }
  return out;
}

std::vector<Anomaly> check_trace_epoch_registers(const std::vector<EpochOp>& ops) {
  std::vector<Anomaly> out = check_epoch_registers(ops);
  for (auto& a : out) {
    std::string events;
    for (auto id : a.ops) events += (events.empty() ? "" : ", ") + std::to_string(id);
    a.description += " (trace events #" + events + ")";
    a.ops.clear();
  }
  return out;
}

}  // namespace castle::checkers
