#pragma once
// The fiber scheduler core shared by the simulator and the real runtime.
//
// Fibers run on Boost.Context stacks. A fiber blocks by taking a WaitToken
// (prepare_wait), handing it to whoever will wake it (a timer, a channel, a
// socket), and calling suspend(). Tokens carry a generation number, so a
// stale token (a timer that fired after the fiber was already woken, or after
// it died) is ignored: timers and wait lists never need eager cancellation.
//
// Fibers belong to a FiberGroup, which is one node (one process). A crash
// kills the whole group: every fiber is resumed once more and throws
// FiberKilled from its suspension point, so destructors run and nothing of
// the node runs again. Pausing a group parks its ready fibers.

#include <boost/context/detail/fcontext.hpp>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "system/runtime/assert.h"
#include "system/runtime/callback.h"
#include "system/runtime/random.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define CASTLE_ASAN_FIBERS 1
#endif

namespace castle {

class Fiber;
class FiberGroup;
class Rng;
class Scheduler;
class StackPool;

// Thrown at a suspension point when the fiber's node crashes. It is not a
// std::exception so that `catch (const std::exception&)` does not swallow it;
// code must never swallow it with `catch (...)` either.
struct FiberKilled {};
// Thrown at a suspension point of a fiber whose task was cancelled.
struct FiberCancelled {};

struct WaitToken {
  Fiber* fiber = nullptr;
  std::uint64_t gen = 0;
};

enum class TaskOutcome { running, finished, cancelled, killed };

namespace detail {
struct TaskState {
  Fiber* fiber = nullptr;  // null once the fiber has ended
  TaskOutcome outcome = TaskOutcome::running;
  std::vector<WaitToken> joiners;
};
}  // namespace detail

// A handle to a spawned fiber: join it, cancel it, ask how it ended.
class Task {
 public:
  Task() = default;
  explicit Task(std::shared_ptr<detail::TaskState> st) : st_(std::move(st)) {}
  bool valid() const { return st_ != nullptr; }
  bool done() const { return !st_ || st_->outcome != TaskOutcome::running; }
  TaskOutcome outcome() const { return st_ ? st_->outcome : TaskOutcome::finished; }
  // Blocks the calling fiber until the task has ended.
  void join();
  // Asks the task to stop: its current or next suspension throws FiberCancelled.
  void cancel();

 private:
  std::shared_ptr<detail::TaskState> st_;
};

// Observes scheduling, for the simulator's trace hash.
class SchedulerHooks {
 public:
  virtual ~SchedulerHooks() = default;
  virtual void on_resume(Fiber& fiber) = 0;
};

class FiberGroup {
 public:
  explicit FiberGroup(std::string name) : name_(std::move(name)) {}
  FiberGroup(const FiberGroup&) = delete;
  FiberGroup& operator=(const FiberGroup&) = delete;
  ~FiberGroup();

  const std::string& name() const { return name_; }
  bool paused() const { return paused_; }
  bool dead() const { return dead_; }
  std::size_t fiber_count() const { return fibers_.size(); }

 private:
  friend class Scheduler;
  std::string name_;
  bool paused_ = false;
  bool dead_ = false;
  std::map<std::uint64_t, Fiber*> fibers_;  // by id: kill order is deterministic
  std::vector<Fiber*> parked_;              // ready while paused
};

class Fiber {
 public:
  std::uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  FiberGroup& group() const { return *group_; }
  // The runtime's note of a timer set to wake this fiber (0: none). The
  // simulator cancels that timer when the fiber is resumed, as from then on
  // it could only fire for a wait that is over.
  std::uint64_t timer_id() const { return timer_id_; }
  void set_timer_id(std::uint64_t id) { timer_id_ = id; }

 private:
  friend class Scheduler;
  friend class Task;
  enum class State { free, fresh, ready, running, waiting, finished };

  std::uint64_t id_ = 0;
  std::string name_;
  FiberGroup* group_ = nullptr;
  State state_ = State::free;
  std::uint64_t wait_gen_ = 0;
  std::uint64_t timer_id_ = 0;
  bool kill_requested_ = false;
  bool cancel_requested_ = false;
  bool cancel_delivered_ = false;
  // Any of the three above that a suspension point must act on; one test
  // on the switch path instead of three.
  bool interrupt_pending() const {
    return kill_requested_ || (cancel_requested_ && !cancel_delivered_);
  }
  Callback body_;
  std::shared_ptr<detail::TaskState> task_;
  // Boost.Context's fcontext: the fiber's own context while it is
  // suspended, and the scheduler's while the fiber runs.
  boost::context::detail::fcontext_t self_ = nullptr;
  boost::context::detail::fcontext_t caller_ = nullptr;
  void* stack_top_ = nullptr;  // highest address; stacks grow down
  std::size_t stack_bytes_ = 0;
#if defined(CASTLE_ASAN_FIBERS)
  void* asan_fake_stack_ = nullptr;
#endif
};

// A FIFO of ready fibers in a power-of-two ring.
class ReadyQueue {
 public:
  std::size_t size() const { return tail_ - head_; }
  bool empty() const { return tail_ == head_; }
  void push(Fiber* f) {
    if (size() == ring_.size()) grow();
    ring_[tail_++ & (ring_.size() - 1)] = f;
  }
  Fiber* pop() { return ring_[head_++ & (ring_.size() - 1)]; }
  // Moves the k-th queued fiber to the front.
  void bring_to_front(std::size_t k) {
    const std::size_t mask = ring_.size() - 1;
    std::swap(ring_[head_ & mask], ring_[(head_ + k) & mask]);
  }
  bool remove(Fiber* f);

 private:
  void grow();
  std::vector<Fiber*> ring_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

class Scheduler {
 public:
  static constexpr std::size_t stack_bytes_default = 256 * 1024;

  explicit Scheduler(std::size_t stack_bytes = stack_bytes_default);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();

  // The scheduler of this thread (the one most recently constructed).
  static Scheduler& current();
  static bool has_current();

  Task spawn(FiberGroup& group, std::string name, Callback body);

  // Blocking protocol, called from inside a fiber.
  WaitToken prepare_wait();
  void suspend();
  void yield();

  // Makes a waiting fiber ready. Returns false for a stale token.
  bool wake(WaitToken token);
  static bool token_valid(WaitToken token) {
    return token.fiber != nullptr && token.fiber->state_ == Fiber::State::waiting &&
           token.fiber->wait_gen_ == token.gen;
  }

  // Runs one ready fiber until it suspends or ends. False if none was ready.
  bool run_one();
  // Runs ready fibers until none is ready.
  void run_ready() {
    while (run_one()) {
    }
  }
  std::size_t ready_count() const { return ready_.size(); }

  Fiber* running() const { return running_; }
  bool in_fiber() const { return running_ != nullptr; }

  // Crash: unwinds every fiber of the group. Must be called from outside
  // any fiber. The group stays dead until revive().
  void kill_group(FiberGroup& group);
  void revive(FiberGroup& group);
  void pause(FiberGroup& group);
  void unpause(FiberGroup& group);

  // With an rng, the next ready fiber is drawn at random (simulation);
  // without, ready fibers run in FIFO order (real mode).
  void set_order_rng(Rng* rng) { order_rng_ = rng; }
  void set_hooks(SchedulerHooks* hooks) { hooks_ = hooks; }

  std::uint64_t switches() const { return switches_; }
  std::size_t live_fibers() const { return live_fibers_; }

 private:
  Fiber* allocate_fiber();
  void make_ready(Fiber* f);
  void resume(Fiber* f);
  void switch_out(Fiber* f);
  [[noreturn]] void deliver_interrupt(Fiber* f);
  [[noreturn]] void blocked_while_unwinding();
  void finish(Fiber* f);
  static void fiber_entry(boost::context::detail::transfer_t from);
  static void fiber_main(Fiber* f);

  std::unique_ptr<StackPool> stacks_;
  std::vector<std::unique_ptr<Fiber>> all_fibers_;
  std::vector<Fiber*> free_fibers_;
  ReadyQueue ready_;
  Fiber* running_ = nullptr;
  Rng* order_rng_ = nullptr;
  SchedulerHooks* hooks_ = nullptr;
  Scheduler* previous_current_ = nullptr;
  std::uint64_t next_fiber_id_ = 1;
  std::uint64_t next_wait_gen_ = 1;
  std::uint64_t switches_ = 0;
  std::size_t live_fibers_ = 0;
#if defined(CASTLE_ASAN_FIBERS)
  // ASan must be told of every stack switch: the scheduler's own stack
  // (learned on the first switch into a fiber) and its fake-stack handle.
  const void* asan_main_bottom_ = nullptr;
  std::size_t asan_main_bytes_ = 0;
  void* asan_main_fake_stack_ = nullptr;
#endif
};

// The switch paths are defined here, inline: a context switch leaves the
// CPU's return-address predictor holding the other stack's addresses, so
// every function return between two switches is a misprediction. Inlined
// into the run loop on one side and into the blocking call on the other,
// a round trip costs little more than Boost.Context's raw switch.

inline void Scheduler::make_ready(Fiber* f) {
  f->state_ = Fiber::State::ready;
  if (f->group_->paused_) [[unlikely]] {
    f->group_->parked_.push_back(f);
  } else {
    ready_.push(f);
  }
}

inline bool Scheduler::wake(WaitToken token) {
  if (!token_valid(token)) return false;
  make_ready(token.fiber);
  return true;
}

inline WaitToken Scheduler::prepare_wait() {
  Fiber* f = running_;
  CASTLE_ASSERT(f != nullptr, "blocking outside a fiber");
  if (f->interrupt_pending()) [[unlikely]] {
    if (f->kill_requested_ && std::uncaught_exceptions() != 0) blocked_while_unwinding();
    deliver_interrupt(f);
  }
  f->state_ = Fiber::State::waiting;
  f->wait_gen_ = next_wait_gen_++;
  return WaitToken{f, f->wait_gen_};
}

// From inside fiber f: back to the scheduler, until resumed.
inline void Scheduler::switch_out(Fiber* f) {
  namespace bcd = boost::context::detail;
#if defined(CASTLE_ASAN_FIBERS)
  __sanitizer_start_switch_fiber(&f->asan_fake_stack_, asan_main_bottom_, asan_main_bytes_);
#endif
  const bcd::transfer_t back = bcd::jump_fcontext(f->caller_, nullptr);
#if defined(CASTLE_ASAN_FIBERS)
  __sanitizer_finish_switch_fiber(f->asan_fake_stack_, nullptr, nullptr);
#endif
  f->caller_ = back.fctx;  // resumed by run_one() or kill_group()
  if (f->interrupt_pending()) [[unlikely]] deliver_interrupt(f);
}

inline void Scheduler::suspend() {
  Fiber* f = running_;
  CASTLE_ASSERT(f != nullptr, "suspend outside a fiber");
  CASTLE_ASSERT(f->state_ == Fiber::State::waiting || f->state_ == Fiber::State::ready,
                "suspend without prepare_wait");
  switch_out(f);
}

inline void Scheduler::yield() {
  Fiber* f = running_;
  CASTLE_ASSERT(f != nullptr, "yield outside a fiber");
  if (f->interrupt_pending()) [[unlikely]] deliver_interrupt(f);
  f->wait_gen_ = next_wait_gen_++;
  make_ready(f);
  switch_out(f);
}

// From the scheduler's stack: runs fiber f until it suspends or ends.
inline void Scheduler::resume(Fiber* f) {
  namespace bcd = boost::context::detail;
  CASTLE_ASSERT(running_ == nullptr, "resume from inside a fiber");
  running_ = f;
  f->state_ = Fiber::State::running;
  ++switches_;
  if (hooks_ != nullptr) hooks_->on_resume(*f);
#if defined(CASTLE_ASAN_FIBERS)
  __sanitizer_start_switch_fiber(&asan_main_fake_stack_,
                                 static_cast<char*>(f->stack_top_) - f->stack_bytes_,
                                 f->stack_bytes_);
#endif
  const bcd::transfer_t back = bcd::jump_fcontext(f->self_, f);
#if defined(CASTLE_ASAN_FIBERS)
  __sanitizer_finish_switch_fiber(asan_main_fake_stack_, nullptr, nullptr);
#endif
  running_ = nullptr;
  f->self_ = back.fctx;
  if (f->state_ == Fiber::State::finished) [[unlikely]] finish(f);
}

inline bool Scheduler::run_one() {
  const std::size_t n = ready_.size();
  if (n == 0) return false;
  if (order_rng_ != nullptr && n > 1) ready_.bring_to_front(order_rng_->below(n));
  Fiber* f = ready_.pop();
  if (f->group_->paused_) [[unlikely]] {
    f->group_->parked_.push_back(f);
    return true;
  }
  resume(f);
  return true;
}

}  // namespace castle
