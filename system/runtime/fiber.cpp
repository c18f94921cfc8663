#include "system/runtime/fiber.h"

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <cstdio>
#include <exception>
#include <new>

#include "system/runtime/assert.h"
#include "system/runtime/random.h"

#if defined(BOOST_USE_UCONTEXT)
// Debian's libboost_context is built for the fcontext backend and lacks the
// ucontext backend's per-thread "running context" record. The sanitizer
// build needs the ucontext backend (it is the one that tells ASan about
// stack switches), so it supplies that record here: each thread starts out
// running its own main context.
namespace boost::context::detail {
fiber_activation_record*& fiber_activation_record::current() noexcept {
  thread_local fiber_activation_record thread_main_context;
  thread_local fiber_activation_record* running = &thread_main_context;
  return running;
}
}  // namespace boost::context::detail
#endif

namespace castle {

namespace ctx = boost::context;

// Reuses fiber stacks: mapping a fresh guarded stack per spawn costs two
// system calls, and brokers spawn a fiber per request.
class StackPool {
 public:
  static constexpr std::size_t pooled_stacks_max = 1024;

  explicit StackPool(std::size_t bytes) : alloc_(bytes) {}
  ~StackPool() {
    for (auto& sc : free_) alloc_.deallocate(sc);
  }
  ctx::stack_context allocate() {
    if (free_.empty()) return alloc_.allocate();
    ctx::stack_context sc = free_.back();
    free_.pop_back();
    return sc;
  }
  void deallocate(ctx::stack_context& sc) {
    if (free_.size() < pooled_stacks_max) {
      free_.push_back(sc);
    } else {
      alloc_.deallocate(sc);
    }
  }

 private:
  ctx::protected_fixedsize_stack alloc_;
  std::vector<ctx::stack_context> free_;
};

namespace {
// Boost.Context copies the allocator into the fiber's control block, so it
// must be a small copyable handle onto the pool.
struct PooledStack {
  StackPool* pool;
  ctx::stack_context allocate() { return pool->allocate(); }
  void deallocate(ctx::stack_context& sc) { pool->deallocate(sc); }
};

thread_local Scheduler* current_scheduler = nullptr;
}  // namespace

static_assert(sizeof(ctx::fiber) <= 16 && alignof(ctx::fiber) <= 16,
              "Fiber's inline context storage is too small");

struct FiberContexts {
  static ctx::fiber& self(Fiber* f) {
    return *std::launder(reinterpret_cast<ctx::fiber*>(f->self_ctx_));
  }
  static ctx::fiber& caller(Fiber* f) {
    return *std::launder(reinterpret_cast<ctx::fiber*>(f->caller_ctx_));
  }
};

namespace {
ctx::fiber& self_ctx(Fiber* f) { return FiberContexts::self(f); }
ctx::fiber& caller_ctx(Fiber* f) { return FiberContexts::caller(f); }
}  // namespace

void ReadyQueue::grow() {
  std::vector<Fiber*> bigger(ring_.empty() ? 64 : ring_.size() * 2);
  const std::size_t n = size();
  for (std::size_t i = 0; i < n; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
  ring_.swap(bigger);
  head_ = 0;
  tail_ = n;
}

bool ReadyQueue::remove(Fiber* f) {
  const std::size_t n = size();
  const std::size_t mask = ring_.size() - 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (ring_[(head_ + i) & mask] != f) continue;
    // Close the gap, keeping the order of the rest.
    for (std::size_t j = i; j + 1 < n; ++j)
      ring_[(head_ + j) & mask] = ring_[(head_ + j + 1) & mask];
    --tail_;
    return true;
  }
  return false;
}

FiberGroup::~FiberGroup() {
  CASTLE_ASSERT(fibers_.empty(), "a fiber group destroyed with live fibers; kill it first");
}

void Task::join() {
  if (done()) return;
  Scheduler& s = Scheduler::current();
  while (!done()) {
    st_->joiners.push_back(s.prepare_wait());
    s.suspend();
  }
}

void Task::cancel() {
  if (done()) return;
  Fiber* f = st_->fiber;
  CASTLE_ASSERT(f != nullptr, "a running task without a fiber");
  f->cancel_requested_ = true;
  if (f->state_ == Fiber::State::waiting) {
    Scheduler::current().wake(WaitToken{f, f->wait_gen_});
  }
}

Scheduler::Scheduler(std::size_t stack_bytes)
    : stacks_(std::make_unique<StackPool>(stack_bytes)), previous_current_(current_scheduler) {
  current_scheduler = this;
}

Scheduler::~Scheduler() {
  CASTLE_ASSERT(live_fibers_ == 0, "scheduler destroyed with live fibers");
  for (auto& f : all_fibers_) {
    self_ctx(f.get()).~fiber();
    caller_ctx(f.get()).~fiber();
  }
  if (current_scheduler == this) current_scheduler = previous_current_;
}

Scheduler& Scheduler::current() {
  CASTLE_ASSERT(current_scheduler != nullptr, "no scheduler on this thread");
  return *current_scheduler;
}

bool Scheduler::has_current() { return current_scheduler != nullptr; }

Fiber* Scheduler::allocate_fiber() {
  if (!free_fibers_.empty()) {
    Fiber* f = free_fibers_.back();
    free_fibers_.pop_back();
    return f;
  }
  all_fibers_.push_back(std::make_unique<Fiber>());
  Fiber* f = all_fibers_.back().get();
  ::new (static_cast<void*>(f->self_ctx_)) ctx::fiber();
  ::new (static_cast<void*>(f->caller_ctx_)) ctx::fiber();
  return f;
}

Task Scheduler::spawn(FiberGroup& group, std::string name, Callback body) {
  CASTLE_ASSERT(!group.dead_, "spawn into a crashed node");
  Fiber* f = allocate_fiber();
  f->id_ = next_fiber_id_++;
  f->name_ = std::move(name);
  f->group_ = &group;
  f->state_ = Fiber::State::fresh;
  f->kill_requested_ = false;
  f->cancel_requested_ = false;
  f->cancel_delivered_ = false;
  f->body_ = std::move(body);
  f->task_ = std::make_shared<detail::TaskState>();
  f->task_->fiber = f;
  self_ctx(f) = ctx::fiber(std::allocator_arg, PooledStack{stacks_.get()},
                          [f](ctx::fiber&& caller) {
                            caller_ctx(f) = std::move(caller);
                            fiber_main(f);
                            return std::move(caller_ctx(f));
                          });
  group.fibers_.emplace(f->id_, f);
  ++live_fibers_;
  push_ready(f);
  return Task(f->task_);
}

void Scheduler::fiber_main(Fiber* f) {
  try {
    if (!f->kill_requested_ && !f->cancel_requested_) f->body_();
  } catch (const FiberKilled&) {
    f->task_->outcome = TaskOutcome::killed;
  } catch (const FiberCancelled&) {
    f->task_->outcome = TaskOutcome::cancelled;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "castle: fiber '%s' ended with exception: %s\n", f->name_.c_str(),
                 e.what());
    CASTLE_UNREACHABLE("exception escaped a fiber");
  }
  // The body's captures are destroyed on the fiber's own stack.
  f->body_.reset();
  if (f->task_->outcome == TaskOutcome::running) {
    f->task_->outcome = f->kill_requested_   ? TaskOutcome::killed
                        : f->cancel_requested_ ? TaskOutcome::cancelled
                                               : TaskOutcome::finished;
  }
  f->state_ = Fiber::State::finished;
}

WaitToken Scheduler::prepare_wait() {
  Fiber* f = running_;
  CASTLE_ASSERT(f != nullptr, "blocking outside a fiber");
  if (f->interrupt_pending()) [[unlikely]] {
    CASTLE_ASSERT(!f->kill_requested_ || std::uncaught_exceptions() == 0,
                  "a fiber blocked while being unwound by a crash (blocking destructor?)");
    deliver_interrupt(f);
  }
  f->state_ = Fiber::State::waiting;
  f->wait_gen_ = next_wait_gen_++;
  return WaitToken{f, f->wait_gen_};
}

void Scheduler::deliver_interrupt(Fiber* f) {
  if (f->kill_requested_) throw FiberKilled{};
  f->cancel_delivered_ = true;
  throw FiberCancelled{};
}

// The switch paths are forced inline: a context switch leaves the CPU's
// return-address predictor holding the other stack's addresses, so every
// extra return between switches is a misprediction. Flattening them halves
// the cost of a round trip.
__attribute__((always_inline)) inline void Scheduler::switch_out(Fiber* f) {
  caller_ctx(f) = std::move(caller_ctx(f)).resume();
  // Resumed by run_one() or kill_group().
  if (f->interrupt_pending()) [[unlikely]] deliver_interrupt(f);
}

void Scheduler::suspend() {
  Fiber* f = running_;
  CASTLE_ASSERT(f != nullptr, "suspend outside a fiber");
  CASTLE_ASSERT(f->state_ == Fiber::State::waiting || f->state_ == Fiber::State::ready,
                "suspend without prepare_wait");
  switch_out(f);
}

void Scheduler::yield() {
  // The hot path of prepare_wait + wake + suspend, without the token.
  Fiber* f = running_;
  CASTLE_ASSERT(f != nullptr, "yield outside a fiber");
  if (f->interrupt_pending()) [[unlikely]] deliver_interrupt(f);
  f->state_ = Fiber::State::ready;
  f->wait_gen_ = next_wait_gen_++;
  if (f->group_->paused_) [[unlikely]] {
    f->group_->parked_.push_back(f);
  } else {
    push_ready(f);
  }
  switch_out(f);
}

bool Scheduler::token_valid(WaitToken token) {
  return token.fiber != nullptr && token.fiber->state_ == Fiber::State::waiting &&
         token.fiber->wait_gen_ == token.gen;
}

bool Scheduler::wake(WaitToken token) {
  if (!token_valid(token)) return false;
  Fiber* f = token.fiber;
  f->state_ = Fiber::State::ready;
  if (f->group_->paused_) {
    f->group_->parked_.push_back(f);
  } else {
    push_ready(f);
  }
  return true;
}

Fiber* Scheduler::pop_ready() {
  const std::size_t n = ready_.size();
  if (n == 0) return nullptr;
  if (order_rng_ != nullptr && n > 1) ready_.bring_to_front(order_rng_->below(n));
  return ready_.pop();
}

bool Scheduler::run_one() {
  Fiber* f = pop_ready();
  if (f == nullptr) return false;
  if (f->group_->paused_) {
    f->group_->parked_.push_back(f);
    return true;
  }
  resume(f);
  return true;
}

void Scheduler::run_ready() {
  while (run_one()) {
  }
}

__attribute__((always_inline)) inline void Scheduler::resume(Fiber* f) {
  CASTLE_ASSERT(running_ == nullptr, "resume from inside a fiber");
  running_ = f;
  f->state_ = Fiber::State::running;
  ++switches_;
  if (hooks_ != nullptr) hooks_->on_resume(*f);
  self_ctx(f) = std::move(self_ctx(f)).resume();
  running_ = nullptr;
  if (!self_ctx(f)) [[unlikely]] finish(f);
}

void Scheduler::finish(Fiber* f) {
  CASTLE_ASSERT(f->state_ == Fiber::State::finished, "fiber context ended early");
  auto task = std::move(f->task_);
  task->fiber = nullptr;
  f->group_->fibers_.erase(f->id_);
  f->state_ = Fiber::State::free;
  f->group_ = nullptr;
  free_fibers_.push_back(f);
  --live_fibers_;
  for (WaitToken t : task->joiners) wake(t);
  task->joiners.clear();
}

void Scheduler::kill_group(FiberGroup& group) {
  CASTLE_ASSERT(running_ == nullptr, "kill_group from inside a fiber");
  group.dead_ = true;
  group.parked_.clear();
  // Fibers may be woken or even end while others unwind, so take one at a
  // time. Newest first: children usually borrow from the fibers that
  // spawned them, so they must unwind before their parents' frames go.
  while (!group.fibers_.empty()) {
    Fiber* f = std::prev(group.fibers_.end())->second;
    f->kill_requested_ = true;
    ready_.remove(f);
    if (f->state_ == Fiber::State::fresh) f->state_ = Fiber::State::ready;
    group.paused_ = false;
    resume(f);
    CASTLE_ASSERT(f->state_ == Fiber::State::free, "a killed fiber kept running");
  }
  group.paused_ = false;
}

void Scheduler::revive(FiberGroup& group) {
  CASTLE_ASSERT(group.fibers_.empty(), "revive with live fibers");
  group.dead_ = false;
  group.paused_ = false;
}

void Scheduler::pause(FiberGroup& group) { group.paused_ = true; }

void Scheduler::unpause(FiberGroup& group) {
  group.paused_ = false;
  for (Fiber* f : group.parked_) push_ready(f);
  group.parked_.clear();
}

}  // namespace castle
