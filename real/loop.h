#pragma once
// The real runtime's event loop: one per process, on one thread.
//
// It owns the process's fiber scheduler (FIFO order) and fiber group, a
// timer heap, an epoll set and an eventfd. One turn of the loop runs the
// fibers that are ready, fires the timers that are due, then waits in
// epoll_wait until a descriptor is ready, the next timer is due or another
// thread posts work (blocking-pool completions, stop()). Readiness wakes the
// fibers waiting on the descriptor; they retry their system call.
//
// Timers hold WaitTokens and are never cancelled: a token whose fiber has
// since been woken (or has died) is stale and Scheduler::wake ignores it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "real/blocking_pool.h"
#include "system/runtime/callback.h"
#include "system/runtime/fiber.h"
#include "system/runtime/time.h"

namespace castle::real {

class PolledFd;

class Loop {
 public:
  static constexpr std::size_t epoll_events_max = 256;
  static constexpr std::size_t blocking_threads_default = 2;
  // Fibers resumed per turn before the loop polls again, so that fibers
  // that keep yielding cannot starve sockets and timers.
  static constexpr std::size_t fibers_per_turn_max = 1024;
  // Stale timers are swept when the heap has grown past this since the last
  // sweep, so a loop of short reads with long deadlines stays bounded.
  static constexpr std::size_t timers_sweep_min = 1024;

  explicit Loop(std::string group_name = "process",
                std::size_t blocking_threads = blocking_threads_default);
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  // Unwinds any fiber still alive, then joins the blocking workers.
  ~Loop();

  Scheduler& scheduler() { return scheduler_; }
  FiberGroup& group() { return group_; }
  Task spawn(std::string name, Callback body);

  // The monotonic clock (steady_clock), in the runtime's units.
  static Instant now();
  // Wakes the token's fiber at or after t.
  void wake_at(Instant t, WaitToken token);

  // Runs until stop() is called.
  void run();
  // Runs until stop() is called or no fiber of the group is left.
  void run_until_idle();
  // Asks run() to return after the current turn. Callable from any thread
  // and from a signal handler (an atomic store and an eventfd write).
  void stop();
  // Unwinds every fiber of the process (destructors run). From outside
  // any fiber; the group stays dead afterwards.
  void shutdown();

  // Runs fn on the loop thread at its next turn; callable from any thread.
  void post(Callback fn);
  // From a fiber: runs work on a blocking worker thread and suspends until
  // it has finished. work returns 0 or an errno value. work must not touch
  // loop-thread state; it may outlive the calling fiber if that is killed.
  int run_blocking(std::function<int()> work);

  // Registration of descriptors, used by PolledFd only.
  std::uint64_t watch(int fd, PolledFd* owner);
  void unwatch(int fd, std::uint64_t key);

  std::size_t timers_pending() const { return timers_.size(); }
  std::size_t watches() const { return watches_.size(); }

 private:
  struct Timer {
    Instant deadline;
    std::uint64_t seq = 0;  // ties fire in the order they were set
    WaitToken token;
  };
  struct TimerLater {
    bool operator()(const Timer& a, const Timer& b) const {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
    }
  };

  void run_loop(bool exit_when_idle);
  void run_fibers();
  void fire_due_timers();
  void sweep_stale_timers();
  int poll_timeout_ms() const;
  void poll(int timeout_ms);
  void drain_event_fd();
  void run_posted();

  Scheduler scheduler_;
  FiberGroup group_;
  int epoll_fd_ = -1;
  int event_fd_ = -1;  // cross-thread wakeups: posted work and stop()
  std::vector<Timer> timers_;  // a min-heap under TimerLater
  std::uint64_t timer_seq_ = 0;
  std::size_t timers_sweep_at_ = timers_sweep_min;
  std::unordered_map<std::uint64_t, PolledFd*> watches_;
  std::uint64_t next_watch_key_ = 1;  // 0 is the eventfd
  std::atomic<bool> stop_requested_{false};
  std::mutex posted_mutex_;
  std::vector<Callback> posted_;
  std::unique_ptr<BlockingPool> pool_;
};

}  // namespace castle::real
