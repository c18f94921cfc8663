#pragma once
// Structured trace events: (node, time, kind, fields). The simulator writes
// them to trace.jsonl and hands them to state-invariant checkers; the real
// runtime may log them. Emitting costs one branch when nobody listens:
// use CASTLE_TRACE, which builds the fields only if the tracer is enabled.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace castle {

using TraceValue = std::variant<std::int64_t, std::string, bool, double>;

struct TraceField {
  std::string key;
  TraceValue value;
  TraceField(std::string k, std::int64_t v) : key(std::move(k)), value(v) {}
  TraceField(std::string k, int v) : key(std::move(k)), value(std::int64_t{v}) {}
  TraceField(std::string k, std::uint64_t v)
      : key(std::move(k)), value(static_cast<std::int64_t>(v)) {}
  TraceField(std::string k, std::uint32_t v) : key(std::move(k)), value(std::int64_t{v}) {}
  TraceField(std::string k, bool v) : key(std::move(k)), value(v) {}
  TraceField(std::string k, double v) : key(std::move(k)), value(v) {}
  TraceField(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  TraceField(std::string k, std::string_view v) : key(std::move(k)), value(std::string(v)) {}
  TraceField(std::string k, const char* v) : key(std::move(k)), value(std::string(v)) {}
};

struct TraceEvent {
  std::string node;
  std::int64_t time_ns = 0;  // simulated or steady time, as the runtime sees it
  std::string kind;
  std::vector<TraceField> fields;

  const TraceValue* find(std::string_view key) const;
  std::int64_t int_field(std::string_view key, std::int64_t fallback = 0) const;
  std::string str_field(std::string_view key) const;
  std::string to_json() const;
};

// Fans events out to subscribers (trace file writer, invariant checkers).
class TraceBus {
 public:
  using Subscriber = std::function<void(const TraceEvent&)>;
  void subscribe(Subscriber s) { subscribers_.push_back(std::move(s)); }
  bool has_subscribers() const { return !subscribers_.empty(); }
  void publish(const TraceEvent& e) const {
    for (const auto& s : subscribers_) s(e);
  }

 private:
  std::vector<Subscriber> subscribers_;
};

class Tracer {
 public:
  Tracer() = default;
  Tracer(std::string node, const TraceBus* bus, std::function<std::int64_t()> clock_ns)
      : node_(std::move(node)), bus_(bus), clock_ns_(std::move(clock_ns)) {}

  bool enabled() const { return bus_ != nullptr && bus_->has_subscribers(); }
  void emit(std::string_view kind, std::vector<TraceField> fields) const;

 private:
  std::string node_;
  const TraceBus* bus_ = nullptr;
  std::function<std::int64_t()> clock_ns_;
};

}  // namespace castle

#define CASTLE_TRACE(tracer, kind, ...)               \
  do {                                                \
    if ((tracer).enabled()) (tracer).emit((kind), __VA_ARGS__); \
  } while (0)
