#include "real/cli/args.h"

#include <cctype>
#include <charconv>

namespace castle::cli {

Args::Args(const std::vector<std::string>& argv, std::set<std::string> value_flags,
           std::set<std::string> bool_flags, std::set<std::string> multi_flags) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    // A one-letter flag may also be spelled with one dash (-j 2).
    const bool short_flag = a.size() == 2 && a[0] == '-' && std::isalpha(static_cast<unsigned char>(a[1]));
    if (!short_flag && (a.rfind("--", 0) != 0 || a == "--")) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(short_flag ? 1 : 2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (bool_flags.count(name)) {
      if (inline_value) throw UsageError("--" + name + " takes no value");
      bools_.insert(name);
    } else if (value_flags.count(name) || multi_flags.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw UsageError("--" + name + " needs a value");
        inline_value = argv[++i];
      }
      if (!multi_flags.count(name) && values_.count(name))
        throw UsageError("--" + name + " given twice");
      values_.emplace(name, *inline_value);
    } else {
      throw UsageError("unknown flag --" + name);
    }
  }
}

bool Args::has(const std::string& flag) const {
  return bools_.count(flag) != 0 || values_.count(flag) != 0;
}

std::optional<std::string> Args::value(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Args::values(const std::string& flag) const {
  std::vector<std::string> out;
  auto [lo, hi] = values_.equal_range(flag);
  for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  return out;
}

std::uint64_t parse_u64(const std::string& flag, const std::string& text) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty())
    throw UsageError("--" + flag + " must be a non-negative integer, got '" + text + "'");
  return v;
}

std::uint64_t Args::u64(const std::string& flag, std::uint64_t fallback) const {
  auto v = value(flag);
  return v ? parse_u64(flag, *v) : fallback;
}

std::int64_t Args::i64(const std::string& flag, std::int64_t fallback) const {
  auto v = value(flag);
  if (!v) return fallback;
  std::int64_t x = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc{} || ptr != v->data() + v->size() || v->empty())
    throw UsageError("--" + flag + " must be an integer, got '" + *v + "'");
  return x;
}

}  // namespace castle::cli
