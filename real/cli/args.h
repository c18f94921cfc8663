#pragma once
// Command-line flags for the castle subcommands: --name value, --name=value,
// boolean --name, and positional arguments. Unknown flags are errors.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace castle::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  // value_flags take a value; bool_flags do not; multi_flags may repeat.
  Args(const std::vector<std::string>& argv, std::set<std::string> value_flags,
       std::set<std::string> bool_flags, std::set<std::string> multi_flags = {});

  const std::vector<std::string>& positional() const { return positional_; }
  bool has(const std::string& flag) const;
  std::optional<std::string> value(const std::string& flag) const;
  std::vector<std::string> values(const std::string& flag) const;
  std::uint64_t u64(const std::string& flag, std::uint64_t fallback) const;
  std::int64_t i64(const std::string& flag, std::int64_t fallback) const;

 private:
  std::vector<std::string> positional_;
  std::multimap<std::string, std::string> values_;
  std::set<std::string> bools_;
};

std::uint64_t parse_u64(const std::string& flag, const std::string& text);

}  // namespace castle::cli
