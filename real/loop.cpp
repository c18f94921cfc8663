#include "real/loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "real/polled_fd.h"
#include "system/runtime/assert.h"

namespace castle::real {

namespace {
constexpr std::uint64_t event_fd_key = 0;
// epoll_wait takes an int of milliseconds; a far timer is waited for in
// hops of this size.
constexpr std::int64_t poll_timeout_ms_max = 60'000;
}  // namespace

Loop::Loop(std::string group_name, std::size_t blocking_threads)
    : group_(std::move(group_name)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  CASTLE_ASSERT(epoll_fd_ >= 0, "epoll_create1 failed");
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  CASTLE_ASSERT(event_fd_ >= 0, "eventfd failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = event_fd_key;
  const int rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev);
  CASTLE_ASSERT(rc == 0, "epoll_ctl(eventfd) failed");
  pool_ = std::make_unique<BlockingPool>(blocking_threads);
}

Loop::~Loop() {
  shutdown();
  // Workers may still be syncing for fibers that were just killed; their
  // completions land in posted_ and are dropped unrun, as their fibers are gone.
  pool_.reset();
  posted_.clear();
  CASTLE_ASSERT(watches_.empty(), "a descriptor outlived its loop");
  ::close(event_fd_);
  ::close(epoll_fd_);
}

Task Loop::spawn(std::string name, Callback body) {
  return scheduler_.spawn(group_, std::move(name), std::move(body));
}

Instant Loop::now() {
  const auto since = std::chrono::steady_clock::now().time_since_epoch();
  return Instant(std::chrono::duration_cast<Duration>(since));
}

void Loop::wake_at(Instant t, WaitToken token) {
  CASTLE_ASSERT(token.fiber != nullptr, "a timer without a fiber");
  timers_.push_back(Timer{t, timer_seq_++, token});
  std::push_heap(timers_.begin(), timers_.end(), TimerLater{});
  if (timers_.size() >= timers_sweep_at_) sweep_stale_timers();
}

void Loop::sweep_stale_timers() {
  std::erase_if(timers_, [](const Timer& t) { return !Scheduler::token_valid(t.token); });
  std::make_heap(timers_.begin(), timers_.end(), TimerLater{});
  timers_sweep_at_ = std::max(timers_sweep_min, timers_.size() * 2);
}

void Loop::run() { run_loop(false); }
void Loop::run_until_idle() { run_loop(true); }

void Loop::stop() {
  stop_requested_.store(true);
  const std::uint64_t one = 1;
  // A full counter (EAGAIN) already means a wakeup is pending.
  [[maybe_unused]] const ssize_t n = ::write(event_fd_, &one, sizeof one);
}

void Loop::shutdown() {
  CASTLE_ASSERT(!scheduler_.in_fiber(), "shutdown from inside a fiber");
  if (group_.fiber_count() > 0) scheduler_.kill_group(group_);
}

void Loop::run_loop(bool exit_when_idle) {
  CASTLE_ASSERT(!scheduler_.in_fiber(), "the loop runs outside fibers");
  while (!stop_requested_.load()) {
    run_fibers();
    fire_due_timers();
    if (exit_when_idle && group_.fiber_count() == 0) break;
    poll(scheduler_.ready_count() > 0 ? 0 : poll_timeout_ms());
  }
  // Consumed: the loop may be run again.
  stop_requested_.store(false);
}

void Loop::run_fibers() {
  // Only the fibers ready now: those they wake wait for the next turn.
  std::size_t n = std::min(scheduler_.ready_count(), fibers_per_turn_max);
  while (n-- > 0 && scheduler_.run_one()) {
  }
}

void Loop::fire_due_timers() {
  if (timers_.empty()) return;
  const Instant t = now();
  while (!timers_.empty() && timers_.front().deadline <= t) {
    std::pop_heap(timers_.begin(), timers_.end(), TimerLater{});
    const WaitToken token = timers_.back().token;
    timers_.pop_back();
    scheduler_.wake(token);
  }
}

int Loop::poll_timeout_ms() const {
  if (timers_.empty()) return -1;
  const Duration left = timers_.front().deadline - now();
  if (left <= Duration::zero()) return 0;
  // Round up: waking before the deadline would only spin another turn.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<std::int64_t>(ms, poll_timeout_ms_max));
}

void Loop::poll(int timeout_ms) {
  epoll_event events[epoll_events_max];
  const int n = ::epoll_wait(epoll_fd_, events, static_cast<int>(epoll_events_max), timeout_ms);
  if (n < 0) {
    CASTLE_ASSERT(errno == EINTR, "epoll_wait failed");
    return;
  }
  // Dispatch only wakes fibers; none runs before the whole batch is handled,
  // so no PolledFd named in this batch can be closed under us.
  bool posted = false;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t key = events[i].data.u64;
    if (key == event_fd_key) {
      posted = true;
      continue;
    }
    auto it = watches_.find(key);
    if (it != watches_.end()) it->second->on_events(events[i].events);
  }
  // post() queues before it signals, so whatever the signal announced is
  // in the queue by now; later posts signal again.
  if (posted) {
    drain_event_fd();
    run_posted();
  }
}

void Loop::drain_event_fd() {
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(event_fd_, &count, sizeof count);
}

void Loop::post(Callback fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(event_fd_, &one, sizeof one);
}

void Loop::run_posted() {
  std::vector<Callback> batch;
  {
    std::lock_guard lock(posted_mutex_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

namespace {
// Shared between a fiber in run_blocking and the worker running its job.
struct BlockingCall {
  std::function<int()> work;  // run and destroyed on the worker
  int result = 0;             // written by the worker before it posts
  bool done = false;          // loop thread only
  WaitToken waiter;           // loop thread only
};
}  // namespace

int Loop::run_blocking(std::function<int()> work) {
  CASTLE_ASSERT(scheduler_.in_fiber(), "run_blocking outside a fiber");
  auto call = std::make_shared<BlockingCall>();
  call->work = std::move(work);
  pool_->submit([this, call] {
    call->result = call->work();
    call->work = nullptr;
    post([this, call] {
      call->done = true;
      scheduler_.wake(call->waiter);
    });
  });
  // If this fiber is killed or cancelled meanwhile it unwinds at once; the
  // job finishes on its own and its completion wakes a stale token.
  while (!call->done) {
    call->waiter = scheduler_.prepare_wait();
    scheduler_.suspend();
  }
  return call->result;
}

std::uint64_t Loop::watch(int fd, PolledFd* owner) {
  CASTLE_ASSERT(fd >= 0 && owner != nullptr, "watch of a bad descriptor");
  const std::uint64_t key = next_watch_key_++;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = key;
  const int rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  CASTLE_ASSERT(rc == 0, "epoll_ctl(ADD) failed");
  watches_.emplace(key, owner);
  return key;
}

void Loop::unwatch(int fd, std::uint64_t key) {
  const std::size_t erased = watches_.erase(key);
  CASTLE_ASSERT(erased == 1, "unwatch of an unknown descriptor");
  const int rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  CASTLE_ASSERT(rc == 0, "epoll_ctl(DEL) failed");
}

}  // namespace castle::real
