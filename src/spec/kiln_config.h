// kiln.yml: the resources around pipelines (DESIGN.md "kiln.yml"). Kiln's own keys are
// snake_case; a service speaks ECS's field names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spec/build_environment.h"
#include "spec/diagnostic.h"

namespace kiln::spec {

// A value that may be secret: never inline. Exactly one of the sources is set.
//   {file: PATH} | {env: NAME} | "${env:NAME}" | "${file:PATH}" | "${secret:NAME}"
struct ValueRef {
  enum class Kind { kNone, kLiteral, kEnv, kFile, kSecret } kind = Kind::kNone;
  std::string text;  // literal value, variable name, file path, or secret name
};

struct Connection {
  std::string name;
  std::string url;   // https, ssh, file:// URL, or a local path
  std::string arn;   // optional alias for CodePipeline ConnectionArn
  ValueRef token;    // https auth
  ValueRef ssh_key;  // an ssh private key: a file ref (plain text is taken as its path)
  ValueRef webhook_secret;
  int64_t poll_ms = 0;  // 0: no polling
  int line = 0;
};

struct ProjectWebhook {  // CodeBuild webhook filter groups (server issue)
  std::string connection;
  // Each group is a list of {type, pattern, exclude_matched_pattern}.
  struct Filter {
    // EVENT | HEAD_REF | BASE_REF | FILE_PATH | COMMIT_MESSAGE | ACTOR_ACCOUNT_ID
    std::string type;
    std::string pattern;
    bool exclude_matched_pattern = false;
  };
  std::vector<std::vector<Filter>> filter_groups;
};

struct Project {
  std::string name;
  std::string buildspec = "buildspec.yml";  // path in the primary source
  int64_t timeout_ms = 60 * 60 * 1000;
  // CodeBuild's environment (image, computeType, privilegedMode, environmentVariables, ...).
  BuildEnvironment environment;
  std::vector<std::pair<std::string, std::string>> variables;  // environment.variables (Kiln's map)
  std::optional<ProjectWebhook> webhook;
  ProjectCache cache;
  int line = 0;
};

// clusters.NAME: {provider: process} | {provider: docker|swarm, engine: unix:///PATH}.
struct Cluster {
  std::string name;
  std::string provider = "process";  // process | docker | swarm | ecs (not run yet)
  // docker and swarm: the engine's API socket (default unix:///var/run/docker.sock); only
  // unix:// URLs for now. Empty for the other providers.
  std::string engine;
  int line = 0;
};

inline constexpr std::string_view kDefaultEngine = "unix:///var/run/docker.sock";

// A service keeps its ECS-shaped definition as parsed YAML converted to JSON text, so the
// deploy issue can model it fully; here only what validation needs is extracted.
struct Service {
  std::string name;
  std::string cluster;
  int desired_count = 1;
  std::vector<std::string> container_names;
  std::string definition_json;  // the whole service mapping as JSON
  int line = 0;
};

struct PipelineRef {
  std::string name;
  std::string path;         // a file (relative to kiln.yml's folder), or
  std::string inline_json;  // the structure inline, as JSON text
  int line = 0;
};

// schedules.NAME: {pipeline: NAME, expression: "0 3 * * *" | "cron(...)" | "rate(...)"}
// starts the pipeline on a timer (UTC), as an EventBridge rule starts CodePipeline.
struct Schedule {
  std::string name;
  std::string pipeline;
  std::string expression;
  int line = 0;
};

struct TokenSpec {
  std::string name;
  std::string role;    // read | operate | admin
  std::string sha256;  // hex digest of the token (lowercase), or
  ValueRef token;      // the token itself, from a file or the environment
};

// What one client, and all of them together, may make the server hold (kiln.yml
// `server.limits`; README "Security"). Sizes in bytes, times in milliseconds.
struct ServerLimits {
  uint64_t request_body = 1024 * 1024;            // an API request's body
  uint64_t webhook_body = 25 * 1024 * 1024;       // a webhook delivery's body (GitHub's cap)
  uint64_t inflight_bodies = 64 * 1024 * 1024;    // every body being read or handled, together
  int64_t connections = 4096;                     // open connections (also bound by RLIMIT_NOFILE)
  int64_t event_streams = 512;                    // open SSE streams (events and log tails)
  int64_t event_streams_per_client = 32;          // open SSE streams from one client address
  int64_t header_timeout_ms = 10'000;             // a request head, and a keep-alive idle
  int64_t write_timeout_ms = 30'000;              // a client that does not read for this long
  uint64_t bundle_bytes = 1024ull * 1024 * 1024;  // a deploy bundle, unpacked
  uint64_t bundle_entries = 100'000;              // entries in a deploy bundle
};

struct ServerSettings {
  std::string listen = "127.0.0.1:8080";
  bool read_requires_token = false;
  std::vector<TokenSpec> tokens;
  // Names the server may be reached by (the Host header), besides IP addresses and localhost:
  // a request naming another host is refused (DNS rebinding).
  std::vector<std::string> hosts;
  ServerLimits limits;
};

// `registry`: ECR's stand-in. Either Kiln runs Debian's docker-registry on `listen` (storage
// under the state dir, htpasswd auth), or `url` names a registry the user has.
struct Registry {
  std::string listen;    // host:port Kiln serves a registry on; or
  std::string url;       // host:port of the user's registry
  std::string username;  // for `url`
  ValueRef password;     // for `url`: {file:}/{env:}/${secret:}
  int line = 0;
  bool configured() const { return !listen.empty() || !url.empty(); }
};

struct KilnConfig {
  std::string file;  // where it was read from
  std::vector<Connection> connections;
  std::vector<Project> projects;
  std::vector<Cluster> clusters;
  std::vector<Service> services;
  std::vector<PipelineRef> pipelines;
  std::vector<Schedule> schedules;
  std::map<std::string, ValueRef> parameters;  // parameter-store name -> source
  std::map<std::string, ValueRef> secrets;     // secret id -> source
  ServerSettings server;
  Registry registry;

  const Connection* FindConnection(std::string_view name_or_arn) const;  // by name or arn
  const Project* FindProject(std::string_view name) const;
  const Service* FindService(std::string_view name) const;
  const Cluster* FindCluster(std::string_view name) const;
};

// Limits on what the parser accepts; a YAML bomb or a deep nest is refused quickly.
struct KilnConfigLimits {
  size_t max_bytes = 1 << 20;  // 1 MiB
  int max_depth = 64;
  size_t max_nodes = 200'000;  // counting every use of an alias
};

struct ParsedConfig {
  std::optional<KilnConfig> config;  // set when no diagnostics
  Diagnostics diagnostics;
};

// Parses kiln.yml text. Checks: known keys only (errors name unknown keys with line:col);
// names [A-Za-z0-9._-]{1,100}; durations ("90s", "20m"; integers = seconds where ECS uses
// seconds); a secret-bearing field (token, webhook_secret, parameters, secrets) never inline:
// only {file:}, {env:}, ${env:}, ${file:}, ${secret:}; references between resources resolve
// (service -> cluster, project webhook -> connection, ${secret:X} -> secrets); a service's
// deploymentConfiguration allows progress (e.g. minimumHealthyPercent 100 with
// maximumPercent 100 can neither start nor stop a task: error); no crash on any input.
// A service without `cluster` runs on cluster 'default', as in ECS. `tokens` at the top level
// are added to server.tokens.
// A service's definition_json keeps what the user wrote, with the fields Kiln validates in
// their JSON types (integers, booleans, strings); Kiln's own durations (deploymentTimeout,
// stopTimeout) stay as written, for base::ParseDuration. ECS fields Kiln does not use are
// accepted and kept. Never throws.
ParsedConfig ParseKilnConfig(std::string_view text, const std::string& file,
                             const KilnConfigLimits& limits = {});

// Resolves a ValueRef now: reads the environment variable or the file (one trailing newline
// trimmed; a relative path is taken from config.file's folder), or looks up a secret through
// config.secrets (one level: a secret never refers to another). Errors name the reference,
// never a value. Never throws.
struct ResolvedValue {
  bool ok = false;
  std::string value;
  std::string error;
};
ResolvedValue ResolveValue(const ValueRef& ref, const KilnConfig& config);

// ECS task-level sizes as RegisterTaskDefinition takes them: cpu in units ("256", 256) or
// vCPUs ("0.25 vCPU", "1 vcpu"; 1 vCPU = 1024 units); memory in MiB ("512") or GB ("1 GB",
// "2GB"; 1 GB = 1024 MiB). nullopt when text is neither (or not a whole number of units/MiB).
std::optional<int64_t> ParseTaskCpu(std::string_view text);
std::optional<int64_t> ParseTaskMemory(std::string_view text);

// The parameters/secrets name a container secret's valueFrom refers to. ECS takes a
// parameter's name or its full ARN and a secret's ARN: arn:aws:ssm:R:A:parameter/x/y names
// parameter "/x/y" (a hierarchical name keeps its leading '/'; parameter/x names "x"), and
// arn:aws:secretsmanager:R:A:secret:NAME names secret NAME. Anything else is the name itself.
// A Secrets Manager ARN that selects a JSON key or version (more fields after NAME) yields
// nullopt: Kiln does not select parts of a secret.
std::optional<std::string> SecretReferenceName(std::string_view value_from);

}  // namespace kiln::spec
