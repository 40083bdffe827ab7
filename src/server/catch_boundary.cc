#include "server/catch_boundary.h"

#include <cstdio>
#include <exception>

namespace kiln::server {
namespace {

// The reason of the exception being handled ("internal error: ...").
std::string CurrentReason() {
  try {
    throw;
  } catch (const std::exception& e) {
    return std::string("internal error: ") + e.what();
  } catch (...) {
    return "internal error: an exception that is not a std::exception";
  }
}

void Log(std::string_view what, const std::string& reason) {
  std::fprintf(stderr, "kiln serve: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               reason.c_str());
}

}  // namespace

bool RunCatching(std::string_view what, const std::function<void()>& body,
                 const std::function<void(const std::string&)>& fail) {
  std::string reason;
  try {
    body();
    return true;
  } catch (...) {
    reason = CurrentReason();
  }
  Log(what, reason);
  if (!fail) return false;
  try {
    fail(reason);
  } catch (...) {
    Log(what, "recording the failure: " + CurrentReason());
  }
  return false;
}

}  // namespace kiln::server
