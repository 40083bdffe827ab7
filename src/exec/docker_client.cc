#include "exec/docker_client.h"

#include <boost/beast/http/file_body.hpp>

#include "base/json_text.h"
#include "exec/docker_transport.h"
#include "exec/docker_wire.h"

namespace kiln::exec {

namespace {

constexpr size_t kMaxAnswer = 8 << 20;       // inspect and list answers are far smaller
constexpr size_t kMaxErrorBody = 64 * 1024;  // error bodies are one message

base::ErrorKind KindForHttp(int code) {
  if (code == 404) return base::ErrorKind::kNotFound;
  if (code == 400) return base::ErrorKind::kInvalidInput;
  return base::ErrorKind::kFailed;
}

std::string ChangesQuery(const std::vector<std::string>& changes) {
  std::string out;
  for (const std::string& c : changes) out += "&changes=" + QueryEscape(c);
  return out;
}

template <typename Body>
void SetCommonFields(http::request<Body>& req,
                     const std::vector<std::pair<std::string, std::string>>& headers) {
  req.version(11);
  req.set(http::field::host, "docker");  // required, any value (DOCKER-ENGINE.md §1)
  req.set(http::field::user_agent, "kiln");
  for (const auto& [name, value] : headers) req.set(name, value);
}

}  // namespace

std::string DockerClient::Path(std::string_view path) const {
  return "/v" + api_.Text() + std::string(path);
}

base::Result<std::unique_ptr<EngineConnection>> DockerClient::Begin(const EngineCall& call) const {
  auto connection = EngineConnection::Open(endpoint_.socket_path);
  if (!connection.ok()) return connection.status();
  EngineConnection& c = **connection;
  base::Status sent;
  if (!call.body_file.empty()) {
    http::request<http::file_body> req{call.method, call.target, 11};
    boost::system::error_code ec;
    req.body().open(call.body_file.c_str(), boost::beast::file_mode::scan, ec);
    if (ec) return base::Status(base::ErrorKind::kIo, call.body_file + ": " + ec.message());
    SetCommonFields(req, call.headers);
    req.set(http::field::content_type, call.content_type);
    req.prepare_payload();
    sent = c.Send(req);
  } else {
    http::request<http::string_body> req{call.method, call.target, 11};
    SetCommonFields(req, call.headers);
    if (call.upgrade) {
      req.set(http::field::connection, "Upgrade");
      req.set(http::field::upgrade, "tcp");
    }
    if (!call.body.empty() || call.method == http::verb::post) {
      req.set(http::field::content_type, call.content_type);
      req.body() = call.body;
      req.prepare_payload();
    }
    sent = c.Send(req);
  }
  if (!sent.ok()) return sent;
  auto head = c.ReadHead();
  if (!head.ok()) return head.status();
  if (head->status < 400) return std::move(*connection);
  auto body = c.ReadBodyUpTo(kMaxErrorBody);
  std::string message = body.ok() ? EngineErrorMessage(*body) : body.status().message();
  return base::Status(KindForHttp(head->status),
                      "docker: " + std::string(http::to_string(call.method)) + " " + call.target +
                          ": HTTP " + std::to_string(head->status) + ": " + message);
}

base::Result<std::string> DockerClient::Roundtrip(const EngineCall& call) const {
  auto connection = Begin(call);
  if (!connection.ok()) return connection.status();
  return (*connection)->ReadBodyUpTo(kMaxAnswer);
}

namespace {

http::verb Verb(DockerClient::Method method) {
  switch (method) {
    case DockerClient::Method::kPost:
      return http::verb::post;
    case DockerClient::Method::kDelete:
      return http::verb::delete_;
    case DockerClient::Method::kGet:
      break;
  }
  return http::verb::get;
}

}  // namespace

base::Result<std::string> DockerClient::Call(Method method, std::string_view path,
                                             std::string json_body, Headers headers) const {
  return Roundtrip(EngineCall{.method = Verb(method),
                              .target = Path(path),
                              .body = std::move(json_body),
                              .headers = std::move(headers)});
}

base::Status DockerClient::StreamFrames(std::string_view path, const FrameSink& sink) const {
  auto connection = Begin(EngineCall{.target = Path(path)});
  if (!connection.ok()) return connection.status();
  FrameDemuxer demuxer;
  auto st =
      (*connection)->ReadBody([&](std::string_view bytes) { return demuxer.Feed(bytes, sink); });
  if (!st.ok()) return st;
  return demuxer.Finish();
}

base::Status DockerClient::Progress(const EngineCall& call, const ProgressSink& sink) const {
  auto connection = Begin(call);
  if (!connection.ok()) return connection.status();
  ProgressStreamParser parser;
  auto st =
      (*connection)->ReadBody([&](std::string_view bytes) { return parser.Feed(bytes, sink); });
  if (!st.ok()) return st;
  return parser.Finish(sink);
}

base::Result<DockerClient> DockerClient::Connect(const DockerEndpoint& endpoint) {
  // The client before negotiation: only unversioned paths are used through it.
  DockerClient probe(endpoint, kNewestTestedApi);
  auto text = probe.Roundtrip(EngineCall{.target = "/version"});
  if (!text.ok()) return text.status();
  auto version = ParseEngineVersion(*text);
  if (!version.ok()) return version.status();
  auto api = NegotiateApiVersion(version->api_max, version->api_min);
  if (!api.ok()) return api.status();
  DockerClient client(endpoint, *api);
  if (auto st = client.Ping(); !st.ok()) return st;
  return client;
}

base::Result<DockerClient> DockerClient::ConnectFromEnvironment() {
  auto endpoint = DockerEndpointFromEnvironment();
  if (!endpoint.ok()) return endpoint.status();
  return Connect(*endpoint);
}

base::Status DockerClient::Ping() const {
  auto text = Roundtrip(EngineCall{.target = Path("/_ping")});
  if (!text.ok()) return text.status();
  if (*text != "OK") return {base::ErrorKind::kFailed, "docker: malformed answer to /_ping"};
  return base::Status::Ok();
}

base::Result<EngineVersion> DockerClient::Version() const {
  auto text = Roundtrip(EngineCall{.target = Path("/version")});
  if (!text.ok()) return text.status();
  return ParseEngineVersion(*text);
}

base::Result<ImageInfo> DockerClient::InspectImage(const std::string& name) const {
  auto text = Roundtrip(EngineCall{.target = Path("/images/" + PathEscape(name) + "/json")});
  if (!text.ok()) return text.status();
  return ParseImageInfo(*text);
}

base::Result<bool> DockerClient::HasNetwork(const std::string& name) const {
  auto text = Roundtrip(EngineCall{.target = Path("/networks/" + PathEscape(name))});
  if (text.ok()) return true;
  if (text.status().kind() == base::ErrorKind::kNotFound) return false;
  return text.status();
}

base::Status DockerClient::PullImage(const std::string& ref,
                                     const std::optional<RegistryAuth>& auth,
                                     const ProgressSink& on_progress) const {
  auto parts = SplitImageRef(ref);
  if (!parts.ok()) return parts.status();
  EngineCall call{.method = http::verb::post,
                  .target = Path("/images/create?fromImage=" + QueryEscape(parts->repository) +
                                 "&tag=" + QueryEscape(parts->tag))};
  if (auth) call.headers.emplace_back("X-Registry-Auth", RegistryAuthHeader(*auth));
  return Progress(call, on_progress);
}

base::Result<std::string> DockerClient::Import(const EngineCall& call) const {
  std::string id;
  auto st = Progress(call, [&](const ProgressEvent& e) {
    if (e.status.starts_with("sha256:")) id = e.status;  // the import's last line names the image
  });
  if (!st.ok()) return st;
  if (id.empty()) return base::Status(base::ErrorKind::kFailed, "docker: import named no image");
  return id;
}

base::Result<std::string> DockerClient::ImportImage(std::string tar_bytes, const std::string& repo,
                                                    const std::string& tag,
                                                    const std::vector<std::string>& changes) const {
  return Import(EngineCall{.method = http::verb::post,
                           .target = Path("/images/create?fromSrc=-&repo=" + QueryEscape(repo) +
                                          "&tag=" + QueryEscape(tag) + ChangesQuery(changes)),
                           .body = std::move(tar_bytes),
                           .content_type = "application/x-tar"});
}

base::Result<std::string> DockerClient::ImportImageFile(
    const std::string& tar_path, const std::string& repo, const std::string& tag,
    const std::vector<std::string>& changes) const {
  return Import(EngineCall{.method = http::verb::post,
                           .target = Path("/images/create?fromSrc=-&repo=" + QueryEscape(repo) +
                                          "&tag=" + QueryEscape(tag) + ChangesQuery(changes)),
                           .content_type = "application/x-tar",
                           .body_file = tar_path});
}

base::Status DockerClient::TagImage(const std::string& name, const std::string& repo,
                                    const std::string& tag) const {
  return OkOr(Roundtrip(
      EngineCall{.method = http::verb::post,
                 .target = Path("/images/" + PathEscape(name) + "/tag?repo=" + QueryEscape(repo) +
                                "&tag=" + QueryEscape(tag))}));
}

base::Status DockerClient::RemoveImage(const std::string& name, bool force) const {
  return OkOr(Roundtrip(EngineCall{
      .method = http::verb::delete_,
      .target = Path("/images/" + PathEscape(name) + (force ? "?force=1" : "?force=0"))}));
}

}  // namespace kiln::exec
