// Pure helpers for serving the end of a log: where its last N lines start within the bytes
// read from its end, and lines with a prefix (a task's short id, as `docker service logs`).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::server {

// window: the last bytes of a log; at_file_start: it begins at the file's first byte (else its
// first, cut line is left out). Returns the index in window where its last `lines` whole
// lines begin (a last line without its newline counts); all lines when `lines` is nullopt or
// more than the window holds; window.size() for 0.
size_t TailStart(std::string_view window, bool at_file_start, std::optional<size_t> lines);

// Appends each line of text (split at '\n') to out as prefix + line + '\n', without '\r'.
void AppendPrefixedLines(std::string* out, std::string_view text, std::string_view prefix);

// "<first 12 characters of the task id> | ": ECS's and Docker's short task id.
std::string TaskLinePrefix(std::string_view task_id);

}  // namespace kiln::server
