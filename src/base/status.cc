#include "base/status.h"

#include <cstring>

namespace kiln::base {

Status IoError(const std::string& what, int err) {
  return {ErrorKind::kIo, what + ": " + std::strerror(err)};
}

}  // namespace kiln::base
