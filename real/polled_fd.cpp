#include "real/polled_fd.h"

#include <sys/epoll.h>
#include <unistd.h>

#include "real/loop.h"
#include "system/runtime/assert.h"

namespace castle::real {

PolledFd::PolledFd(Loop& loop, int fd) : loop_(loop), fd_(fd) {
  CASTLE_ASSERT(fd >= 0, "PolledFd of a bad descriptor");
  key_ = loop_.watch(fd_, this);
}

bool PolledFd::wait(Want want, std::optional<Instant> deadline) {
  CASTLE_ASSERT(!closed(), "wait on a closed descriptor");
  if (deadline && Loop::now() >= *deadline) return false;
  auto& waiters = want == Want::read ? readers_ : writers_;
  if (waiters.size() >= waiters_sweep_min) {
    std::erase_if(waiters, [](WaitToken t) { return !Scheduler::token_valid(t); });
  }
  Scheduler& s = loop_.scheduler();
  const WaitToken token = s.prepare_wait();
  waiters.push_back(token);
  if (deadline) loop_.wake_at(*deadline, token);
  s.suspend();
  return !(deadline && Loop::now() >= *deadline);
}

void PolledFd::close() {
  if (closed()) return;
  // Deregister before closing: the number may be reused at once by the
  // next socket or file, and epoll must not report for it under our key.
  loop_.unwatch(fd_, key_);
  ::close(fd_);
  fd_ = -1;
  wake_all(readers_);
  wake_all(writers_);
}

void PolledFd::on_events(std::uint32_t events) {
  CASTLE_ASSERT(!closed(), "events for a closed descriptor");
  // Errors and hang-ups wake both sides: the retried call reports them.
  const std::uint32_t failed = EPOLLERR | EPOLLHUP;
  if (events & (EPOLLIN | EPOLLRDHUP | failed)) wake_all(readers_);
  if (events & (EPOLLOUT | failed)) wake_all(writers_);
}

void PolledFd::wake_all(std::vector<WaitToken>& waiters) {
  std::vector<WaitToken> woken;
  woken.swap(waiters);
  for (WaitToken t : woken) loop_.scheduler().wake(t);
}

}  // namespace castle::real
