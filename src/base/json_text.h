// The one way Kiln writes JSON text: bytes that are not UTF-8 (a path segment, a branch name,
// a log line) are replaced with U+FFFD instead of throwing, so no value from outside can make
// an answer, a record or an event fail to serialise. `scripts/check-json-dump` keeps every
// other `.dump(` out of src/.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace kiln::base {

// indent < 0: compact; otherwise pretty-printed with that many spaces.
template <typename Json>
std::string JsonText(const Json& value, int indent = -1) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace kiln::base
