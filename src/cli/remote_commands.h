// The CLI commands acting through a running server (--server URL / $KILN_SERVER).
#pragma once

#include <cstdint>
#include <string>

#include "cli/api_client.h"
#include "cli/context.h"
#include "cli/pipeline_args.h"

namespace kiln::cli {

// `kiln pipeline <which> ...` through the API; same output and exit codes as in-process.
int RemotePipeline(const std::string& which, const PipelineArgs& a, const GlobalOptions& g);
// Follows an execution's events until it ends, printing stage/action lines and its builds'
// logs; returns the exit code for its final status.
// Events after after_event (the eventId the start answer carried) are replayed first.
int FollowExecution(const ApiClient& api, const std::string& id, uint64_t after_event,
                    const GlobalOptions& g);
// Prints a build's log from the server; follow: until the build ends.
int RemoteLogs(const ApiClient& api, const std::string& build_id, bool follow);
// Copies the lines of a log event stream (GET path) to stdout as they come, until the server
// ends it; *end gets the data of its closing `event: end` ("" if it closed without one).
base::Status PrintLogStream(const ApiClient& api, const std::string& path, std::string* end);

}  // namespace kiln::cli
