#include "system/storage/log_config.h"

namespace castle::storage {

bool apply_log_properties(const std::map<std::string, std::string>& props, LogConfig* config,
                          ConfigError* error) {
  (void)props;
  (void)config;
  (void)error;
  return true;
}

bool is_log_property(const std::string& name) {
  (void)name;
  return false;
}

}  // namespace castle::storage
