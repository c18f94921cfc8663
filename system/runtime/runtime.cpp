#include "system/runtime/runtime.h"

#include <charconv>

#include "system/runtime/sync.h"

namespace castle {

void Runtime::sleep_until(Instant t) {
  Scheduler& s = scheduler();
  while (now() < t) {
    WaitToken tok = s.prepare_wait();
    wake_at(t, tok);
    s.suspend();
  }
}

bool WaitList::wait(Runtime& rt, std::optional<Instant> deadline) {
  if (deadline && rt.now() >= *deadline) return false;
  Scheduler& s = rt.scheduler();
  drop_stale();
  WaitToken tok = s.prepare_wait();
  waiters_.push_back(tok);
  if (deadline) rt.wake_at(*deadline, tok);
  s.suspend();
  return !(deadline && rt.now() >= *deadline);
}

void WaitList::drop_stale() {
  // Tokens whose fiber timed out or died stay behind; sweep them when the
  // list grows so a busy timeout loop cannot grow it without bound.
  if (waiters_.size() < 64) return;
  std::erase_if(waiters_, [](WaitToken t) { return !Scheduler::token_valid(t); });
}

void WaitList::notify_one() {
  Scheduler* s = Scheduler::has_current() ? &Scheduler::current() : nullptr;
  while (!waiters_.empty()) {
    WaitToken t = waiters_.front();
    waiters_.erase(waiters_.begin());
    if (s != nullptr && s->wake(t)) return;
  }
}

void WaitList::notify_all() {
  if (waiters_.empty()) return;
  Scheduler& s = Scheduler::current();
  std::vector<WaitToken> all;
  all.swap(waiters_);
  for (WaitToken t : all) s.wake(t);
  // Waking only queues the fibers, so nobody waited meanwhile: hand the
  // capacity back, or every wait after a notify would allocate anew.
  all.clear();
  if (waiters_.empty()) waiters_.swap(all);
}

Result<Address> Address::parse(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return std::errc::invalid_argument;
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, port);
  if (ec != std::errc{} || ptr != last || port > 65535) return std::errc::invalid_argument;
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return Address{host, static_cast<std::uint16_t>(port)};
}

ReadExact read_exact(Connection& conn, std::span<std::uint8_t> buf,
                     std::optional<Instant> deadline) {
  std::size_t got = 0;
  while (got < buf.size()) {
    auto n = conn.read(buf.subspan(got), deadline);
    if (!n) return {n.error(), false};
    if (*n == 0) {
      if (got == 0) return {std::errc::connection_aborted, true};
      return {std::errc::connection_aborted, false};
    }
    got += *n;
  }
  return {};
}

}  // namespace castle
