// DockerClient's container calls (DOCKER-ENGINE.md §2).
#include "base/json_text.h"
#include "exec/docker_client.h"
#include "exec/docker_transport.h"
#include "exec/docker_wire.h"

namespace kiln::exec {

namespace {

const char* WaitConditionText(WaitCondition c) {
  switch (c) {
    case WaitCondition::kNextExit:
      return "next-exit";
    case WaitCondition::kRemoved:
      return "removed";
    case WaitCondition::kNotRunning:
      break;
  }
  return "not-running";
}

std::string ContainerPath(const std::string& id, std::string_view rest) {
  return "/containers/" + PathEscape(id) + std::string(rest);
}

}  // namespace

base::Result<std::string> DockerClient::CreateContainer(const ContainerSpec& spec) const {
  std::string query = spec.name.empty() ? "" : "?name=" + QueryEscape(spec.name);
  auto text = Roundtrip(EngineCall{.method = http::verb::post,
                                   .target = Path("/containers/create" + query),
                                   .body = base::JsonText(ContainerCreateBody(spec))});
  if (!text.ok()) return text.status();
  return ParseCreatedId(*text);
}

base::Result<PendingWait> DockerClient::Wait(const std::string& id, WaitCondition condition) const {
  auto connection = Begin(EngineCall{
      .method = http::verb::post,
      .target = Path(ContainerPath(id, "/wait?condition=") + WaitConditionText(condition))});
  if (!connection.ok()) return connection.status();
  return PendingWait(std::move(*connection));
}

base::Status DockerClient::Start(const std::string& id) const {
  // 304: already started, which is what the caller wants.
  return OkOr(Roundtrip(
      EngineCall{.method = http::verb::post, .target = Path(ContainerPath(id, "/start"))}));
}

base::Status DockerClient::Kill(const std::string& id, const std::string& signal) const {
  return OkOr(Roundtrip(
      EngineCall{.method = http::verb::post,
                 .target = Path(ContainerPath(id, "/kill?signal=") + QueryEscape(signal))}));
}

base::Status DockerClient::Stop(const std::string& id, int timeout_seconds) const {
  return OkOr(Roundtrip(
      EngineCall{.method = http::verb::post,
                 .target = Path(ContainerPath(id, "/stop?t=") + std::to_string(timeout_seconds))}));
}

base::Status DockerClient::Remove(const std::string& id, bool force) const {
  return OkOr(
      Roundtrip(EngineCall{.method = http::verb::delete_,
                           .target = Path(ContainerPath(id, force ? "?force=1&v=1" : "?v=1"))}));
}

base::Result<std::vector<ContainerSummary>> DockerClient::ListContainers(
    const std::map<std::string, std::string>& labels, bool all) const {
  std::string query = std::string("?all=") + (all ? "1" : "0");
  if (!labels.empty()) query += "&filters=" + QueryEscape(LabelFilterJson(labels));
  auto text = Roundtrip(EngineCall{.target = Path("/containers/json" + query)});
  if (!text.ok()) return text.status();
  return ParseContainerList(*text);
}

base::Result<ContainerInfo> DockerClient::Inspect(const std::string& id) const {
  auto text = Roundtrip(EngineCall{.target = Path(ContainerPath(id, "/json"))});
  if (!text.ok()) return text.status();
  return ParseContainerInfo(*text);
}

base::Status DockerClient::Logs(const std::string& id, const LogsOptions& options,
                                const FrameSink& sink) const {
  auto stream = OpenLogs(id, options);
  if (!stream.ok()) return stream.status();
  return stream->ReadAll(sink);
}

base::Result<LogStream> DockerClient::OpenLogs(const std::string& id,
                                               const LogsOptions& options) const {
  return OpenStream(ContainerPath(id, "/logs" + LogsQuery(options)));
}

base::Result<LogStream> DockerClient::OpenStream(std::string_view path) const {
  auto connection = Begin(EngineCall{.target = Path(path)});
  if (!connection.ok()) return connection.status();
  return LogStream(std::move(*connection));
}

std::string LogsQuery(const LogsOptions& o) {
  auto flag = [](bool on) { return on ? "1" : "0"; };
  std::string since = std::to_string(o.since);
  if (o.since_ns > 0) {
    // The engine's "seconds.nanoseconds" (api/types/time ParseTimestamps).
    char text[48];
    std::snprintf(text, sizeof text, "%lld.%09lld",
                  static_cast<long long>(o.since_ns / 1'000'000'000),
                  static_cast<long long>(o.since_ns % 1'000'000'000));
    since = text;
  }
  return std::string("?follow=") + flag(o.follow) + "&stdout=" + flag(o.include_stdout) +
         "&stderr=" + flag(o.include_stderr) + "&since=" + since +
         "&timestamps=" + flag(o.timestamps) + "&details=" + flag(o.details);
}

LogStream::LogStream(std::unique_ptr<EngineConnection> connection)
    : connection_(std::move(connection)) {}
LogStream::LogStream(LogStream&&) noexcept = default;
LogStream& LogStream::operator=(LogStream&&) noexcept = default;
LogStream::~LogStream() = default;

base::Status LogStream::ReadAll(const FrameSink& sink) {
  if (!connection_) return base::Internal("docker: LogStream read after move");
  FrameDemuxer demuxer;
  auto st =
      connection_->ReadBody([&](std::string_view bytes) { return demuxer.Feed(bytes, sink); });
  if (!st.ok()) return st;
  return demuxer.Finish();
}

void LogStream::Abort() {
  if (connection_) connection_->Abort();
}

}  // namespace kiln::exec
