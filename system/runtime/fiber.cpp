#include "system/runtime/fiber.h"

#if defined(CASTLE_ASAN_FIBERS)
#include <sanitizer/asan_interface.h>
#endif

#include <boost/context/protected_fixedsize_stack.hpp>
#include <cstdio>
#include <exception>

#include "system/runtime/assert.h"

namespace castle {

namespace ctx = boost::context;
namespace bcd = boost::context::detail;

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
thread_local Scheduler* current_scheduler = nullptr;
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
  return all_fibers_.back().get();
}

Task Scheduler::spawn(FiberGroup& group, std::string name, Callback body) {
  CASTLE_ASSERT(!group.dead_, "spawn into a crashed node");
  Fiber* f = allocate_fiber();
  f->id_ = next_fiber_id_++;
  f->name_ = std::move(name);
  f->group_ = &group;
  f->state_ = Fiber::State::fresh;
  f->timer_id_ = 0;
  f->kill_requested_ = false;
  f->cancel_requested_ = false;
  f->cancel_delivered_ = false;
  f->body_ = std::move(body);
  f->task_ = std::make_shared<detail::TaskState>();
  f->task_->fiber = f;
  ctx::stack_context sc = stacks_->allocate();
  f->stack_top_ = sc.sp;
  f->stack_bytes_ = sc.size;
  f->self_ = bcd::make_fcontext(sc.sp, sc.size, &Scheduler::fiber_entry);
  f->caller_ = nullptr;
  group.fibers_.emplace(f->id_, f);
  ++live_fibers_;
  ready_.push(f);
  return Task(f->task_);
}

// The first frame of every fiber. It never returns: when the body is done
// it jumps back to the scheduler one last time, which frees the stack.
void Scheduler::fiber_entry(bcd::transfer_t from) {
  auto* f = static_cast<Fiber*>(from.data);
  f->caller_ = from.fctx;
  [[maybe_unused]] Scheduler& s = *current_scheduler;  // for ASan only
#if defined(CASTLE_ASAN_FIBERS)
  __sanitizer_finish_switch_fiber(nullptr, &s.asan_main_bottom_, &s.asan_main_bytes_);
#endif
  fiber_main(f);
  f->state_ = Fiber::State::finished;
#if defined(CASTLE_ASAN_FIBERS)
  // nullptr: this stack is done for good; ASan drops its fake frames.
  __sanitizer_start_switch_fiber(nullptr, s.asan_main_bottom_, s.asan_main_bytes_);
#endif
  bcd::jump_fcontext(f->caller_, nullptr);
  CASTLE_UNREACHABLE("a finished fiber was resumed");
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
    f->task_->outcome = f->kill_requested_     ? TaskOutcome::killed
                        : f->cancel_requested_ ? TaskOutcome::cancelled
                                               : TaskOutcome::finished;
  }
}

void Scheduler::deliver_interrupt(Fiber* f) {
  if (f->kill_requested_) throw FiberKilled{};
  f->cancel_delivered_ = true;
  throw FiberCancelled{};
}

void Scheduler::blocked_while_unwinding() {
  CASTLE_UNREACHABLE("a fiber blocked while being unwound by a crash (blocking destructor?)");
}

void Scheduler::finish(Fiber* f) {
  CASTLE_ASSERT(f->state_ == Fiber::State::finished, "fiber context ended early");
  ctx::stack_context sc;
  sc.sp = f->stack_top_;
  sc.size = f->stack_bytes_;
#if defined(CASTLE_ASAN_FIBERS)
  // A fiber unwound by a crash or a cancel leaves its frames' redzones
  // poisoned; the next fiber on this pooled stack must start clean, or
  // ASan reports its fresh frames as bad accesses.
  __asan_unpoison_memory_region(static_cast<char*>(sc.sp) - sc.size, sc.size);
#endif
  stacks_->deallocate(sc);
  f->self_ = f->caller_ = nullptr;
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
  group.paused_ = false;
  // Fibers may be woken or even end while others unwind, so take one at a
  // time. Newest first: children usually borrow from the fibers that
  // spawned them, so they must unwind before their parents' frames go.
  while (!group.fibers_.empty()) {
    Fiber* f = std::prev(group.fibers_.end())->second;
    f->kill_requested_ = true;
    ready_.remove(f);
    resume(f);
    CASTLE_ASSERT(f->state_ == Fiber::State::free, "a killed fiber kept running");
  }
}

void Scheduler::revive(FiberGroup& group) {
  CASTLE_ASSERT(group.fibers_.empty(), "revive with live fibers");
  group.dead_ = false;
  group.paused_ = false;
}

void Scheduler::pause(FiberGroup& group) { group.paused_ = true; }

void Scheduler::unpause(FiberGroup& group) {
  group.paused_ = false;
  for (Fiber* f : group.parked_) ready_.push(f);
  group.parked_.clear();
}

}  // namespace castle
