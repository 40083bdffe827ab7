// GitHub webhook deliveries: the X-Hub-Signature-256 check and the payload parser that turns
// a push, pull_request or ping body into a WebhookEvent named as CodeBuild names events
// (AWS-SEMANTICS.md §5.1-5.2). Pure functions: no I/O, safe on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln::source {

// GitHub's limit: it does not deliver payloads over 25 MB.
constexpr size_t kMaxWebhookBodyBytes = size_t{25} << 20;

// True when signature_header is "sha256=<64 hex digits>" and equals HMAC-SHA256(secret, body).
// The digests are compared in constant time; a malformed header is false, never an error.
bool VerifyGithubSignature(std::string_view secret, std::string_view body,
                           std::string_view signature_header);

// The X-Hub-Signature-256 value GitHub would send: "sha256=" and 64 lower-case hex digits.
std::string GithubSignature(std::string_view secret, std::string_view body);

enum class WebhookKind { kPing, kPush, kPullRequest, kIgnored };

struct WebhookRepository {
  std::string full_name;  // owner/name
  std::string clone_url, ssh_url, html_url;
};

struct WebhookEvent {
  WebhookKind kind = WebhookKind::kIgnored;
  std::string ignored_reason;  // kIgnored: why nothing should start, for logs

  // CodeBuild's EVENT name: PUSH, PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED,
  // PULL_REQUEST_REOPENED, PULL_REQUEST_MERGED, PULL_REQUEST_CLOSED; empty for ping/ignored.
  std::string codebuild_event;
  std::string action;  // the payload's raw `action` (pull_request); empty for push

  // Push: `ref` (refs/heads/x or refs/tags/y). Pull request: refs/heads/<head.ref>, the
  // source branch, which may live in a fork (see head_repository).
  std::string head_ref;
  std::string base_ref;   // pull request: refs/heads/<base.ref>; empty for push
  std::string fetch_ref;  // what to fetch from `repository`: push: head_ref; PR: refs/pull/N/head

  // The commit that lands: push: `after`; PR: head.sha, but for a merged PR the
  // merge_commit_sha (what the base branch now holds).
  std::string commit;
  std::string head_sha;  // PR: pull_request.head.sha always (CodePipeline builds it); push: after
  std::string before;    // push: `before`; PR synchronize: `before` when sent
  bool created = false;  // push created the branch or tag
  bool deleted = false;  // push deleted it (`deleted: true` or `after` all zeros)
  bool forced = false;   // push was forced
  bool merged = false;   // pull request closed by merging

  WebhookRepository repository;            // the repository the hook is on
  std::string head_repository;             // PR: head.repo.full_name (differs for forks)
  std::vector<std::string> changed_files;  // push only; see ParseGithubWebhook
  std::string commit_message;              // push: head_commit.message; PR: the title
  std::string actor_account_id;            // sender.id as decimal text
  int64_t pull_request_number = 0;

  int64_t hook_id = 0;  // ping
  std::string zen;      // ping

  bool IsBranch() const;                    // head_ref is refs/heads/...
  bool IsTag() const;                       // head_ref is refs/tags/...
  std::string_view BranchName() const;      // "prod" for refs/heads/prod, else ""
  std::string_view TagName() const;         // "v1" for refs/tags/v1, else ""
  std::string_view BaseBranchName() const;  // "main" for base_ref refs/heads/main, else ""
  bool IsPullRequest() const { return kind == WebhookKind::kPullRequest; }
};

// Parses a delivery. event_header is X-GitHub-Event; body the raw JSON bytes (a form-encoded
// `payload=` body must be decoded by the caller).
// - push, pull_request and ping become kPush, kPullRequest and kPing. A pull_request action
//   CodeBuild does not name (labeled, assigned, edited without a base change...) and any
//   other event type become kIgnored with a reason: not errors, the delivery is answered 2xx.
// - changed_files: the union of added/modified/removed over the payload's commits, in first
//   seen order without duplicates. GitHub may truncate that list, and pull_request payloads
//   carry no file list at all: the caller may fill changed_files from git before matching.
// Errors are kInvalidInput with one line naming the field ("push payload: 'ref' is missing or
// not a string"); also for bodies over kMaxWebhookBodyBytes, invalid JSON, and JSON nested
// deeper than 64 levels (refused before parsing). Never throws, on any input.
base::Result<WebhookEvent> ParseGithubWebhook(std::string_view event_header, std::string_view body);

}  // namespace kiln::source
