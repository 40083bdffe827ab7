// GET /api/v1/services/{name}/logs[?task=ID][&tail=N][&follow=true]: a service's task logs,
// each line after its task's short id as `docker service logs` shows them, oldest-started
// task first; with Accept: text/event-stream or ?follow=true a live stream (log_tail.h) that
// also takes in tasks started after it opened. One answer reads at most kMaxLogBytes of logs.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include "base/fd.h"
#include "base/json_text.h"
#include "deploy/service_manager.h"
#include "server/api_handlers.h"
#include "server/log_tail.h"
#include "server/log_text.h"

namespace kiln::server {
namespace {

namespace bhttp = boost::beast::http;
using nlohmann::json;

constexpr uint64_t kMaxLogBytes = 4 * 1024 * 1024;  // read from all the task logs together
constexpr size_t kMaxTailLines = 10'000;

struct LogQuery {
  std::string service;
  std::string task;  // "": every task
  std::optional<size_t> tail;
  bool follow = false;
};

// nullopt (and a 400 sent) for a malformed tail.
std::optional<LogQuery> ParseLogQuery(const ExchangePtr& ex, const Target& t) {
  LogQuery q{.service = t.segments[3], .task = t.Query("task")};
  if (std::string tail = t.Query("tail"); !tail.empty()) {
    size_t n = 0;
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), n);
    if (ec != std::errc() || end != tail.data() + tail.size() || n > kMaxTailLines) {
      ex->Reply(
          JsonError(400, "bad_request",
                    "tail must be a number of lines from 0 to " + std::to_string(kMaxTailLines)));
      return std::nullopt;
    }
    q.tail = n;
  }
  std::string follow = t.Query("follow");
  auto accept = ex->request()[bhttp::field::accept];
  q.follow = follow == "true" || follow == "1" ||
             accept.find("text/event-stream") != std::string_view::npos;
  return q;
}

// Every task's log, or the one task's named by the query.
base::Result<std::vector<deploy::TaskLog>> SelectLogs(ServerContext& ctx, const LogQuery& q) {
  if (q.task.empty()) return ctx.services->TaskLogs(q.service);
  auto one = ctx.services->FindTaskLog(q.service, q.task);
  if (!one.ok()) return one.status();
  return std::vector<deploy::TaskLog>{*one};
}

struct LogWindow {
  uint64_t start = 0;  // file offset of text
  std::string text;
  bool cut = false;  // the file holds older lines than the budget let us read
};

// The last `lines` whole lines of a log (all of them without), within max_bytes of its end.
LogWindow ReadTail(const std::filesystem::path& path, std::optional<size_t> lines,
                   uint64_t max_bytes) {
  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) return {};
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t from = size > max_bytes ? size - max_bytes : 0;
  std::string window(size - from, '\0');
  ssize_t n = ::pread(fd.get(), window.data(), window.size(), static_cast<off_t>(from));
  window.resize(n > 0 ? static_cast<size_t>(n) : 0);
  size_t skip = TailStart(window, from == 0, lines);
  bool cut = from > 0 && lines != 0u && skip == TailStart(window, false, std::nullopt);
  return {.start = from + skip, .text = window.substr(skip), .cut = cut};
}

uint64_t BudgetPerLog(size_t logs) { return kMaxLogBytes / std::max<size_t>(logs, 1); }

void ReplyText(const ExchangePtr& ex, const LogQuery& q, const std::vector<deploy::TaskLog>& logs) {
  Response r;
  r.content_type = "text/plain; charset=utf-8";
  bool cut = false;
  for (const deploy::TaskLog& log : logs) {
    LogWindow w = ReadTail(log.path, q.tail, BudgetPerLog(logs.size()));
    AppendPrefixedLines(&r.body, w.text, TaskLinePrefix(log.task_id));
    cut = cut || w.cut;
  }
  if (cut) r.headers.emplace_back("X-Kiln-Log-Truncated", "true");
  ex->Reply(std::move(r));
}

// The tasks' logs as LogTail follows them: the first listing from the tail asked for, tasks
// listed later from their start. Following one task ends when it has stopped.
LogFeed ServiceLogFeed(ServerContext& ctx, LogQuery q) {
  auto first = std::make_shared<bool>(true);
  return [&ctx, q = std::move(q), first] {
    LogFeedState state;
    auto logs = SelectLogs(ctx, q);
    if (!logs.ok()) {
      state.end = base::JsonText(json{{"error", logs.status().message()}});
      return state;
    }
    for (const deploy::TaskLog& log : *logs) {
      uint64_t offset = *first ? ReadTail(log.path, q.tail, BudgetPerLog(logs->size())).start : 0;
      state.files.push_back({.key = log.task_id,
                             .path = log.path,
                             .prefix = TaskLinePrefix(log.task_id),
                             .offset = offset,
                             .growing = log.running});
    }
    *first = false;
    if (!q.task.empty() && !logs->front().running) {
      state.end =
          base::JsonText(json{{"taskId", logs->front().task_id}, {"lastStatus", "STOPPED"}});
    }
    return state;
  };
}

std::string ErrorCode(ServerContext& ctx, const LogQuery& q, const base::Status& st) {
  if (st.kind() != base::ErrorKind::kNotFound) return "bad_request";
  bool service_known = ctx.services->TaskLogs(q.service).ok();
  return service_known ? "task_not_found" : "service_not_found";
}

}  // namespace

void ServiceLogs(ServerContext& ctx, const ExchangePtr& ex, const Target& t) {
  auto q = ParseLogQuery(ex, t);
  if (!q) return;
  auto logs = SelectLogs(ctx, *q);
  if (!logs.ok()) {
    const base::Status& st = logs.status();
    return ex->Reply(JsonError(HttpStatusFor(st), ErrorCode(ctx, *q, st), st.message()));
  }
  if (!q->follow) return ReplyText(ex, *q, *logs);
  auto tail = std::make_shared<LogTail>(ctx.loop, ctx.files, ex->StartEvents(),
                                        ServiceLogFeed(ctx, *q), false);
  tail->Start();
}

}  // namespace kiln::server
