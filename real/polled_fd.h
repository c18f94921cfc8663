#pragma once
// A non-blocking descriptor registered with the loop's epoll set
// (edge-triggered, for reading and writing at once). It owns the fd.
//
// The protocol for a fiber: try the system call; on EAGAIN call wait() and
// try again. Edge-triggered readiness is never lost between the two because
// events are only dispatched while the fiber is suspended, and an edge that
// arrives after the EAGAIN is queued by the kernel until the next poll.

#include <cstdint>
#include <optional>
#include <vector>

#include "system/runtime/fiber.h"
#include "system/runtime/time.h"

namespace castle::real {

class Loop;

class PolledFd {
 public:
  enum class Want { read, write };

  // Takes ownership of fd, which must be non-blocking.
  PolledFd(Loop& loop, int fd);
  PolledFd(const PolledFd&) = delete;
  PolledFd& operator=(const PolledFd&) = delete;
  ~PolledFd() { close(); }

  int fd() const { return fd_; }
  bool closed() const { return fd_ < 0; }
  Loop& loop() { return loop_; }

  // Suspends the calling fiber until the fd may be ready for `want`, the
  // deadline passes or close() is called. False iff the deadline passed.
  bool wait(Want want, std::optional<Instant> deadline);
  // Unregisters and closes the fd, and wakes every waiter (who then sees
  // closed()). Idempotent.
  void close();
  // Called by the loop with the epoll events of this fd.
  void on_events(std::uint32_t events);

 private:
  // Waiters are few (usually one reader and one writer); stale tokens from
  // timed-out waits are swept past this many.
  static constexpr std::size_t waiters_sweep_min = 16;

  void wake_all(std::vector<WaitToken>& waiters);

  Loop& loop_;
  int fd_;
  std::uint64_t key_ = 0;
  std::vector<WaitToken> readers_;
  std::vector<WaitToken> writers_;
};

}  // namespace castle::real
