#include "server/log_text.h"

#include <algorithm>

namespace kiln::server {

size_t TailStart(std::string_view window, bool at_file_start, std::optional<size_t> lines) {
  size_t floor = 0;
  if (!at_file_start) {
    size_t first_nl = window.find('\n');
    floor = first_nl == std::string_view::npos ? window.size() : first_nl + 1;
  }
  if (!lines) return floor;
  if (*lines == 0) return window.size();
  size_t pos = window.ends_with('\n') ? window.size() - 1 : window.size();
  for (size_t k = 0; k < *lines; ++k) {
    size_t nl = pos == 0 ? std::string_view::npos : window.rfind('\n', pos - 1);
    if (nl == std::string_view::npos) return floor;
    pos = nl;
  }
  return std::max(pos + 1, floor);
}

void AppendPrefixedLines(std::string* out, std::string_view text, std::string_view prefix) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    *out += prefix;
    std::copy_if(line.begin(), line.end(), std::back_inserter(*out),
                 [](char c) { return c != '\r'; });
    *out += '\n';
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
}

std::string TaskLinePrefix(std::string_view task_id) {
  return std::string(task_id.substr(0, 12)) + " | ";
}

}  // namespace kiln::server
