// What `kiln pipeline ...` was given (shared by the in-process and the --server paths).
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

struct PipelineArgs {
  std::string target;                  // pipeline name/file, execution id, or template
  std::vector<std::string> variables;  // K=V
  std::vector<std::string> parameters, exports;
  std::string revision, stage, action, summary, mode = "FAILED_ACTIONS", output;
  std::string approval_token;  // approve/reject: must be the waiting approval's, if given
  std::string reason;          // disable-transition: why (1..300 characters)
  bool abandon = false;
  bool detach = false;  // --server run/retry: return once started
  bool follow = false;  // --server status: follow the execution live
  int limit = 20;
};

}  // namespace kiln::cli
