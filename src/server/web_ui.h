// The embedded web UI (DESIGN.md "Server"): one page, compiled into the binary, that shows
// pipelines (latest execution, stages, actions), recent executions, build logs and services,
// kept live by the /api/v1/events stream. It reads only the public API.
#pragma once

#include <string_view>

namespace kiln::server {

std::string_view WebUiPage();    // GET /
std::string_view WebUiScript();  // GET /ui.js
std::string_view WebUiStyle();   // GET /ui.css
// The Content-Security-Policy sent with the page and its assets.
std::string_view WebUiPolicy();

}  // namespace kiln::server
