#include "exec/docker_wire.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "base/json_text.h"
#include "exec/engine_json.h"

namespace kiln::exec {

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxErrorMessage = 4096;
constexpr int64_t kMaxStopTimeoutSeconds = 1 << 30;  // an int, with room
constexpr int64_t kMaxEpochSeconds = INT64_MAX / 1000000000 - 1;

std::string TrimName(std::string name) {
  if (name.starts_with('/')) name.erase(0, 1);
  return name;
}

ContainerStatus StatusFromText(const std::string& s) {
  static const std::map<std::string, ContainerStatus> kNames = {
      {"created", ContainerStatus::kCreated},   {"running", ContainerStatus::kRunning},
      {"paused", ContainerStatus::kPaused},     {"restarting", ContainerStatus::kRestarting},
      {"removing", ContainerStatus::kRemoving}, {"exited", ContainerStatus::kExited},
      {"dead", ContainerStatus::kDead}};
  auto it = kNames.find(s);
  return it == kNames.end() ? ContainerStatus::kDead : it->second;
}

HealthStatus HealthFromText(const std::string& s) {
  if (s == "starting") return HealthStatus::kStarting;
  if (s == "healthy") return HealthStatus::kHealthy;
  if (s == "unhealthy") return HealthStatus::kUnhealthy;
  return HealthStatus::kNone;
}

void PutIfNotEmpty(Json& j, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) j[key] = values;
}

Json Mounts(const ContainerSpec& spec) {
  Json mounts = Json::array();
  for (const BindMount& b : spec.binds) {
    mounts.push_back(
        {{"Type", "bind"}, {"Source", b.source}, {"Target", b.target}, {"ReadOnly", b.read_only}});
  }
  for (const TmpfsMount& t : spec.tmpfs) {
    mounts.push_back({{"Type", "tmpfs"},
                      {"Target", t.target},
                      {"TmpfsOptions", {{"SizeBytes", t.size_bytes}, {"Mode", t.mode}}}});
  }
  return mounts;
}

std::string PortKey(const PortBinding& b) {
  return std::to_string(b.container_port) + "/" + b.protocol;
}

Json HostConfig(const ContainerSpec& spec) {
  Json h = {{"NetworkMode", NetworkModeText(spec.network_mode)},
            {"Init", spec.init},
            {"AutoRemove", spec.auto_remove},
            {"ReadonlyRootfs", spec.read_only_rootfs},
            {"Mounts", Mounts(spec)}};
  if (spec.nano_cpus > 0) h["NanoCpus"] = spec.nano_cpus;
  if (spec.memory_bytes > 0) h["Memory"] = spec.memory_bytes;
  if (spec.memory_reservation_bytes > 0) h["MemoryReservation"] = spec.memory_reservation_bytes;
  if (spec.pids_limit > 0) h["PidsLimit"] = spec.pids_limit;
  PutIfNotEmpty(h, "CapDrop", spec.cap_drop);
  PutIfNotEmpty(h, "SecurityOpt", spec.security_opt);
  PutIfNotEmpty(h, "ExtraHosts", spec.extra_hosts);
  if (!spec.port_bindings.empty()) {
    Json bindings = Json::object();
    for (const PortBinding& b : spec.port_bindings) {
      // HostPort "" asks the engine for a free port (docker run -p 127.0.0.1::80).
      bindings[PortKey(b)].push_back(
          {{"HostIp", b.host_ip},
           {"HostPort", b.host_port > 0 ? std::to_string(b.host_port) : ""}});
    }
    h["PortBindings"] = bindings;
  }
  return h;
}

}  // namespace

const char* NetworkModeText(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::kHost:
      return "host";
    case NetworkMode::kBridge:
      return "bridge";
    case NetworkMode::kNone:
      break;
  }
  return "none";
}

std::string Base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) {
      v = (v << 8) | (k < n ? static_cast<uint8_t>(bytes[i + k]) : 0);
    }
    for (size_t k = 0; k < 4; ++k) {
      out.push_back(k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=');
    }
  }
  return out;
}

std::string RegistryAuthHeader(const RegistryAuth& auth) {
  Json j = Json::object();
  if (!auth.identity_token.empty()) j["identitytoken"] = auth.identity_token;
  if (!auth.username.empty()) j["username"] = auth.username;
  if (!auth.password.empty()) j["password"] = auth.password;
  if (!auth.server_address.empty()) j["serveraddress"] = auth.server_address;
  return Base64UrlEncode(base::JsonText(j));
}

namespace {

std::string Escape(std::string_view value, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || keep.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out += {'%', kHex[u >> 4], kHex[u & 15]};
    }
  }
  return out;
}

}  // namespace

std::string QueryEscape(std::string_view value) { return Escape(value, "-_.~"); }

std::string PathEscape(std::string_view name) { return Escape(name, "-_.~/:@"); }

namespace {
Json LabelList(const std::map<std::string, std::string>& labels) {
  Json list = Json::array();
  for (const auto& [key, value] : labels) list.push_back(value.empty() ? key : key + "=" + value);
  return list;
}
}  // namespace

std::string LabelFilterJson(const std::map<std::string, std::string>& labels) {
  return base::JsonText(Json{{"label", LabelList(labels)}});
}

std::string ContainerEventFilterJson(const std::map<std::string, std::string>& labels) {
  return base::JsonText(Json{{"type", Json::array({"container"})}, {"label", LabelList(labels)}});
}

std::string ServiceEventFilterJson(const std::string& service) {
  return base::JsonText(
      Json{{"type", Json::array({"service"})}, {"service", Json::array({service})}});
}

Json ContainerCreateBody(const ContainerSpec& spec) {
  Json j = {{"Image", spec.image},
            {"Env", spec.env},
            {"Labels", spec.labels},
            {"Tty", false},
            {"OpenStdin", spec.open_stdin},
            {"StdinOnce", spec.open_stdin && spec.stdin_once},
            {"AttachStdin", spec.open_stdin},
            {"AttachStdout", true},
            {"AttachStderr", true},
            {"HostConfig", HostConfig(spec)}};
  for (const PortBinding& b : spec.port_bindings) j["ExposedPorts"][PortKey(b)] = Json::object();
  PutIfNotEmpty(j, "Cmd", spec.cmd);
  PutIfNotEmpty(j, "Entrypoint", spec.entrypoint);
  if (!spec.working_dir.empty()) j["WorkingDir"] = spec.working_dir;
  if (!spec.user.empty()) j["User"] = spec.user;
  if (spec.stop_timeout_seconds) j["StopTimeout"] = *spec.stop_timeout_seconds;
  if (spec.healthcheck) {
    const HealthcheckConfig& h = *spec.healthcheck;
    j["Healthcheck"] = {{"Test", h.test},
                        {"Interval", h.interval_ns},
                        {"Timeout", h.timeout_ns},
                        {"StartPeriod", h.start_period_ns},
                        {"Retries", h.retries}};
  }
  return j;
}

base::Result<ImageRefParts> SplitImageRef(std::string_view ref) {
  if (ref.empty() || ref.size() > 1024 || ref.find_first_of(" \t\r\n") != std::string_view::npos) {
    return base::InvalidInput("image reference '" + std::string(ref.substr(0, 100)) +
                              "' is not valid");
  }
  if (size_t at = ref.find('@'); at != std::string_view::npos) {
    return ImageRefParts{std::string(ref.substr(0, at)), std::string(ref.substr(at + 1))};
  }
  size_t colon = ref.rfind(':');
  size_t slash = ref.rfind('/');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return ImageRefParts{std::string(ref), "latest"};  // "127.0.0.1:5000/app" has no tag
  }
  return ImageRefParts{std::string(ref.substr(0, colon)), std::string(ref.substr(colon + 1))};
}

base::Result<ImageInfo> ParseImageInfo(std::string_view text) {
  auto j = ParseAnswerObject(text, "image inspect");
  if (!j.ok()) return j.status();
  FieldReader r(*j, "image");
  ImageInfo info{.id = r.String("Id"), .size = r.Int("Size"), .repo_tags = r.Strings("RepoTags")};
  {
    FieldReader c = r.Object("Config");
    info.env = c.Strings("Env");
    info.cmd = c.Strings("Cmd");
    info.entrypoint = c.Strings("Entrypoint");
    info.user = c.String("User");
    info.working_dir = c.String("WorkingDir");
    info.labels = c.StringMap("Labels");
  }
  if (r.status().ok() && info.id.empty()) return MalformedAnswer("image without an Id");
  if (!r.status().ok()) return r.status();
  return info;
}

namespace {

// NetworkSettings.Ports: {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}], "81/tcp":
// null}; absent or null without published ports (host and none networking).
base::Result<std::map<std::string, int>> PublishedPorts(const Json& container) {
  std::map<std::string, int> out;
  auto settings = container.find("NetworkSettings");
  if (settings == container.end() || !settings->is_object()) return out;
  auto ports = settings->find("Ports");
  if (ports == settings->end() || ports->is_null()) return out;
  if (!ports->is_object()) return MalformedAnswer("container.NetworkSettings.Ports");
  for (const auto& [key, bindings] : ports->items()) {
    if (bindings.is_null()) continue;
    if (!bindings.is_array()) return MalformedAnswer("container.NetworkSettings.Ports." + key);
    for (const Json& b : bindings) {
      auto port = b.is_object() ? b.find("HostPort") : b.end();
      std::string text = port != b.end() && port->is_string() ? port->get<std::string>() : "";
      if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != text.npos ||
          std::stoi(text) < 1 || std::stoi(text) > 65535) {
        return MalformedAnswer("container.NetworkSettings.Ports." + key + " HostPort");
      }
      out.emplace(key, std::stoi(text));
    }
  }
  return out;
}

}  // namespace

base::Result<ContainerInfo> ParseContainerInfo(std::string_view text) {
  auto j = ParseAnswerObject(text, "container inspect");
  if (!j.ok()) return j.status();
  FieldReader r(*j, "container");
  ContainerInfo info{.id = r.String("Id"), .name = TrimName(r.String("Name"))};
  info.labels = r.Object("Config").StringMap("Labels");
  info.image = r.String("Image");
  {
    FieldReader s = r.Object("State");
    info.status = StatusFromText(s.String("Status"));
    info.exit_code = static_cast<int>(s.Int("ExitCode"));
    info.oom_killed = s.Bool("OOMKilled");
    info.pid = static_cast<int>(s.Int("Pid"));
    info.error = s.String("Error");
    info.health = HealthFromText(s.Object("Health").String("Status"));
    for (auto [key, out] : {std::pair{"StartedAt", &info.started_at_ns},
                            std::pair{"FinishedAt", &info.finished_at_ns}}) {
      auto ns = ParseEngineTime(s.String(key));
      if (!ns.ok()) return ns.status();
      *out = *ns;
    }
  }
  {
    FieldReader c = r.Object("Config");
    if (const Json* t = c.Find("StopTimeout", Json::value_t::number_integer)) {
      int64_t seconds = t->get<int64_t>();
      if (seconds < 0 || seconds > kMaxStopTimeoutSeconds) {
        return MalformedAnswer("container.Config.StopTimeout " + std::to_string(seconds));
      }
      info.stop_timeout_seconds = static_cast<int>(seconds);
    }
  }
  if (r.status().ok() && info.id.empty()) return MalformedAnswer("container without an Id");
  if (!r.status().ok()) return r.status();
  auto ports = PublishedPorts(*j);
  if (!ports.ok()) return ports.status();
  info.published_ports = std::move(*ports);
  return info;
}

base::Result<int64_t> ParseEngineTime(std::string_view text) {
  if (text.empty() || text.starts_with("0001-01-01T")) return int64_t{0};  // Go's zero time
  std::tm tm{};
  int consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return MalformedAnswer("time '" + s.substr(0, 40) + "'");
  }
  int64_t fraction = 0;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    int digits = 0;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits) {
      if (digits < 9) fraction = fraction * 10 + (s[i] - '0');
    }
    for (; digits < 9; ++digits) fraction *= 10;
  }
  if (i + 1 != s.size() || s[i] != 'Z')
    return MalformedAnswer("time '" + s.substr(0, 40) + "' not UTC");
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t seconds = timegm(&tm);
  // ns since the epoch fit an int64 from 1970 to 2262; outside, the product would overflow.
  if (seconds < 0 || seconds > kMaxEpochSeconds) {
    return MalformedAnswer("time '" + s.substr(0, 40) + "' out of range");
  }
  return seconds * 1000000000 + fraction;
}

base::Result<std::vector<ContainerSummary>> ParseContainerList(std::string_view text) {
  auto j = Json::parse(text, nullptr, false);
  if (!j.is_array()) return MalformedAnswer("container list is not a JSON array");
  std::vector<ContainerSummary> out;
  for (const Json& e : j) {
    if (!e.is_object()) return MalformedAnswer("container list holds a non-object");
    FieldReader r(e, "container");
    ContainerSummary s{
        .id = r.String("Id"), .names = r.Strings("Names"), .image = r.String("Image")};
    s.status = StatusFromText(r.String("State"));
    s.labels = r.StringMap("Labels");
    for (std::string& name : s.names) name = TrimName(std::move(name));
    if (!r.status().ok()) return r.status();
    if (s.id.empty()) return MalformedAnswer("container without an Id");
    out.push_back(std::move(s));
  }
  return out;
}

base::Result<std::string> ParseCreatedId(std::string_view text) {
  auto j = ParseAnswerObject(text, "create");
  if (!j.ok()) return j.status();
  FieldReader r(*j, "create");
  std::string id = r.String("Id");
  if (!r.status().ok()) return r.status();
  if (id.empty()) return MalformedAnswer("create without an Id");
  return id;
}

base::Result<EngineVersion> ParseEngineVersion(std::string_view text) {
  auto j = Json::parse(text, nullptr, false);
  auto field = [&](const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
  };
  auto max = ParseApiVersion(field("ApiVersion"));
  if (!max.ok()) return max.status();
  auto min = ParseApiVersion(field("MinAPIVersion"));
  if (!min.ok()) return min.status();
  return EngineVersion{.version = field("Version"),
                       .api_max = *max,
                       .api_min = *min,
                       .os = field("Os"),
                       .arch = field("Arch"),
                       .kernel = field("KernelVersion")};
}

base::Result<int> ParseWaitAnswer(std::string_view text) {
  auto j = ParseAnswerObject(text, "wait");
  if (!j.ok()) return j.status();
  FieldReader r(*j, "wait");
  if (!j->contains("StatusCode")) return MalformedAnswer("wait without a StatusCode");
  int64_t code = r.Int("StatusCode");
  std::string error = r.Object("Error").String("Message");
  if (!r.status().ok()) return r.status();
  if (!error.empty()) return base::Status(base::ErrorKind::kFailed, "docker: wait: " + error);
  if (code < 0 || code > 255) return MalformedAnswer("wait StatusCode " + std::to_string(code));
  return static_cast<int>(code);
}

std::string EngineErrorMessage(std::string_view body) {
  auto j = Json::parse(body, nullptr, false);
  std::string message;
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    message = j["message"].get<std::string>();
  } else {
    message = std::string(body);
  }
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) {
    message.pop_back();
  }
  if (message.size() > kMaxErrorMessage) message.resize(kMaxErrorMessage);
  return message;
}

}  // namespace kiln::exec
