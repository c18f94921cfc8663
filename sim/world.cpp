#include "sim/world.h"

#include <cstdio>

#include "sim/network.h"
#include "sim/node.h"
#include "system/runtime/assert.h"

namespace castle::sim {

std::string describe(const Step& s) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "t=%lldns %s a=%llu b=%llu", static_cast<long long>(s.time),
                s.what, static_cast<unsigned long long>(s.a),
                static_cast<unsigned long long>(s.b));
  return buf;
}

std::string first_divergence(const std::vector<Step>& a, const std::vector<Step>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!(a[i] == b[i]))
      return "step " + std::to_string(i) + ": first run " + describe(a[i]) + ", second run " +
             describe(b[i]);
  }
  if (a.size() != b.size())
    return "step " + std::to_string(n) + ": one run ended after " + std::to_string(n) +
           " steps, the other has " + std::to_string(std::max(a.size(), b.size()));
  return {};
}

World::World(std::uint64_t seed)
    : seed_(seed),
      order_rng_(Rng(seed).fork("scheduler")),
      buggify_rng_(Rng(seed).fork("buggify")),
      network_(std::make_unique<SimNetwork>(*this)) {
  sched_.set_order_rng(&order_rng_);
  sched_.set_hooks(this);
}

World::~World() {
  // Unwind every node's fibers while the world they use still exists.
  for (auto& n : nodes_)
    if (n->up()) n->crash();
  sched_.set_hooks(nullptr);
}

Rng World::fork_rng(std::string_view stream) const { return Rng(seed_).fork(stream); }

EventId World::at(SimTime t, Callback cb) {
  CASTLE_ASSERT(t >= now_, "an event scheduled in the past");
  return queue_.push(t, std::move(cb));
}

void World::mix(std::uint64_t v) {
  hash_ ^= v;
  hash_ *= 0x100000001b3ULL;
  hash_ ^= hash_ >> 29;
}

void World::note(const char* what, std::uint64_t a, std::uint64_t b) {
  mix(hash_name(what));
  mix(a);
  mix(b);
  if (recording_) steps_.push_back(Step{now_, what, a, b});
}

void World::on_resume(Fiber& fiber) {
  // Whatever woke the fiber, the timer of its wait is moot now.
  if (fiber.timer_id() != 0) {
    queue_.cancel(fiber.timer_id());
    fiber.set_timer_id(0);
  }
  mix(static_cast<std::uint64_t>(now_));
  mix(fiber.id());
  if (recording_) steps_.push_back(Step{now_, "resume", fiber.id(), 0});
  check_livelock();
}

void World::check_livelock() {
  if (now_ != livelock_time_) {
    livelock_time_ = now_;
    steps_at_instant_ = 0;
  }
  CASTLE_ASSERT(++steps_at_instant_ < steps_per_instant_max,
                "livelock: fibers keep running without simulated time moving");
}

SimNode& World::add_node(std::string name) {
  CASTLE_ASSERT(find_node(name) == nullptr, "duplicate node name");
  const int id = static_cast<int>(nodes_.size());
  nodes_.push_back(std::make_unique<SimNode>(*this, id, std::move(name)));
  return *nodes_.back();
}

SimNode* World::find_node(std::string_view name) {
  for (auto& n : nodes_)
    if (n->node_name() == name) return n.get();
  return nullptr;
}

bool World::buggify(std::string_view point, double weight) {
  if (!buggify_.enabled) return false;
  auto it = armed_.find(point);
  if (it == armed_.end()) {
    // Arming depends only on the seed and the point's name, never on the
    // order in which points are first reached.
    Rng r(seed_ ^ hash_name(point));
    it = armed_.emplace(std::string(point), BuggifyPoint{r.chance(buggify_.arm_probability)}).first;
  }
  if (!it->second.armed || !buggify_rng_.chance(buggify_.fire_probability * weight)) return false;
  ++it->second.fired;
  return true;
}

bool World::step() {
  if (sched_.run_one()) return true;
  if (queue_.empty()) return false;
  Callback cb;
  std::uint64_t seq = 0;
  const SimTime t = queue_.pop(&cb, &seq);
  CASTLE_ASSERT(t >= now_, "time went backwards");
  now_ = t;
  ++events_;
  mix(static_cast<std::uint64_t>(t));
  mix(seq);
  if (recording_) steps_.push_back(Step{t, "event", seq, 0});
  cb();
  return true;
}

void World::run_until(SimTime t) {
  for (;;) {
    if (sched_.run_one()) continue;
    if (queue_.empty() || queue_.next_time() > t) break;
    step();
  }
  if (t > now_) now_ = t;
}

bool World::run_until(const std::function<bool()>& pred, SimTime limit) {
  for (;;) {
    if (pred()) return true;
    if (sched_.run_one()) continue;
    if (queue_.empty() || queue_.next_time() > limit) break;
    step();
  }
  if (limit > now_) now_ = limit;
  return pred();
}

}  // namespace castle::sim
