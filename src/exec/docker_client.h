// A small synchronous client of the Docker Engine API over the engine's unix socket
// (DOCKER-ENGINE.md). Kiln never parses `docker` CLI output.
//
// Threads: a DockerClient is thread-compatible: its methods are const and each call opens its
// own connection (~0.2 ms), so several threads may call one client at once. AttachStream and
// PendingWait each own one connection and are used by one thread at a time, except Abort().
// Calls block with no deadline: the engine answers plain calls at once, while Wait and a
// followed Logs block until the container exits; to give up, Abort() from another thread, or
// Kill/Remove the container.
//
// Errors (base::Status kinds; the message quotes the engine's own words):
//   kIo           the socket: nothing listens, the connection broke.
//   kNotFound     404: no such image or container.
//   kInvalidInput 400: the engine refused a parameter (a bad signal, no command, a bad mount).
//   kFailed       409 conflicts (removing a running container, killing a stopped one), 5xx
//                 (runtime failures, unreachable registry), a failure reported inside a
//                 stream after HTTP 200 (pull, import), a daemon error frame, and any
//                 malformed answer ("docker: malformed answer ...").
//   kUnsupported  an engine whose minimum API version is above what Kiln speaks.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "exec/docker_host.h"
#include "exec/docker_stream.h"
#include "exec/docker_types.h"

namespace kiln::exec {

class EngineConnection;
struct EngineCall;

// A hijacked attach stream: stdin to the container, its output demultiplexed. Owns its
// connection (closed on destruction). Move-only.
class AttachStream {
 public:
  AttachStream(AttachStream&&) noexcept;
  AttachStream& operator=(AttachStream&&) noexcept;
  ~AttachStream();

  // Writes bytes to the container's stdin (its spec needs open_stdin). kIo if the engine
  // closed the stream.
  base::Status WriteStdin(std::string_view bytes);
  // Half-closes: the process reads EOF if its spec has stdin_once (fact 2). Output still flows.
  base::Status CloseStdin();
  // Reads output until the next piece arrives; sink gets every piece decoded from what was
  // read. Returns false at the end of the stream (the container stopped), true otherwise.
  // kFailed for a malformed stream or a daemon error frame; kIo for a broken connection.
  base::Result<bool> ReadSome(const FrameSink& sink);
  // Reads to the end of the stream.
  base::Status ReadAll(const FrameSink& sink);
  // Unblocks ReadSome/WriteStdin on another thread; they then fail with kIo. Thread-safe.
  void Abort();

 private:
  friend class DockerClient;
  struct State;
  explicit AttachStream(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// A /wait request already sent: its headers came at once, its body comes at exit. Owns its
// connection. Move-only.
class PendingWait {
 public:
  PendingWait(PendingWait&&) noexcept;
  PendingWait& operator=(PendingWait&&) noexcept;
  ~PendingWait();

  // Blocks until the condition is met; the container's exit code (137 after SIGKILL, 143
  // after SIGTERM through init). kFailed if the engine reports an error.
  base::Result<int> Get();
  // Unblocks Get on another thread (it then fails with kIo). Thread-safe.
  void Abort();

 private:
  friend class DockerClient;
  explicit PendingWait(std::unique_ptr<EngineConnection> connection);
  std::unique_ptr<EngineConnection> connection_;
  bool done_ = false;
};

// A /logs request already sent (follow): the container's output until it stops. Owns its
// connection. Move-only.
class LogStream {
 public:
  LogStream(LogStream&&) noexcept;
  LogStream& operator=(LogStream&&) noexcept;
  ~LogStream();

  // Reads to the end of the stream (the container stopped), sink getting each decoded piece.
  // kIo after Abort or a broken connection; kFailed for a malformed stream.
  base::Status ReadAll(const FrameSink& sink);
  // Unblocks ReadAll on another thread. Thread-safe.
  void Abort();

 private:
  friend class DockerClient;
  explicit LogStream(std::unique_ptr<EngineConnection> connection);
  std::unique_ptr<EngineConnection> connection_;
};

class DockerClient {
 public:
  // Pings the engine and negotiates the API version: min(engine max, 1.41). kUnsupported when
  // that is below the engine's minimum.
  static base::Result<DockerClient> Connect(const DockerEndpoint& endpoint);
  // Connect(DOCKER_HOST or the default socket).
  static base::Result<DockerClient> ConnectFromEnvironment();

  const ApiVersion& api_version() const { return api_; }
  const DockerEndpoint& endpoint() const { return endpoint_; }

  base::Status Ping() const;
  base::Result<EngineVersion> Version() const;

  // Images. `name` is a reference ("kiln/busybox:test") or an id.
  base::Result<ImageInfo> InspectImage(const std::string& name) const;  // kNotFound if absent
  // Networks. True when the engine has a network of that name or id ("bridge" is absent on
  // an engine started with --bridge=none).
  base::Result<bool> HasNetwork(const std::string& name) const;
  // Pulls ref (a missing tag means "latest", never every tag). on_progress sees each line.
  // A failure after HTTP 200 (an errorDetail line) is kFailed.
  base::Status PullImage(const std::string& ref, const std::optional<RegistryAuth>& auth,
                         const ProgressSink& on_progress) const;
  // Imports a rootfs tar as repo:tag. `changes` are Dockerfile instructions applied to the
  // image ("CMD [\"/bin/sh\"]", "ENV PATH=/bin"). Returns the new image's id.
  base::Result<std::string> ImportImage(std::string tar_bytes, const std::string& repo,
                                        const std::string& tag,
                                        const std::vector<std::string>& changes = {}) const;
  // The same from a tar file, streamed from disk.
  base::Result<std::string> ImportImageFile(const std::string& tar_path, const std::string& repo,
                                            const std::string& tag,
                                            const std::vector<std::string>& changes = {}) const;
  base::Status TagImage(const std::string& name, const std::string& repo,
                        const std::string& tag) const;
  base::Status RemoveImage(const std::string& name, bool force) const;

  // Containers.
  base::Result<std::string> CreateContainer(const ContainerSpec& spec) const;  // the id
  // Attaches stdin (when open), stdout and stderr. Call before Start to miss no output.
  base::Result<AttachStream> Attach(const std::string& id) const;
  // Sends /wait and returns once the engine accepted it. Call BEFORE Start: after the exit a
  // late wait blocks forever (kNextExit) or 404s (AutoRemove) (fact 1).
  base::Result<PendingWait> Wait(const std::string& id, WaitCondition condition) const;
  base::Status Start(const std::string& id) const;  // already running: ok
  // Sends a signal by name ("SIGTERM", "KILL"). PID 1 ignores TERM without a handler: create
  // with init (fact 8). kFailed (409) when not running.
  base::Status Kill(const std::string& id, const std::string& signal) const;
  // StopSignal, then SIGKILL after timeout_seconds. Already stopped: ok.
  base::Status Stop(const std::string& id, int timeout_seconds) const;
  base::Status Remove(const std::string& id, bool force) const;  // also its anonymous volumes
  // Containers carrying every label (an empty value matches any value); all: not only running.
  base::Result<std::vector<ContainerSummary>> ListContainers(
      const std::map<std::string, std::string>& labels, bool all) const;
  base::Result<ContainerInfo> Inspect(const std::string& id) const;
  // The container's output so far (follow: until it stops), demultiplexed into sink.
  base::Status Logs(const std::string& id, const LogsOptions& options, const FrameSink& sink) const;
  // The same as a stream to read on another thread, which Abort can end early.
  base::Result<LogStream> OpenLogs(const std::string& id, const LogsOptions& options) const;

  // For clients of the engine's other APIs built on this one (swarm_client.h). `path` is the
  // unversioned path with its query ("/services/create"); the negotiated version is prefixed.
  // Errors as for every call above.
  enum class Method { kGet, kPost, kDelete };
  // A plain call with a JSON body (when not empty) and extra headers; the answer's body (at
  // most 8 MB).
  using Headers = std::vector<std::pair<std::string, std::string>>;
  base::Result<std::string> Call(Method method, std::string_view path, std::string json_body = {},
                                 Headers headers = {}) const;
  // A GET whose answer is a multiplexed stream (logs), demultiplexed into sink to its end.
  base::Status StreamFrames(std::string_view path, const FrameSink& sink) const;
  // The same as a stream to read on another thread, which Abort can end early.
  base::Result<LogStream> OpenStream(std::string_view path) const;

 private:
  DockerClient(DockerEndpoint endpoint, ApiVersion api)
      : endpoint_(std::move(endpoint)), api_(api) {}
  base::Result<std::unique_ptr<EngineConnection>> Begin(const EngineCall& call) const;
  base::Result<std::string> Roundtrip(const EngineCall& call) const;
  base::Status Progress(const EngineCall& call, const ProgressSink& sink) const;
  base::Result<std::string> Import(const EngineCall& call) const;
  std::string Path(std::string_view path) const;

  DockerEndpoint endpoint_;
  ApiVersion api_;
};

}  // namespace kiln::exec
