// The build log: output bytes in, timestamped and masked lines out, to the log file kept under
// the state dir and to the console, as they arrive. Nothing holds the whole log in memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exec/shell_session.h"

namespace kiln::codebuild {

// Replaces every occurrence of each secret with "***" in a byte stream, including a secret
// split across chunks: bytes that could still be the start of a secret are held back until
// more input (or Finish) decides.
class Masker {
 public:
  explicit Masker(std::vector<std::string> secrets);
  // Appends masked bytes that are final to out; returns how many input bytes are held back.
  void Feed(std::string_view in, std::string* out);
  // Flushes everything held back.
  void Finish(std::string* out);
  bool empty() const { return secrets_.empty(); }

 private:
  void Emit(size_t end, std::string* out);
  std::vector<std::string> secrets_;
  size_t hold_ = 0;  // longest secret length - 1
  std::string pending_;
};

// text with every secret replaced by "***": for values kept beside the log (exported
// variables, the record), which must hide what the log hides.
std::string MaskText(std::vector<std::string> secrets, std::string_view text);

// Writes lines as "[HH:MM:SS.mmm] text\n" to up to two fds. Thread-compatible.
class LogSink : public exec::OutputSink {
 public:
  // log_fd: the stored log (required); console_fd: a terminal or pipe, or -1.
  // console_prefix is put before every console line (the log file has none).
  LogSink(int log_fd, int console_fd, std::vector<std::string> secrets,
          std::string console_prefix = "");
  ~LogSink() override;

  // Command output (masked).
  void OnOutput(std::string_view bytes) override;
  // A line of Kiln's own, e.g. "[Container] Entering phase BUILD" (masked too).
  void Line(std::string_view text);
  // Like Line, but the line is only buffered until the next write (see Sync).
  void QueueLine(std::string_view text);
  // Writes out whatever is buffered.
  void Sync() { Write(); }
  // Ends a partial last line, if any, and flushes.
  void Flush();
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  void FormatLines(std::string_view masked);
  void Write();
  const std::string& Stamp();

  int log_fd_;
  int console_fd_;
  Masker masker_;
  std::string masked_;   // scratch: masked bytes of the current chunk
  std::string partial_;  // an unfinished line
  std::string out_;      // formatted bytes waiting for write
  std::string stamp_;
  std::string console_prefix_;
  std::string prefixed_;  // scratch: console copy with prefixes
  int64_t stamp_second_ = -1;
  uint64_t bytes_written_ = 0;
};

}  // namespace kiln::codebuild
