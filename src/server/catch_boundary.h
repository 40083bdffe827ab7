// The catch boundary of work the server runs off the request path (runner threads, store
// writer jobs): an exception thrown by a bug or by a value nobody checked ends that piece of
// work, recorded as failed, never the daemon (an uncaught exception in a thread terminates
// the process, and a queued row that throws would do so again at every restart).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace kiln::server {

// Runs body. If it throws, logs one line ("kiln serve: <what>: internal error: <message>")
// and calls fail("internal error: <message>") so the caller records it on the work; an
// exception from fail itself is logged too. True if body returned normally. Any thread.
bool RunCatching(std::string_view what, const std::function<void()>& body,
                 const std::function<void(const std::string&)>& fail = {});

}  // namespace kiln::server
