// /api/v1/builds/{id}[/log|/stop] and /api/v1/projects[/{name}/builds]: CodeBuild's shapes.
#include <fcntl.h>
#include <unistd.h>

#include "base/fd.h"
#include "base/ids.h"
#include "base/json_text.h"
#include "server/api_handlers.h"
#include "server/log_tail.h"

namespace kiln::server {
namespace bhttp = boost::beast::http;
using nlohmann::json;

namespace {

constexpr uint64_t kMaxLogRead = 4 * 1024 * 1024;

// The record as stored, with the row's status (the record is written at the start and end).
json BuildJson(const store::BuildRow& row) {
  json j = json::parse(row.record_json, nullptr, false);
  if (!j.is_object() || !j.contains("id")) {
    j = {{"id", row.id}, {"projectName", row.project}};
  }
  j["buildStatus"] = row.status;
  return j;
}

std::optional<store::BuildRow> FindBuild(ServerContext& ctx, const ExchangePtr& ex,
                                         const std::string& id) {
  auto row = ctx.reads.GetBuild(id);
  if (row.ok() && *row) return **row;
  ex->Reply(JsonError(404, "build_not_found", "no build " + id));
  return std::nullopt;
}

// The build's one log file, growing while the build is QUEUED or IN_PROGRESS; the stream
// ends with the build's status.
LogFeed BuildLogFeed(ServerContext& ctx, const std::string& id, uint64_t offset) {
  return [&ctx, id, offset] {
    auto row = ctx.reads.GetBuild(id);
    std::string status = row.ok() && *row ? (*row)->status : "";
    bool running = status == "QUEUED" || status == "IN_PROGRESS";
    LogFeedState state;
    if (row.ok() && *row && !(*row)->log_path.empty()) {
      state.files.push_back(
          {.key = id, .path = (*row)->log_path, .offset = offset, .growing = running});
    }
    if (!running) state.end = base::JsonText(json{{"buildStatus", status}});
    return state;
  };
}

void GetLog(ServerContext& ctx, const ExchangePtr& ex, const Target& t,
            const store::BuildRow& row) {
  auto accept = ex->request()[bhttp::field::accept];
  uint64_t offset = std::strtoull(t.Query("offset", "0").c_str(), nullptr, 10);
  if (accept.find("text/event-stream") != std::string_view::npos) {
    auto last = ex->request()["Last-Event-ID"];
    if (!last.empty()) offset = std::strtoull(std::string(last).c_str(), nullptr, 10);
    auto tail = std::make_shared<LogTail>(ctx.loop, ctx.files, ex->StartEvents(),
                                          BuildLogFeed(ctx, row.id, offset), true);
    tail->Start();
    return;
  }
  uint64_t limit =
      std::strtoull(t.Query("limit", std::to_string(kMaxLogRead)).c_str(), nullptr, 10);
  limit = std::min(limit, kMaxLogRead);
  Response r;
  r.content_type = "text/plain; charset=utf-8";
  if (!row.log_path.empty()) {
    base::UniqueFd fd(::open(row.log_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.valid()) {
      r.body.resize(limit);
      ssize_t n = ::pread(fd.get(), r.body.data(), limit, static_cast<off_t>(offset));
      r.body.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
  }
  r.headers.emplace_back("X-Kiln-Log-Offset", std::to_string(offset));
  r.headers.emplace_back("X-Kiln-Log-Next", std::to_string(offset + r.body.size()));
  r.headers.emplace_back("X-Kiln-Build-Status", row.status);
  ex->Reply(std::move(r));
}

// StartBuild (api_intake.h's StartBuildRequest), stored as the build's record until it runs.
// Answers 201 with the QUEUED build once it is stored, or with ?wait=true the finished record.
void StartBuild(ServerContext& ctx, const ExchangePtr& ex, const Target& t,
                const std::string& project) {
  if (!ctx.config.FindProject(project)) {
    ex->Reply(JsonError(404, "project_not_found", "no project named '" + project + "'"));
    return;
  }
  auto body = ReadBody(ex, ParseStartBuildRequest);
  if (!body) return;
  StoredBuildRequest request{
      .project_name = project, .initiator = "kiln-api", .start = std::move(*body)};
  store::BuildRow row{.id = project + ":" + base::NewUuid(),
                      .project = project,
                      .status = "QUEUED",
                      .record_json = StoredBuildRequestJson(request),
                      .start_ms = base::NowMillis()};
  bool wait = t.Query("wait") == "true" || t.Query("wait") == "1";
  if (wait) ctx.build_waiters.emplace(row.id, ex);
  ctx.writer.Post([&ctx, ex, row, wait](store::Store* s) {
    auto r = s ? s->Accept({}, {}, {row})
               : base::Result<store::IntakeResult>(
                     base::Status(base::ErrorKind::kIo, "store unavailable"));
    if (!r.ok()) return ex->Reply(JsonError(500, "store", r.status().message()));
    ctx.runner.Wake();
    if (!wait) {
      ex->Reply(JsonResponse(
          201,
          {{"build", {{"id", row.id}, {"projectName", row.project}, {"buildStatus", "QUEUED"}}}}));
    }
  });
}

void ListProjects(ServerContext& ctx, const ExchangePtr& ex) {
  json list = json::array();
  for (const auto& p : ctx.config.projects) {
    list.push_back({{"name", p.name},
                    {"buildspec", p.buildspec},
                    {"timeoutInMinutes", p.timeout_ms / 60'000},
                    {"webhook", p.webhook.has_value()}});
  }
  ex->Reply(JsonResponse(200, {{"projects", list}}));
}

}  // namespace

// Answers the requests waiting for build `id` (called on the loop when it ends).
void BuildEnded(ServerContext& ctx, const std::string& id) {
  auto range = ctx.build_waiters.equal_range(id);
  if (range.first == range.second) return;
  auto row = ctx.reads.GetBuild(id);
  json body = row.ok() && *row ? BuildJson(**row) : json{{"id", id}};
  for (auto it = range.first; it != range.second; ++it) {
    it->second->Reply(JsonResponse(200, {{"build", body}}));
  }
  ctx.build_waiters.erase(range.first, range.second);
}

bool RouteBuilds(ServerContext& ctx, const ExchangePtr& ex, const Target& t) {
  if (t.Is({"api", "v1", "builds", "*"}) && IsGet(ex)) {
    if (auto row = FindBuild(ctx, ex, t.segments[3])) {
      ex->Reply(JsonResponse(200, {{"build", BuildJson(*row)}}));
    }
  } else if (t.Is({"api", "v1", "builds", "*", "log"}) && IsGet(ex)) {
    if (auto row = FindBuild(ctx, ex, t.segments[3])) GetLog(ctx, ex, t, *row);
  } else if (t.Is({"api", "v1", "builds", "*", "stop"}) && IsPost(ex)) {
    if (auto row = FindBuild(ctx, ex, t.segments[3])) {
      auto st = ctx.runner.StopBuild(row->id);
      if (!st.ok()) return ex->Reply(JsonError(409, "not_running", st.message())), true;
      ex->Reply(JsonResponse(202, {{"build", {{"id", row->id}, {"buildStatus", "STOPPING"}}}}));
    }
  } else if (t.Is({"api", "v1", "projects"}) && IsGet(ex)) {
    ListProjects(ctx, ex);
  } else if (t.Is({"api", "v1", "projects", "*", "builds"})) {
    if (IsPost(ex)) return StartBuild(ctx, ex, t, t.segments[3]), true;
    auto rows = ctx.reads.ListBuilds(t.segments[3], 100);
    if (!rows.ok()) return ex->Reply(JsonError(500, "store", rows.status().message())), true;
    json list = json::array();
    for (const auto& r : *rows) list.push_back(BuildJson(r));
    ex->Reply(JsonResponse(200, {{"builds", list}}));
  } else {
    return false;
  }
  return true;
}

}  // namespace kiln::server
