#pragma once
// Fiber synchronisation: wait lists, events, bounded channels, promises and
// futures. Every blocking call takes an optional deadline on the node's
// clock; timeouts are values, never exceptions. All of it is built on the
// scheduler's wait tokens, so it behaves the same in simulation and for real.

#include <deque>
#include <optional>
#include <memory>
#include <utility>
#include <vector>

#include "system/runtime/runtime.h"

namespace castle {

// Fibers waiting for a condition. Waiters recheck their condition on wake.
class WaitList {
 public:
  // Blocks the calling fiber until notified or the deadline passes.
  // Returns false if the deadline passed.
  bool wait(Runtime& rt, std::optional<Instant> deadline = std::nullopt);
  void notify_one();
  void notify_all();
  bool empty() const { return waiters_.empty(); }

 private:
  void drop_stale();
  std::vector<WaitToken> waiters_;
};

// A manual-reset event.
class Event {
 public:
  void set() {
    set_ = true;
    waiters_.notify_all();
  }
  void clear() { set_ = false; }
  bool is_set() const { return set_; }
  // True once set; false if the deadline passed first.
  bool wait(Runtime& rt, std::optional<Instant> deadline = std::nullopt) {
    while (!set_) {
      if (!waiters_.wait(rt, deadline)) return set_;
    }
    return true;
  }

 private:
  bool set_ = false;
  WaitList waiters_;
};

// A fiber mutex. Waiters are all woken on unlock and race for the lock, so
// a waiter cancelled or killed while queued never strands the others.
class Mutex {
 public:
  void lock(Runtime& rt) {
    while (locked_) waiters_.wait(rt);
    locked_ = true;
  }
  bool try_lock() {
    if (locked_) return false;
    locked_ = true;
    return true;
  }
  void unlock() {
    locked_ = false;
    waiters_.notify_all();
  }
  bool locked() const { return locked_; }

 private:
  bool locked_ = false;
  WaitList waiters_;
};

class MutexLock {
 public:
  MutexLock(Runtime& rt, Mutex& m) : m_(m) { m_.lock(rt); }
  ~MutexLock() { m_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& m_;
};

enum class ChannelStatus { ok, closed, timed_out };

// A bounded multi-producer multi-consumer channel. Senders block while it is
// full; close() wakes everyone, receivers drain what is left first.
template <class T>
class Channel {
 public:
  explicit Channel(std::size_t capacity) : capacity_(capacity) {
    CASTLE_ASSERT(capacity > 0, "a channel needs a positive capacity");
  }

  ChannelStatus send(Runtime& rt, T value, std::optional<Instant> deadline = std::nullopt) {
    while (!closed_ && items_.size() >= capacity_) {
      if (!not_full_.wait(rt, deadline) && items_.size() >= capacity_ && !closed_)
        return ChannelStatus::timed_out;
    }
    if (closed_) return ChannelStatus::closed;
    items_.push_back(std::move(value));
    not_empty_.notify_one();
    return ChannelStatus::ok;
  }

  // Never blocks: false if full or closed.
  bool try_send(T value) {
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(value));
    not_empty_.notify_one();
    return true;
  }

  std::pair<ChannelStatus, std::optional<T>> recv(
      Runtime& rt, std::optional<Instant> deadline = std::nullopt) {
    while (items_.empty() && !closed_) {
      if (!not_empty_.wait(rt, deadline) && items_.empty() && !closed_)
        return {ChannelStatus::timed_out, std::nullopt};
    }
    if (items_.empty()) return {ChannelStatus::closed, std::nullopt};
    T v = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return {ChannelStatus::ok, std::move(v)};
  }

  std::optional<T> try_recv() {
    if (items_.empty()) return std::nullopt;
    T v = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }

  void close() {
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  bool closed() const { return closed_; }
  std::size_t size() const { return items_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  bool closed_ = false;
  std::deque<T> items_;
  WaitList not_empty_;
  WaitList not_full_;
};

namespace detail {
template <class T>
struct SharedSlot {
  std::optional<T> value;
  bool broken = false;  // the promise was destroyed unfulfilled
  Event ready;
};
}  // namespace detail

template <class T>
class Future;

// A one-shot value handed from one fiber to another.
template <class T>
class Promise {
 public:
  Promise() : slot_(std::make_shared<detail::SharedSlot<T>>()) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&&) noexcept = default;
  Promise(const Promise&) = delete;
  ~Promise() {
    if (slot_ && !slot_->ready.is_set()) {
      slot_->broken = true;
      slot_->ready.set();
    }
  }
  Future<T> future() const { return Future<T>(slot_); }
  void set(T value) {
    CASTLE_ASSERT(!slot_->ready.is_set(), "promise fulfilled twice");
    slot_->value = std::move(value);
    slot_->ready.set();
  }
  bool fulfilled() const { return slot_->ready.is_set(); }

 private:
  std::shared_ptr<detail::SharedSlot<T>> slot_;
};

enum class FutureStatus { ready, broken, timed_out };

template <class T>
class Future {
 public:
  Future() = default;
  explicit Future(std::shared_ptr<detail::SharedSlot<T>> slot) : slot_(std::move(slot)) {}
  bool ready() const { return slot_ && slot_->ready.is_set(); }
  // Waits for the value; on success it is moved into *out.
  FutureStatus wait(Runtime& rt, std::optional<Instant> deadline = std::nullopt) {
    CASTLE_ASSERT(slot_ != nullptr, "wait on an empty future");
    if (!slot_->ready.wait(rt, deadline)) return FutureStatus::timed_out;
    return slot_->broken ? FutureStatus::broken : FutureStatus::ready;
  }
  T& value() {
    CASTLE_ASSERT(ready() && !slot_->broken, "value() of a future not ready");
    return *slot_->value;
  }

 private:
  std::shared_ptr<detail::SharedSlot<T>> slot_;
};

}  // namespace castle
