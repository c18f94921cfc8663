#pragma once
// Time types. Clocks themselves live behind the Runtime: system code never
// reads a clock except through it. These are only the units.

#include <chrono>
#include <cstdint>

namespace castle {

using Duration = std::chrono::nanoseconds;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Tag clock for a node's monotonic time. It has no now(): time comes from the
// Runtime, which in simulation is virtual and per node.
struct MonoClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = Duration;
  using time_point = std::chrono::time_point<MonoClock, Duration>;
  static constexpr bool is_steady = true;
};

// Tag clock for wall time: nanoseconds since the Unix epoch. It may jump.
struct WallClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = Duration;
  using time_point = std::chrono::time_point<WallClock, Duration>;
  static constexpr bool is_steady = false;
};

using Instant = MonoClock::time_point;
using WallTime = WallClock::time_point;

constexpr Instant instant_from_ns(std::int64_t ns) { return Instant(Duration(ns)); }
constexpr std::int64_t to_ns(Instant t) { return t.time_since_epoch().count(); }
constexpr std::int64_t to_ns(Duration d) { return d.count(); }
constexpr std::int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

}  // namespace castle
