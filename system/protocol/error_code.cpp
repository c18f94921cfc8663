#include "system/protocol/error_code.h"

namespace castle::protocol {

const char* to_string(ErrorCode code) {
  switch (code) {
#define CASTLE_X(name, code) \
  case ErrorCode::name:      \
    return #name;
    CASTLE_KAFKA_ERROR_CODES(CASTLE_X)
#undef CASTLE_X
  }
  return "UNKNOWN_ERROR_CODE";
}

}  // namespace castle::protocol
