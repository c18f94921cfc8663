#include "system/runtime/trace.h"

#include <cstdio>

namespace castle {

namespace {
void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_value(std::string& out, const TraceValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    append_json_string(out, *s);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out += *b ? "true" : "false";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(v));
    out += buf;
  }
}
}  // namespace

const TraceValue* TraceEvent::find(std::string_view key) const {
  for (const auto& f : fields)
    if (f.key == key) return &f.value;
  return nullptr;
}

std::int64_t TraceEvent::int_field(std::string_view key, std::int64_t fallback) const {
  const TraceValue* v = find(key);
  if (v == nullptr) return fallback;
  if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
  return fallback;
}

std::string TraceEvent::str_field(std::string_view key) const {
  const TraceValue* v = find(key);
  if (v == nullptr) return {};
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return {};
}

std::string TraceEvent::to_json() const {
  std::string out = "{\"time_ns\":" + std::to_string(time_ns) + ",\"node\":";
  append_json_string(out, node);
  out += ",\"kind\":";
  append_json_string(out, kind);
  for (const auto& f : fields) {
    out.push_back(',');
    append_json_string(out, f.key);
    out.push_back(':');
    append_value(out, f.value);
  }
  out.push_back('}');
  return out;
}

void Tracer::emit(std::string_view kind, std::vector<TraceField> fields) const {
  if (!enabled()) return;
  TraceEvent e{node_, clock_ns_ ? clock_ns_() : 0, std::string(kind), std::move(fields)};
  bus_->publish(e);
}

}  // namespace castle
