// kiln.yml `server.hosts` and `server.limits`: who the server answers to, and what a client
// may make it hold.
#include <cctype>

#include "base/byte_size.h"
#include "spec/kiln_config_sections.h"

namespace kiln::spec::kiln_yml {
namespace {

constexpr std::string_view kLimitKeys[] = {"request_body",    "webhook_body",
                                           "inflight_bodies", "connections",
                                           "event_streams",   "event_streams_per_client",
                                           "header_timeout",  "write_timeout",
                                           "bundle_bytes",    "bundle_entries"};

// A DNS name as a Host header carries it: letters, digits, '-', '.', optionally ":PORT".
bool IsHostName(const std::string& text) {
  if (text.empty() || text.size() > 253) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != ':') {
      return false;
    }
  }
  return text.front() != '.' && text.front() != '-';
}

std::optional<uint64_t> Size(ConfigReader& reader, const YAML::Node& node, const std::string& what,
                             uint64_t min) {
  if (!node.IsScalar()) {
    reader.Error(node.Mark(), what + " must be a size such as 25MiB");
    return std::nullopt;
  }
  base::Result<uint64_t> bytes = base::ParseByteSize(node.Scalar());
  if (!bytes.ok()) {
    reader.Error(node.Mark(), what + ": " + bytes.status().message());
    return std::nullopt;
  }
  if (*bytes < min) {
    reader.Error(node.Mark(), what + " must be at least " + base::FormatByteSize(min));
    return std::nullopt;
  }
  return *bytes;
}

void ReadSize(ConfigReader& reader, const std::vector<YamlEntry>& fields, std::string_view key,
              uint64_t min, uint64_t& out) {
  if (const YamlEntry* e = FindEntry(fields, key)) {
    out = Size(reader, e->value, "server.limits." + std::string(key), min).value_or(out);
  }
}

void ReadCount(ConfigReader& reader, const std::vector<YamlEntry>& fields, std::string_view key,
               int64_t min, int64_t max, int64_t& out) {
  if (const YamlEntry* e = FindEntry(fields, key)) {
    out = reader.Integer(e->value, "server.limits." + std::string(key), min, max).value_or(out);
  }
}

void ReadTime(ConfigReader& reader, const std::vector<YamlEntry>& fields, std::string_view key,
              int64_t& out) {
  const YamlEntry* e = FindEntry(fields, key);
  if (e == nullptr) return;
  std::string what = "server.limits." + std::string(key);
  std::optional<int64_t> ms = reader.DurationMs(e->value, what);
  if (ms && *ms < 100) {
    reader.Error(e->value.Mark(), what + " must be at least 100ms");
    return;
  }
  out = ms.value_or(out);
}

}  // namespace

void ParseServerHosts(ConfigReader& reader, const YAML::Node& node,
                      std::vector<std::string>& hosts) {
  std::optional<std::vector<YAML::Node>> items = reader.Sequence(node, "server.hosts");
  for (size_t i = 0; items && i < items->size(); ++i) {
    std::string what = "server.hosts[" + std::to_string(i) + "]";
    std::optional<std::string> host = reader.String((*items)[i], what);
    if (!host) continue;
    if (!IsHostName(*host)) {
      reader.Error((*items)[i].Mark(), what + " must be a host name such as kiln.example.com");
      continue;
    }
    for (char& c : *host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    hosts.push_back(*host);
  }
}

void ParseServerLimits(ConfigReader& reader, const YAML::Node& node, ServerLimits& limits) {
  std::optional<std::vector<YamlEntry>> fields = reader.Mapping(node, "server.limits");
  if (!fields) return;
  reader.CheckKeys(*fields, "server.limits", kLimitKeys);
  ReadSize(reader, *fields, "request_body", 1024, limits.request_body);
  ReadSize(reader, *fields, "webhook_body", 1024, limits.webhook_body);
  ReadSize(reader, *fields, "inflight_bodies", 1024 * 1024, limits.inflight_bodies);
  ReadCount(reader, *fields, "connections", 16, 1'000'000, limits.connections);
  ReadCount(reader, *fields, "event_streams", 1, 1'000'000, limits.event_streams);
  ReadCount(reader, *fields, "event_streams_per_client", 1, 1'000'000,
            limits.event_streams_per_client);
  ReadTime(reader, *fields, "header_timeout", limits.header_timeout_ms);
  ReadTime(reader, *fields, "write_timeout", limits.write_timeout_ms);
  ReadSize(reader, *fields, "bundle_bytes", 1024, limits.bundle_bytes);
  if (const YamlEntry* e = FindEntry(*fields, "bundle_entries")) {
    limits.bundle_entries = static_cast<uint64_t>(
        reader.Integer(e->value, "server.limits.bundle_entries", 1, 100'000'000)
            .value_or(static_cast<int64_t>(limits.bundle_entries)));
  }
}

}  // namespace kiln::spec::kiln_yml
