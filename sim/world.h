#pragma once
// The simulated world: one thread, one event queue ordered by (virtual time,
// sequence), one fiber scheduler for every node. Every choice is drawn from
// streams forked from the run's seed, so a run is a pure function of
// (binary, scenario, seed). Every event and every fiber resumption is mixed
// into a trace hash; with step recording on, the log names the first
// divergent step when two runs of one seed disagree.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/event_queue.h"
#include "system/runtime/fiber.h"
#include "system/runtime/random.h"
#include "system/runtime/time.h"
#include "system/runtime/trace.h"

namespace castle::sim {

class SimNetwork;
class SimNode;

// One entry of the determinism log.
struct Step {
  SimTime time;
  const char* what;  // a string literal naming the kind of step
  std::uint64_t a;
  std::uint64_t b;
  friend bool operator==(const Step& x, const Step& y) {
    return x.time == y.time && std::string_view(x.what) == y.what && x.a == y.a && x.b == y.b;
  }
};
std::string describe(const Step& s);

struct BuggifyConfig {
  bool enabled = false;
  double arm_probability = 0.25;   // per point, per run
  double fire_probability = 0.05;  // per evaluation of an armed point
};

class World final : private SchedulerHooks {
 public:
  // Steps at one instant beyond this are a livelock: fibers that yield to
  // each other forever without letting time move.
  static constexpr std::uint64_t steps_per_instant_max = 50'000'000;

  explicit World(std::uint64_t seed);
  ~World() override;
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  std::uint64_t seed() const { return seed_; }
  SimTime now() const { return now_; }
  Scheduler& scheduler() { return sched_; }
  // An independent stream for a named component.
  Rng fork_rng(std::string_view stream) const;

  EventId at(SimTime t, Callback cb);
  EventId after(Duration d, Callback cb) { return at(now_ + d.count(), std::move(cb)); }
  // Drops a queued event; one that already ran or was dropped is ignored.
  void cancel(EventId id) { queue_.cancel(id); }

  // Mixes a step into the trace hash (and the log, when recording).
  void note(const char* what, std::uint64_t a, std::uint64_t b = 0);
  std::uint64_t trace_hash() const { return hash_; }
  void record_steps(bool on) { recording_ = on; }
  const std::vector<Step>& steps() const { return steps_; }

  SimNode& add_node(std::string name);
  SimNode& node(std::size_t index) { return *nodes_.at(index); }
  SimNode* find_node(std::string_view name);
  std::size_t node_count() const { return nodes_.size(); }
  SimNetwork& network() { return *network_; }
  TraceBus& trace_bus() { return trace_bus_; }

  void set_buggify(BuggifyConfig c) { buggify_ = c; }
  bool buggify(std::string_view point, double weight = 1.0);
  // No point fires from now on (the faults are over); the armed ones stay
  // listed for the report.
  void stop_buggify() { buggify_.enabled = false; }
  // The points armed so far in this run, for the report.
  struct BuggifyPoint {
    bool armed = false;
    std::uint64_t fired = 0;
  };
  const std::map<std::string, BuggifyPoint, std::less<>>& buggify_points() const { return armed_; }

  // Runs one ready fiber or one event. False when nothing is left to do.
  bool step();
  // Runs everything due up to and including t, then sets the clock to t.
  void run_until(SimTime t);
  void run_for(Duration d) { run_until(now_ + d.count()); }
  // Runs until pred() holds (checked between steps) or the time limit.
  bool run_until(const std::function<bool()>& pred, SimTime limit);

  std::uint64_t events_processed() const { return events_; }

 private:
  void on_resume(Fiber& fiber) override;
  void mix(std::uint64_t v);
  void check_livelock();

  std::uint64_t seed_;
  Rng order_rng_;
  Rng buggify_rng_;
  Scheduler sched_;
  EventQueue queue_;
  SimTime now_ = 0;
  SimTime livelock_time_ = -1;
  std::uint64_t steps_at_instant_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  bool recording_ = false;
  std::vector<Step> steps_;
  TraceBus trace_bus_;
  BuggifyConfig buggify_;
  std::map<std::string, BuggifyPoint, std::less<>> armed_;
  std::unique_ptr<SimNetwork> network_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
};

// Runs a function twice on fresh worlds of the same seed and compares their
// step logs. Returns the empty string if identical, else a description of
// the first divergent step.
std::string first_divergence(const std::vector<Step>& a, const std::vector<Step>& b);

}  // namespace castle::sim
