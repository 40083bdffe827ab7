// The two calls that hold a connection past their headers: attach (hijacked, raw both ways)
// and wait (its body comes at exit).
#include "exec/docker_client.h"
#include "exec/docker_transport.h"
#include "exec/docker_wire.h"

namespace kiln::exec {

struct AttachStream::State {
  std::unique_ptr<EngineConnection> connection;
  FrameDemuxer demuxer;
  std::string leftover;  // stream bytes read with the 101 head
};

AttachStream::AttachStream(std::unique_ptr<State> state) : state_(std::move(state)) {}
AttachStream::AttachStream(AttachStream&&) noexcept = default;
AttachStream& AttachStream::operator=(AttachStream&&) noexcept = default;
AttachStream::~AttachStream() = default;

base::Status AttachStream::WriteStdin(std::string_view bytes) {
  return state_->connection->WriteAll(bytes);
}

base::Status AttachStream::CloseStdin() { return state_->connection->ShutdownSend(); }

base::Result<bool> AttachStream::ReadSome(const FrameSink& sink) {
  if (!state_->leftover.empty()) {
    std::string bytes = std::move(state_->leftover);
    state_->leftover.clear();
    if (auto st = state_->demuxer.Feed(bytes, sink); !st.ok()) return st;
    return true;
  }
  char chunk[64 * 1024];
  auto n = state_->connection->ReadSome(chunk, sizeof chunk);
  if (!n.ok()) return n.status();
  if (*n == 0) {
    if (auto st = state_->demuxer.Finish(); !st.ok()) return st;
    return false;
  }
  if (auto st = state_->demuxer.Feed(std::string_view(chunk, *n), sink); !st.ok()) return st;
  return true;
}

base::Status AttachStream::ReadAll(const FrameSink& sink) {
  for (;;) {
    auto more = ReadSome(sink);
    if (!more.ok()) return more.status();
    if (!*more) return base::Status::Ok();
  }
}

void AttachStream::Abort() { state_->connection->Abort(); }

base::Result<AttachStream> DockerClient::Attach(const std::string& id) const {
  auto connection = Begin(EngineCall{.method = http::verb::post,
                                     .target = Path("/containers/" + PathEscape(id) +
                                                    "/attach?stream=1&stdin=1&stdout=1&stderr=1"),
                                     .upgrade = true});
  if (!connection.ok()) return connection.status();
  // 101 UPGRADED, or 200 from an engine that ignores the upgrade: a raw stream either way.
  auto state = std::make_unique<AttachStream::State>();
  state->leftover = (*connection)->TakeLeftover();
  state->connection = std::move(*connection);
  return AttachStream(std::move(state));
}

PendingWait::PendingWait(std::unique_ptr<EngineConnection> connection)
    : connection_(std::move(connection)) {}
PendingWait::PendingWait(PendingWait&&) noexcept = default;
PendingWait& PendingWait::operator=(PendingWait&&) noexcept = default;
PendingWait::~PendingWait() = default;

base::Result<int> PendingWait::Get() {
  if (!connection_ || done_) return base::Internal("docker: PendingWait::Get called twice");
  done_ = true;
  auto body = connection_->ReadBodyUpTo(64 * 1024);
  if (!body.ok()) return body.status();
  return ParseWaitAnswer(*body);
}

void PendingWait::Abort() {
  if (connection_) connection_->Abort();
}

}  // namespace kiln::exec
