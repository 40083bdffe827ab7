// The build log as the shell session's output sink (engine.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "codebuild/log_sink.h"
#include "exec/shell_session.h"

namespace kiln::codebuild {

// The shell's output goes to the log; each command's start becomes a "Running command" line
// at its place in the stream.
class CommandLog : public exec::OutputSink {
 public:
  CommandLog(LogSink* log, const std::vector<std::string>* commands)
      : log_(log), commands_(commands) {}
  void OnOutput(std::string_view bytes) override { log_->OnOutput(bytes); }
  void OnCommandStart(size_t index) override {
    if (index < commands_->size()) {
      log_->QueueLine("[Container] Running command " + (*commands_)[index]);
    }
  }
  void OnIdle() override { log_->Sync(); }

 private:
  LogSink* log_;
  const std::vector<std::string>* commands_;
};

}  // namespace kiln::codebuild
