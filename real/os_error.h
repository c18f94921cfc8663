#pragma once
// errno as an error value. Codes use the generic category so that they
// compare equal to std::errc values (ECONNREFUSED == errc::connection_refused)
// and to the codes the simulator produces with std::make_error_code.

#include <cerrno>
#include <system_error>

namespace castle::real {

inline std::error_code errno_code(int e) { return {e, std::generic_category()}; }
inline std::error_code last_errno_code() { return errno_code(errno); }

}  // namespace castle::real
