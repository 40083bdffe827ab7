// The embedded web UI (DESIGN.md "Server"): one page, compiled into the binary, that shows
// pipelines (latest execution, stages, actions), recent executions, build logs and services,
// kept live by the /api/v1/events stream. It reads only the public API.
#pragma once

#include <string_view>

namespace kiln::server {

std::string_view WebUiPage();

}  // namespace kiln::server
