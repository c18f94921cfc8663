#pragma once
// The simulator's single event queue, ordered by (virtual time, sequence).
// The sequence number is a running counter, so the order is total and a run
// never depends on how the heap breaks ties. Callbacks live in a slab; the
// heap moves only 24-byte keys. Each slab slot knows its key's place in the
// heap, so an event can be cancelled: timeouts are set far more often than
// they fire (a connection's idle timeout is set again on every frame read),
// and left in place they would fill the heap with events that do nothing.

#include <cstdint>
#include <vector>

#include "system/runtime/assert.h"
#include "system/runtime/callback.h"

namespace castle::sim {

using SimTime = std::int64_t;  // nanoseconds of world time since the run began

// Names one pushed event, to cancel it: its slot and the slot's generation
// (a slot is reused, so a stale id must not cancel its successor). Never 0.
using EventId = std::uint64_t;

class EventQueue {
 public:
  EventId push(SimTime t, Callback cb) {
    std::uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
      slots_[slot] = std::move(cb);
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(std::move(cb));
      place_.push_back(0);
      generation_.push_back(1);
    }
    heap_.push_back(Key{t, next_seq_++, slot});
    sift_up(heap_.size() - 1);
    return (EventId{generation_[slot]} << 32) | slot;
  }

  // Drops the event if it is still queued; an id already popped or
  // cancelled is ignored.
  void cancel(EventId id) {
    const auto slot = static_cast<std::uint32_t>(id);
    if (slot >= slots_.size() || generation_[slot] != static_cast<std::uint32_t>(id >> 32)) return;
    const std::size_t i = place_[slot];
    CASTLE_ASSERT(i < heap_.size() && heap_[i].slot == slot, "a queued event out of place");
    const Key last = heap_.back();
    heap_.pop_back();
    if (i < heap_.size()) {
      put(i, last);
      sift_up(i);
      sift_down(place_[last.slot]);
    }
    release(slot).reset();
  }

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  SimTime next_time() const { return heap_.front().time; }

  // Removes the earliest event; its callback is moved into *out.
  SimTime pop(Callback* out, std::uint64_t* seq) {
    const Key top = heap_.front();
    const Key last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) {
      put(0, last);
      sift_down(0);
    }
    *out = std::move(release(top.slot));
    *seq = top.seq;
    return top.time;
  }

  void clear() {
    heap_.clear();
    slots_.clear();
    place_.clear();
    generation_.clear();
    free_slots_.clear();
  }

 private:
  struct Key {
    SimTime time;
    std::uint64_t seq;
    std::uint32_t slot;
    bool before(const Key& o) const { return time != o.time ? time < o.time : seq < o.seq; }
  };

  void put(std::size_t i, const Key& k) {
    heap_[i] = k;
    place_[k.slot] = static_cast<std::uint32_t>(i);
  }

  // Frees a slot whose key has left the heap; returns its callback.
  Callback& release(std::uint32_t slot) {
    ++generation_[slot];
    if (generation_[slot] == 0) generation_[slot] = 1;  // ids are never 0
    free_slots_.push_back(slot);
    return slots_[slot];
  }

  void sift_up(std::size_t i) {
    const Key k = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 4;
      if (!k.before(heap_[parent])) break;
      put(i, heap_[parent]);
      i = parent;
    }
    put(i, k);
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
      put(i, heap_[best]);
      i = best;
    }
    put(i, k);
  }

  std::vector<Key> heap_;
  std::vector<Callback> slots_;
  std::vector<std::uint32_t> place_;       // by slot: its key's index in heap_
  std::vector<std::uint32_t> generation_;  // by slot: bumped when it is freed
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace castle::sim
