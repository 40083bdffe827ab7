#include "source/github_webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>
#include <utility>

#include "base/hex.h"

namespace kiln::source {
namespace {

using Json = nlohmann::json;
using Digest = std::array<unsigned char, 32>;

constexpr int kMaxJsonDepth = 64;
constexpr std::string_view kHeadsPrefix = "refs/heads/";
constexpr std::string_view kTagsPrefix = "refs/tags/";

Digest HmacSha256(std::string_view secret, std::string_view body) {
  Digest out{};
  static const unsigned char kEmpty = 0;  // OpenSSL wants a key pointer even for "" keys
  const void* key = secret.empty() ? &kEmpty : static_cast<const void*>(secret.data());
  const auto* data = reinterpret_cast<const unsigned char*>(body.data());
  unsigned int len = 0;
  HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), body.empty() ? &kEmpty : data,
       body.size(), out.data(), &len);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Digest> DecodeHexDigest(std::string_view hex) {
  Digest out{};
  if (hex.size() != out.size() * 2) return std::nullopt;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return out;
}

// nlohmann recurses per nesting level; refuse deep input before it sees it.
bool NestedTooDeep(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

bool AllZeros(std::string_view sha) {
  return !sha.empty() && sha.find_first_not_of('0') == std::string_view::npos;
}

// Reads payload fields by dotted path ("pull_request.head.ref"), keeping the first error.
class Fields {
 public:
  Fields(const Json& root, std::string what) : root_(root), what_(std::move(what)) {}

  const Json* Find(std::string_view path) const {
    const Json* at = &root_;
    while (at && !path.empty()) {
      size_t dot = path.find('.');
      std::string key(path.substr(0, dot));
      path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
      auto it = at->is_object() ? at->find(key) : at->end();
      at = at->is_object() && it != at->end() ? &*it : nullptr;
    }
    return at;
  }
  std::string String(std::string_view path) {
    const Json* v = Find(path);
    if (v && v->is_string()) return v->get<std::string>();
    Fail(path, "is missing or not a string");
    return "";
  }
  std::string OptionalString(std::string_view path) const {
    const Json* v = Find(path);
    return v && v->is_string() ? v->get<std::string>() : "";
  }
  bool Bool(std::string_view path) const {
    const Json* v = Find(path);
    return v && v->is_boolean() && v->get<bool>();
  }
  std::optional<int64_t> OptionalInt(std::string_view path) const {
    const Json* v = Find(path);
    if (!v || !v->is_number_integer()) return std::nullopt;
    return v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)
               ? std::nullopt
               : std::optional<int64_t>(v->get<int64_t>());
  }
  int64_t Int(std::string_view path) {
    std::optional<int64_t> v = OptionalInt(path);
    if (!v) Fail(path, "is missing or not an integer");
    return v.value_or(0);
  }
  void Fail(std::string_view path, std::string_view why) {
    if (error_.empty()) error_ = what_ + ": '" + std::string(path) + "' " + std::string(why);
  }
  const std::string& error() const { return error_; }

 private:
  const Json& root_;
  std::string what_;
  std::string error_;
};

// sender.id as decimal text: CodeBuild's ACTOR_ACCOUNT_ID.
std::string ActorAccountId(const Fields& f) {
  const Json* id = f.Find("sender.id");
  if (!id || !id->is_number_integer()) return "";
  return id->is_number_unsigned() ? std::to_string(id->get<uint64_t>())
                                  : std::to_string(id->get<int64_t>());
}

void ReadCommon(Fields& f, WebhookEvent& e, bool repository_required) {
  if (repository_required || f.Find("repository")) {
    e.repository.full_name = f.String("repository.full_name");
  }
  e.repository.clone_url = f.OptionalString("repository.clone_url");
  e.repository.ssh_url = f.OptionalString("repository.ssh_url");
  e.repository.html_url = f.OptionalString("repository.html_url");
  e.actor_account_id = ActorAccountId(f);
}

void AddFiles(const Json* list, std::unordered_set<std::string>& seen,
              std::vector<std::string>& out) {
  if (!list || !list->is_array()) return;
  for (const Json& file : *list) {
    if (file.is_string() && seen.insert(file.get<std::string>()).second) {
      out.push_back(file.get<std::string>());
    }
  }
}

std::vector<std::string> ChangedFiles(const Fields& f) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  const Json* commits = f.Find("commits");
  if (!commits || !commits->is_array()) return out;
  for (const Json& commit : *commits) {
    if (!commit.is_object()) continue;
    for (const char* key : {"added", "modified", "removed"}) {
      auto it = commit.find(key);
      AddFiles(it == commit.end() ? nullptr : &*it, seen, out);
    }
  }
  return out;
}

void ReadPush(Fields& f, WebhookEvent& e) {
  e.kind = WebhookKind::kPush;
  e.codebuild_event = "PUSH";
  e.head_ref = e.fetch_ref = f.String("ref");
  e.commit = e.head_sha = f.String("after");
  e.before = f.String("before");
  e.created = f.Bool("created");
  // GitHub marks deletions with `deleted`; an all-zero `after` says the same.
  e.deleted = f.Bool("deleted") || AllZeros(e.commit);
  e.forced = f.Bool("forced");
  ReadCommon(f, e, true);
  e.changed_files = ChangedFiles(f);
  e.commit_message = f.OptionalString("head_commit.message");
}

// CodeBuild's names for pull request actions (AWS-SEMANTICS.md §5.1); "" for the others.
std::string PullRequestEvent(const Fields& f, const std::string& action, bool merged) {
  if (action == "opened") return "PULL_REQUEST_CREATED";
  if (action == "synchronize") return "PULL_REQUEST_UPDATED";
  // Retargeting a PR to another base branch changes what it would merge into.
  if (action == "edited" && f.Find("changes.base")) return "PULL_REQUEST_UPDATED";
  if (action == "reopened") return "PULL_REQUEST_REOPENED";
  if (action == "closed") return merged ? "PULL_REQUEST_MERGED" : "PULL_REQUEST_CLOSED";
  return "";
}

void ReadPullRequest(Fields& f, WebhookEvent& e) {
  e.kind = WebhookKind::kPullRequest;
  e.action = f.String("action");
  if (!f.Find("pull_request") || !f.Find("pull_request")->is_object()) {
    f.Fail("pull_request", "is missing or not an object");
    return;
  }
  e.pull_request_number = f.Int("pull_request.number");
  e.head_ref = std::string(kHeadsPrefix) + f.String("pull_request.head.ref");
  e.base_ref = std::string(kHeadsPrefix) + f.String("pull_request.base.ref");
  e.fetch_ref = "refs/pull/" + std::to_string(e.pull_request_number) + "/head";
  e.head_sha = e.commit = f.String("pull_request.head.sha");
  e.head_repository = f.OptionalString("pull_request.head.repo.full_name");
  e.before = f.OptionalString("before");
  e.merged = f.Bool("pull_request.merged");
  if (e.action == "closed" && e.merged) e.commit = f.String("pull_request.merge_commit_sha");
  e.commit_message = f.OptionalString("pull_request.title");
  ReadCommon(f, e, true);
  e.codebuild_event = PullRequestEvent(f, e.action, e.merged);
  if (e.codebuild_event.empty()) {
    e.kind = WebhookKind::kIgnored;
    e.ignored_reason = "pull_request action '" + e.action + "' is not a CodeBuild event";
  }
}

void ReadPing(Fields& f, WebhookEvent& e) {
  e.kind = WebhookKind::kPing;
  e.hook_id = f.OptionalInt("hook_id").value_or(0);
  e.zen = f.OptionalString("zen");
  ReadCommon(f, e, false);  // an organization hook's ping has no repository
}

std::string_view After(std::string_view ref, std::string_view prefix) {
  return ref.starts_with(prefix) ? ref.substr(prefix.size()) : std::string_view();
}

}  // namespace

bool VerifyGithubSignature(std::string_view secret, std::string_view body,
                           std::string_view signature_header) {
  constexpr std::string_view kPrefix = "sha256=";
  if (!signature_header.starts_with(kPrefix)) return false;
  std::optional<Digest> sent = DecodeHexDigest(signature_header.substr(kPrefix.size()));
  if (!sent) return false;
  Digest expected = HmacSha256(secret, body);
  return CRYPTO_memcmp(sent->data(), expected.data(), expected.size()) == 0;
}

std::string GithubSignature(std::string_view secret, std::string_view body) {
  auto mac = HmacSha256(secret, body);
  return "sha256=" + base::HexEncode(std::span<const unsigned char>(mac.data(), mac.size()));
}

bool WebhookEvent::IsBranch() const { return head_ref.starts_with(kHeadsPrefix); }
bool WebhookEvent::IsTag() const { return head_ref.starts_with(kTagsPrefix); }
std::string_view WebhookEvent::BranchName() const { return After(head_ref, kHeadsPrefix); }
std::string_view WebhookEvent::TagName() const { return After(head_ref, kTagsPrefix); }
std::string_view WebhookEvent::BaseBranchName() const { return After(base_ref, kHeadsPrefix); }

base::Result<WebhookEvent> ParseGithubWebhook(std::string_view event_header,
                                              std::string_view body) {
  if (body.size() > kMaxWebhookBodyBytes) {
    return base::InvalidInput("webhook body is larger than GitHub's 25 MiB limit");
  }
  WebhookEvent event;
  if (event_header != "push" && event_header != "pull_request" && event_header != "ping") {
    event.ignored_reason =
        "event '" + std::string(event_header.substr(0, 64)) + "' starts nothing in Kiln";
    return event;
  }
  std::string what = std::string(event_header) + " payload";
  if (NestedTooDeep(body)) return base::InvalidInput(what + ": nested deeper than 64 levels");
  Json root = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return base::InvalidInput(what + ": not a JSON object");
  }
  Fields fields(root, what);
  if (event_header == "push") ReadPush(fields, event);
  if (event_header == "pull_request") ReadPullRequest(fields, event);
  if (event_header == "ping") ReadPing(fields, event);
  if (!fields.error().empty()) return base::InvalidInput(fields.error());
  return event;
}

}  // namespace kiln::source
