// The event queue: events come out in (time, push order) whatever was
// cancelled in between, a cancelled event never runs, and a stale id (its
// event already popped, its slot reused) cancels nothing.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>

#include "sim/event_queue.h"
#include "sim/node.h"
#include "sim/world.h"
#include "system/runtime/sync.h"

namespace castle::sim {
namespace {

TEST(EventQueue, StaleIdCancelsNothing) {
  EventQueue q;
  int ran = 0;
  const EventId first = q.push(10, [&] { ran += 1; });
  Callback cb;
  std::uint64_t seq = 0;
  q.pop(&cb, &seq);
  cb();
  q.push(20, [&] { ran += 10; });  // reuses the slot
  q.cancel(first);
  ASSERT_EQ(q.size(), 1u);
  q.pop(&cb, &seq);
  cb();
  EXPECT_EQ(ran, 11);
}

RC_GTEST_PROP(EventQueue, CancelledEventsNeverRunAndTheRestKeepTheirOrder, ()) {
  const auto times = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 50));
  EventQueue q;
  std::vector<EventId> ids;
  std::vector<int> ran;
  std::multimap<std::pair<int, std::size_t>, std::size_t> expected;  // (time, push) -> event
  for (std::size_t i = 0; i < times.size(); ++i) {
    ids.push_back(q.push(times[i], [&ran, i] { ran.push_back(static_cast<int>(i)); }));
    expected.emplace(std::make_pair(times[i], i), i);
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (*rc::gen::inRange(0, 3) == 0) {
      q.cancel(ids[i]);
      q.cancel(ids[i]);  // twice is harmless
      expected.erase({times[i], i});
    }
  RC_ASSERT(q.size() == expected.size());
  while (!q.empty()) {
    Callback cb;
    std::uint64_t seq = 0;
    q.pop(&cb, &seq);
    cb();
  }
  std::vector<int> want;
  for (const auto& [key, i] : expected) want.push_back(static_cast<int>(i));
  RC_ASSERT(ran == want);
}

// A timeout that did not fire leaves no event behind once its fiber has
// been woken otherwise: waits with far deadlines do not pile up.
TEST(WorldTimers, TimeoutsOfWaitsWokenEarlyAreDropped) {
  World w(1);
  SimNode& n = w.add_node("n1");
  int woken = 0;
  n.set_main([&](Runtime& rt) {
    Event e;
    auto waker = rt.spawn("waker", [&] {
      for (int i = 0; i < 100; ++i) {
        rt.sleep_for(milliseconds(1));
        e.set();
      }
    });
    for (int i = 0; i < 100; ++i) {
      e.wait(rt, rt.now() + seconds(600));
      e.clear();
      ++woken;
    }
    waker.join();
  });
  n.start();
  while (w.step()) {
  }
  EXPECT_EQ(woken, 100);
  // The world ran out of events after the last sleep: no 600 s timeout was left.
  EXPECT_LT(w.now(), 1'000'000'000);  // ns
  EXPECT_LT(w.events_processed(), 150u);
}

}  // namespace
}  // namespace castle::sim
