#include "server/api_intake.h"

#include <algorithm>
#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <utility>

#include "base/json_text.h"

namespace kiln::server {
namespace {

using nlohmann::json;

// kRequired: the field must be there; kNonEmpty: there, and not "".
enum class Presence { kOptional, kRequired, kNonEmpty };

template <typename E>
using EnumNames = std::span<const std::pair<std::string_view, E>>;

constexpr std::array<std::pair<std::string_view, TransitionType>, 2> kTransitionTypes{
    {{"Inbound", TransitionType::kInbound}, {"Outbound", TransitionType::kOutbound}}};
constexpr std::array<std::pair<std::string_view, RetryMode>, 2> kRetryModes{
    {{"FAILED_ACTIONS", RetryMode::kFailedActions}, {"ALL_ACTIONS", RetryMode::kAllActions}}};
constexpr std::array<std::pair<std::string_view, VariableType>, 3> kVariableTypes{
    {{"PLAINTEXT", VariableType::kPlaintext},
     {"PARAMETER_STORE", VariableType::kParameterStore},
     {"SECRETS_MANAGER", VariableType::kSecretsManager}}};
constexpr std::array<std::pair<std::string_view, RevisionType>, 1> kRevisionTypes{
    {{"COMMIT_ID", RevisionType::kCommitId}}};
constexpr std::array<std::pair<std::string_view, spec::ComputeType>, 5> kComputeTypes{
    {{"BUILD_GENERAL1_SMALL", spec::ComputeType::kSmall},
     {"BUILD_GENERAL1_MEDIUM", spec::ComputeType::kMedium},
     {"BUILD_GENERAL1_LARGE", spec::ComputeType::kLarge},
     {"BUILD_GENERAL1_XLARGE", spec::ComputeType::kXLarge},
     {"BUILD_GENERAL1_2XLARGE", spec::ComputeType::k2XLarge}}};
// CodeBuild has more (ARM_CONTAINER, WINDOWS_*, LINUX_GPU_CONTAINER, ...); Kiln runs only
// Linux containers, so any other is refused rather than silently run as one.
enum class EnvironmentType { kLinuxContainer };
constexpr std::array<std::pair<std::string_view, EnvironmentType>, 1> kEnvironmentTypes{
    {{"LINUX_CONTAINER", EnvironmentType::kLinuxContainer}}};

// Reads the fields of one JSON object. The first error sticks and later reads do nothing, so
// a parser is a list of reads followed by one check. Reads never throw: each value's type is
// checked before it is taken.
class Reader {
 public:
  Reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object.is_object()) NotAnObject();
  }

  bool ok() const { return status_.ok(); }
  const base::Status& status() const { return status_; }

  Reader& String(const char* key, size_t max_bytes, std::string* out,
                 Presence presence = Presence::kOptional) {
    const json* v = Find(key, presence);
    if (!v) return *this;
    if (!v->is_string()) return Expected(key, "a string", *v);
    const auto& text = v->get_ref<const std::string&>();
    if (text.size() > max_bytes) {
      return Fail(key, "at most " + std::to_string(max_bytes) + " bytes, got " +
                           std::to_string(text.size()));
    }
    if (presence == Presence::kNonEmpty && text.empty()) return Fail(key, "must not be empty");
    *out = text;
    return *this;
  }

  Reader& String(const char* key, size_t max_bytes, std::optional<std::string>* out) {
    if (!ok() || !object_.contains(key)) return *this;
    std::string value;
    String(key, max_bytes, &value);
    if (ok()) *out = std::move(value);
    return *this;
  }

  Reader& Bool(const char* key, bool* out) {
    const json* v = Find(key, Presence::kOptional);
    if (!v) return *this;
    if (!v->is_boolean()) return Expected(key, "a boolean", *v);
    *out = v->get<bool>();
    return *this;
  }

  Reader& Bool(const char* key, std::optional<bool>* out) {
    bool value = false;
    if (!ok() || !object_.contains(key)) return *this;
    if (Bool(key, &value).ok()) *out = value;
    return *this;
  }

  // An image reference (spec::IsImageReference) of 1 to max_bytes: a space or control byte
  // would otherwise reach the engine's create call.
  Reader& Image(const char* key, size_t max_bytes, std::optional<std::string>* out) {
    std::optional<std::string> text;
    if (!String(key, max_bytes, &text).ok() || !text) return *this;
    if (text->empty()) return Fail(key, "must not be empty");
    if (!spec::IsImageReference(*text)) {
      return Fail(key, "expected an image reference (REPOSITORY[:TAG] or REPOSITORY@DIGEST), got " +
                           base::JsonText(json(*text)));
    }
    *out = std::move(text);
    return *this;
  }

  // An integer from min to max (a fraction, or a number out of int64's range, is refused).
  Reader& Integer(const char* key, int64_t min, int64_t max, std::optional<int64_t>* out,
                  Presence presence = Presence::kOptional) {
    const json* v = Find(key, presence);
    if (!v) return *this;
    std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!v->is_number_integer()) return Expected(key, range, *v);
    bool too_big = v->is_number_unsigned() &&
                   v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    int64_t n = too_big ? std::numeric_limits<int64_t>::max() : v->get<int64_t>();
    if (too_big || n < min || n > max) {
      return Fail(key, "expected " + range + ", got " + base::JsonText(*v));
    }
    *out = n;
    return *this;
  }

  template <typename E>
  Reader& Enum(const char* key, EnumNames<E> names, E* out,
               Presence presence = Presence::kOptional) {
    const json* v = Find(key, presence);
    if (!v) return *this;
    std::string all;
    for (const auto& [name, value] : names) all += (all.empty() ? "" : ", ") + std::string(name);
    if (!v->is_string()) return Expected(key, "one of " + all, *v);
    for (const auto& [name, value] : names) {
      if (v->get_ref<const std::string&>() == name) {
        *out = value;
        return *this;
      }
    }
    return Fail(key, "expected one of " + all + ", got " + base::JsonText(*v));
  }

  template <typename E>
  Reader& Enum(const char* key, EnumNames<E> names, std::optional<E>* out) {
    E value{};
    if (!ok() || !object_.contains(key)) return *this;
    if (Enum<E>(key, names, &value).ok()) *out = value;
    return *this;
  }

  // An array of objects, each read by read(Reader&, T*) at path key[i].
  template <typename T, typename ReadItem>
  Reader& Objects(const char* key, std::vector<T>* out, ReadItem read) {
    const json* v = Find(key, Presence::kOptional);
    if (!v) return *this;
    if (!v->is_array()) return Expected(key, "an array", *v);
    if (v->size() > kMaxListEntries) {
      return Fail(key, "at most " + std::to_string(kMaxListEntries) + " entries, got " +
                           std::to_string(v->size()));
    }
    for (size_t i = 0; i < v->size(); ++i) {
      Reader item((*v)[i], PathOf(key) + "[" + std::to_string(i) + "]");
      T value;
      if (item.ok()) read(item, &value);
      if (!item.ok()) return Take(item);
      out->push_back(std::move(value));
    }
    return *this;
  }

  // A nested object read by read(Reader&) at path key; absent leaves *present false.
  template <typename ReadObject>
  Reader& Object(const char* key, bool* present, ReadObject read) {
    const json* v = Find(key, Presence::kOptional);
    if (!v) return *this;
    Reader inner(*v, PathOf(key));
    if (inner.ok()) read(inner);
    if (!inner.ok()) return Take(inner);
    *present = true;
    return *this;
  }

  bool Has(const char* key) const { return ok() && object_.is_object() && object_.contains(key); }

 private:
  const json* Find(const char* key, Presence presence) {
    if (!ok()) return nullptr;
    auto it = object_.find(key);
    if (it != object_.end()) return &*it;
    if (presence != Presence::kOptional) Fail(key, "is required");
    return nullptr;
  }

  std::string PathOf(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  Reader& Fail(const char* key, const std::string& what) {
    status_ = base::InvalidInput("field '" + PathOf(key) + "': " + what);
    return *this;
  }

  Reader& Expected(const char* key, const std::string& what, const json& got) {
    return Fail(key, "expected " + what + ", got " + got.type_name());
  }

  void NotAnObject() {
    std::string where = path_.empty() ? "the request body" : "field '" + path_ + "'";
    status_ = base::InvalidInput(where + ": expected an object, got " + object_.type_name());
  }

  Reader& Take(const Reader& inner) {
    status_ = inner.status();
    return *this;
  }

  const json& object_;
  std::string path_;
  base::Status status_;
};

template <typename T>
base::Result<T> Done(const Reader& r, T value) {
  if (!r.ok()) return r.status();
  return value;
}

void ReadPipelineVariable(Reader& r, PipelineVariable* v) {
  r.String("name", kMaxNameBytes, &v->name, Presence::kNonEmpty)
      .String("value", kMaxValueBytes, &v->value);
}

void ReadSourceRevision(Reader& r, SourceRevision* s) {
  r.String("actionName", kMaxNameBytes, &s->action_name)
      .Enum<RevisionType>("revisionType", kRevisionTypes, &s->revision_type)
      .String("revisionValue", kMaxValueBytes, &s->revision_value, Presence::kNonEmpty);
}

// CodeBuild: an EnvironmentVariable's name and value are required; type defaults to PLAINTEXT.
void ReadEnvironmentVariable(Reader& r, EnvironmentVariable* v) {
  r.String("name", kMaxNameBytes, &v->name, Presence::kNonEmpty)
      .String("value", kMaxValueBytes, &v->value, Presence::kRequired)
      .Enum<VariableType>("type", kVariableTypes, &v->type);
}

void ReadStartBuild(Reader& r, StartBuildRequest* out) {
  r.String("buildspecOverride", kMaxBuildspecBytes, &out->buildspec_override)
      .String("sourceVersion", kMaxValueBytes, &out->source_version)
      .Objects("environmentVariablesOverride", &out->environment_variables_override,
               ReadEnvironmentVariable)
      .Integer("timeoutInMinutesOverride", kMinBuildTimeoutMinutes, kMaxBuildTimeoutMinutes,
               &out->timeout_in_minutes_override)
      .Image("imageOverride", kMaxImageBytes, &out->image_override)
      .Bool("privilegedModeOverride", &out->privileged_mode_override)
      .Enum<spec::ComputeType>("computeTypeOverride", kComputeTypes, &out->compute_type_override);
  std::optional<EnvironmentType> type;
  r.Enum<EnvironmentType>("environmentTypeOverride", kEnvironmentTypes, &type);
  if (type) out->environment_type_override = std::string(kEnvironmentTypes[0].first);
}

void ReadBuildSource(Reader& r, BuildSourceRef* s) {
  r.String("connection", kMaxNameBytes, &s->connection, Presence::kNonEmpty)
      .String("revision", kMaxValueBytes, &s->revision)
      .String("branch", kMaxValueBytes, &s->branch)
      .String("webhookEvent", kMaxValueBytes, &s->webhook_event)
      .String("webhookHeadRef", kMaxValueBytes, &s->webhook_head_ref)
      .String("webhookBaseRef", kMaxValueBytes, &s->webhook_base_ref)
      .String("webhookTrigger", kMaxValueBytes, &s->webhook_trigger)
      .String("webhookActorAccountId", kMaxValueBytes, &s->webhook_actor_account_id);
}

void ReadImageDefinition(Reader& r, ImageDefinition* d) {
  r.String("name", kMaxNameBytes, &d->name, Presence::kNonEmpty)
      .String("imageUri", kMaxValueBytes, &d->image_uri, Presence::kNonEmpty);
}

json SourceJson(const BuildSourceRef& s) {
  return {{"connection", s.connection},
          {"revision", s.revision},
          {"branch", s.branch},
          {"webhookEvent", s.webhook_event},
          {"webhookHeadRef", s.webhook_head_ref},
          {"webhookBaseRef", s.webhook_base_ref},
          {"webhookTrigger", s.webhook_trigger},
          {"webhookActorAccountId", s.webhook_actor_account_id}};
}

json StartBuildJson(const StartBuildRequest& s) {
  json j = json::object();
  if (s.buildspec_override) j["buildspecOverride"] = *s.buildspec_override;
  if (s.source_version) j["sourceVersion"] = *s.source_version;
  json vars = json::array();
  for (const auto& v : s.environment_variables_override) {
    vars.push_back({{"name", v.name}, {"value", v.value}, {"type", VariableTypeName(v.type)}});
  }
  if (!vars.empty()) j["environmentVariablesOverride"] = std::move(vars);
  if (s.timeout_in_minutes_override) j["timeoutInMinutesOverride"] = *s.timeout_in_minutes_override;
  if (s.image_override) j["imageOverride"] = *s.image_override;
  if (s.privileged_mode_override) j["privilegedModeOverride"] = *s.privileged_mode_override;
  if (s.compute_type_override) {
    j["computeTypeOverride"] = spec::ComputeTypeName(*s.compute_type_override);
  }
  if (s.environment_type_override) j["environmentTypeOverride"] = *s.environment_type_override;
  return j;
}

// Characters, not bytes: a UTF-8 continuation byte does not start one.
size_t Utf8Chars(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

base::Result<StartExecutionRequest> ParseStartExecutionRequest(const json& body) {
  StartExecutionRequest out;
  Reader r(body, "");
  r.Objects("variables", &out.variables, ReadPipelineVariable)
      .Objects("sourceRevisions", &out.source_revisions, ReadSourceRevision);
  return Done(r, std::move(out));
}

base::Result<StopExecutionRequest> ParseStopExecutionRequest(const json& body) {
  StopExecutionRequest out;
  Reader r(body, "");
  r.Bool("abandon", &out.abandon).String("reason", kMaxReasonBytes, &out.reason);
  return Done(r, std::move(out));
}

base::Result<RetryStageRequest> ParseRetryStageRequest(const json& body) {
  RetryStageRequest out;
  Reader r(body, "");
  r.String("stageName", kMaxNameBytes, &out.stage_name)
      .Enum<RetryMode>("retryMode", kRetryModes, &out.mode);
  return Done(r, std::move(out));
}

base::Result<ApprovalRequest> ParseApprovalRequest(const json& body) {
  ApprovalRequest out;
  Reader r(body, "");
  r.String("stageName", kMaxNameBytes, &out.stage_name)
      .String("actionName", kMaxNameBytes, &out.action_name)
      .String("summary", kMaxSummaryBytes, &out.summary)
      .String("token", kMaxNameBytes, &out.token);
  return Done(r, std::move(out));
}

base::Status CheckTransitionReason(std::string_view reason) {
  if (reason.empty()) return base::InvalidInput("must not be empty");
  if (size_t n = Utf8Chars(reason); n > kMaxTransitionReasonChars) {
    return base::InvalidInput("at most " + std::to_string(kMaxTransitionReasonChars) +
                              " characters, got " + std::to_string(n));
  }
  return base::Status::Ok();
}

base::Result<TransitionRequest> ParseDisableTransitionRequest(const json& body) {
  TransitionRequest out;
  Reader r(body, "");
  r.Enum<TransitionType>("transitionType", kTransitionTypes, &out.type, Presence::kRequired)
      .String("reason", 4 * kMaxTransitionReasonChars, &out.reason, Presence::kRequired);
  if (r.ok()) {
    if (auto st = CheckTransitionReason(out.reason); !st.ok()) {
      return base::InvalidInput("field 'reason': " + st.message());
    }
  }
  return Done(r, std::move(out));
}

base::Result<TransitionRequest> ParseEnableTransitionRequest(const json& body) {
  TransitionRequest out;
  Reader r(body, "");
  r.Enum<TransitionType>("transitionType", kTransitionTypes, &out.type, Presence::kRequired);
  return Done(r, std::move(out));
}

base::Result<StartBuildRequest> ParseStartBuildRequest(const json& body) {
  StartBuildRequest out;
  Reader r(body, "");
  ReadStartBuild(r, &out);
  return Done(r, std::move(out));
}

// imageDefinitions wins over imageDetail, which wins over revision (the CLI sends one).
base::Result<DeployRequest> ParseDeployRequest(const json& body) {
  DeployRequest out;
  Reader r(body, "");
  bool detail = false;
  if (r.Has("imageDefinitions")) {
    r.Objects("imageDefinitions", &out.image_definitions, ReadImageDefinition);
    if (r.ok() && out.image_definitions.empty()) {
      return base::InvalidInput("field 'imageDefinitions': expected at least one entry");
    }
  } else if (r.Has("imageDetail")) {
    std::string uri;
    r.Object("imageDetail", &detail,
             [&](Reader& d) { d.String("ImageURI", kMaxValueBytes, &uri, Presence::kNonEmpty); });
    if (detail) out.image_detail_uri = uri;
  } else if (r.Has("revision")) {
    r.Integer("revision", 1, std::numeric_limits<int64_t>::max(), &out.revision);
  } else if (r.ok()) {
    return base::InvalidInput(
        "give imageDefinitions (imagedefinitions.json's array), imageDetail, or revision");
  }
  r.String("artifactDir", kMaxValueBytes, &out.artifact_dir);
  if (r.ok() && !out.artifact_dir.empty() && !out.artifact_dir.starts_with('/')) {
    return base::InvalidInput("field 'artifactDir': expected an absolute path");
  }
  return Done(r, std::move(out));
}

base::Result<RollbackRequest> ParseRollbackRequest(const json& body) {
  Reader r(body, "");
  return Done(r, RollbackRequest{});
}

base::Result<ScaleRequest> ParseScaleRequest(const json& body) {
  std::optional<int64_t> count;
  Reader r(body, "");
  r.Integer("desiredCount", 0, kMaxDesiredCount, &count, Presence::kRequired);
  if (!r.ok()) return r.status();
  return ScaleRequest{.desired_count = static_cast<int>(*count)};
}

std::string StoredBuildRequestJson(const StoredBuildRequest& request) {
  json j = StartBuildJson(request.start);
  j["projectName"] = request.project_name;
  j["initiator"] = request.initiator;
  if (request.source) j["source"] = SourceJson(*request.source);
  return base::JsonText(j);
}

base::Result<StoredBuildRequest> ParseStoredBuildRequest(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return base::InvalidInput("the text is not JSON");
  StoredBuildRequest out;
  Reader r(j, "");
  r.String("projectName", kMaxValueBytes, &out.project_name)
      .String("initiator", kMaxValueBytes, &out.initiator);
  ReadStartBuild(r, &out.start);
  BuildSourceRef source;
  bool has_source = false;
  r.Object("source", &has_source, [&](Reader& s) { ReadBuildSource(s, &source); });
  if (has_source) out.source = std::move(source);
  return Done(r, std::move(out));
}

}  // namespace kiln::server
