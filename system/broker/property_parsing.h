#pragma once
// Value parsers shared by the broker's property tables (internal to
// system/broker): each names the property in its error.

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "system/broker/broker_config.h"

namespace castle::broker {

inline std::string_view trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

inline bool fail(PropertyError* error, const std::string& property, std::string message) {
  if (error) *error = PropertyError{property, std::move(message)};
  return false;
}

template <class Int>
bool parse_int(const std::string& name, const std::string& text, std::int64_t min, Int* out,
               PropertyError* error) {
  const std::string_view t = trim(text);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size())
    return fail(error, name, "'" + text + "' is not an integer");
  const std::int64_t max = std::numeric_limits<Int>::max();
  if (v < min || v > max)
    return fail(error, name,
                std::to_string(v) + " is out of range [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]");
  *out = static_cast<Int>(v);
  return true;
}

inline bool parse_bool(const std::string& name, const std::string& text, bool* out,
                       PropertyError* error) {
  std::string t(trim(text));
  for (auto& c : t) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (t == "true" || t == "false") {
    *out = t == "true";
    return true;
  }
  return fail(error, name, "'" + text + "' is not true or false");
}

}  // namespace castle::broker
