#pragma once
// The simulator's single event queue, ordered by (virtual time, sequence).
// The sequence number is a running counter, so the order is total and a run
// never depends on how the heap breaks ties. Callbacks live in a slab; the
// heap moves only 24-byte keys.

#include <cstdint>
#include <vector>

#include "system/runtime/callback.h"

namespace castle::sim {

using SimTime = std::int64_t;  // nanoseconds of world time since the run began

class EventQueue {
 public:
  void push(SimTime t, Callback cb) {
    std::uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
      slots_[slot] = std::move(cb);
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(std::move(cb));
    }
    heap_.push_back(Key{t, next_seq_++, slot});
    sift_up(heap_.size() - 1);
  }

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  SimTime next_time() const { return heap_.front().time; }

  // Removes the earliest event; its callback is moved into *out.
  SimTime pop(Callback* out, std::uint64_t* seq) {
    const Key top = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
    *out = std::move(slots_[top.slot]);
    free_slots_.push_back(top.slot);
    *seq = top.seq;
    return top.time;
  }

  void clear() {
    heap_.clear();
    slots_.clear();
    free_slots_.clear();
  }

 private:
  struct Key {
    SimTime time;
    std::uint64_t seq;
    std::uint32_t slot;
    bool before(const Key& o) const { return time != o.time ? time < o.time : seq < o.seq; }
  };

  void sift_up(std::size_t i) {
    const Key k = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 4;
      if (!k.before(heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = k;
  }

  // A 4-ary heap: shallower than binary, and the children share cache lines.
  void sift_down(std::size_t i) {
    const Key k = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
      const std::size_t first = 4 * i + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t last = first + 4 < n ? first + 4 : n;
      for (std::size_t c = first + 1; c < last; ++c)
        if (heap_[c].before(heap_[best])) best = c;
      if (!heap_[best].before(k)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = k;
  }

  std::vector<Key> heap_;
  std::vector<Callback> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace castle::sim
