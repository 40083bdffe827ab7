#include "source/trigger_filter.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <utility>

#include "spec/pipeline_providers.h"

namespace kiln::source {
namespace {

// ---- CodePipeline globs, translated to RE2 ----
// The syntax-glob page's rules are those of Java's PathMatcher glob, so the translation
// follows it: `*` -> [^/]*, `**` -> .*, `?` -> [^/], classes never match `/`.

size_t Utf8Length(std::string_view s, size_t i) {
  auto lead = static_cast<unsigned char>(s[i]);
  size_t n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return std::min(n, s.size() - i);
}

// One class member as RE2 text: punctuation escaped, control bytes as \x{..}, UTF-8 as is.
std::string ClassChar(std::string_view ch) {
  auto c = static_cast<unsigned char>(ch[0]);
  if (ch.size() > 1 || c >= 0x80 || std::isalnum(c)) return std::string(ch);
  if (std::ispunct(c)) return std::string("\\") + ch[0];
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("\\x{") + kHex[c >> 4] + kHex[c & 15] + "}";
}

// A range lo-hi without '/': "[+-0]" would otherwise let a class cross a path separator.
// (GlobClass refuses '/' itself as either end.)
std::string ClassRange(std::string_view lo, std::string_view hi) {
  bool lo_below = lo.size() == 1 && static_cast<unsigned char>(lo[0]) < '/';
  bool hi_above = hi.size() > 1 || static_cast<unsigned char>(hi[0]) > '/';
  if (!lo_below || !hi_above) return ClassChar(lo) + "-" + ClassChar(hi);
  return ClassChar(lo) + "-" + ClassChar(".") + "0-" + ClassChar(hi);
}

// Translates the class starting after '[' at glob[*i]; advances *i past ']'.
std::optional<std::string> GlobClass(std::string_view glob, size_t* i) {
  std::string out = "[";
  bool negate = *i < glob.size() && glob[*i] == '!';
  if (negate) ++*i;
  out += negate ? "^/" : "";  // a negated class still never matches '/'
  bool empty = true;
  while (*i < glob.size() && (glob[*i] != ']' || empty)) {
    if (glob[*i] == ']' || glob[*i] == '/') return std::nullopt;  // "[]" and "[/]": Java refuses
    std::string_view lo = glob.substr(*i, Utf8Length(glob, *i));
    *i += lo.size();
    bool range = *i + 1 < glob.size() && glob[*i] == '-' && glob[*i + 1] != ']';
    if (range) {
      std::string_view hi = glob.substr(*i + 1, Utf8Length(glob, *i + 1));
      if (hi == "/") return std::nullopt;
      out += ClassRange(lo, hi);
      *i += 1 + hi.size();
    } else {
      out += ClassChar(lo);
    }
    empty = false;
  }
  if (*i >= glob.size()) return std::nullopt;  // unclosed
  ++*i;
  return out + "]";
}

std::optional<std::string> GlobToRegex(std::string_view glob) {
  std::string out;
  bool in_group = false;
  for (size_t i = 0; i < glob.size();) {
    char c = glob[i++];
    if (c == '\\') {
      if (i == glob.size()) return std::nullopt;
      size_t n = Utf8Length(glob, i);
      out += RE2::QuoteMeta(glob.substr(i, n));
      i += n;
    } else if (c == '[') {
      std::optional<std::string> cls = GlobClass(glob, &i);
      if (!cls) return std::nullopt;
      out += *cls;
    } else if (c == '{') {
      if (in_group) return std::nullopt;  // "Groups can't be nested"
      out += "(?:(?:";
      in_group = true;
    } else if (c == '}' && in_group) {
      out += "))";
      in_group = false;
    } else if (c == ',' && in_group) {
      out += ")|(?:";
    } else if (c == '*') {
      bool two = i < glob.size() && glob[i] == '*';
      out += two ? ".*" : "[^/]*";
      i += two ? 1 : 0;
    } else if (c == '?') {
      out += "[^/]";
    } else {
      out += RE2::QuoteMeta(std::string_view(&c, 1));
    }
  }
  if (in_group) return std::nullopt;
  return out;
}

RE2::Options QuietOptions() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_dot_nl(true);  // `**` crosses everything, newlines in names included
  return options;
}

// A GitFilter's globs compiled once, for matching many names (every changed file).
class CompiledGitFilter {
 public:
  explicit CompiledGitFilter(const spec::GitFilter& filter)
      : includes_(Compile(filter.includes)), excludes_(Compile(filter.excludes)) {}

  bool Match(std::string_view name) const {
    // CodePipeline: excludes take priority over includes.
    if (AnyMatches(excludes_, name)) return false;
    return includes_.empty() || AnyMatches(includes_, name);
  }

 private:
  // A malformed glob stays in the list as nullptr: it matches nothing, but an includes list
  // holding only malformed globs still is not "no includes".
  static std::vector<std::unique_ptr<RE2>> Compile(const std::vector<std::string>& globs) {
    std::vector<std::unique_ptr<RE2>> out;
    for (const std::string& glob : globs) {
      std::optional<std::string> regex = GlobToRegex(glob);
      auto re = regex ? std::make_unique<RE2>(*regex, QuietOptions()) : nullptr;
      out.push_back(re && re->ok() ? std::move(re) : nullptr);
    }
    return out;
  }
  static bool AnyMatches(const std::vector<std::unique_ptr<RE2>>& res, std::string_view name) {
    return std::any_of(res.begin(), res.end(), [&](const std::unique_ptr<RE2>& re) {
      return re && RE2::FullMatch(name, *re);
    });
  }

  std::vector<std::unique_ptr<RE2>> includes_, excludes_;
};

// ---- pipelines ----

// Pull request events as CodePipeline's trigger filter names them.
std::string_view PipelinePullRequestEvent(std::string_view codebuild_event) {
  if (codebuild_event == "PULL_REQUEST_CREATED" || codebuild_event == "PULL_REQUEST_REOPENED") {
    return "OPEN";
  }
  if (codebuild_event == "PULL_REQUEST_UPDATED") return "UPDATED";
  // CodePipeline: CLOSED covers merged pull requests too.
  if (codebuild_event == "PULL_REQUEST_CLOSED" || codebuild_event == "PULL_REQUEST_MERGED") {
    return "CLOSED";
  }
  return "";
}

bool MatchFilePaths(const spec::GitFilter& filter, const std::vector<std::string>& files) {
  CompiledGitFilter compiled(filter);
  return std::any_of(files.begin(), files.end(),
                     [&](const std::string& file) { return compiled.Match(file); });
}

bool Passes(const std::optional<spec::GitFilter>& filter, std::string_view name) {
  return !filter || MatchGitFilter(*filter, name);
}

bool MatchPushFilter(const spec::GitPushFilter& f, const WebhookEvent& e) {
  if (f.tags) return e.IsTag() && MatchGitFilter(*f.tags, e.TagName());
  if (!f.branches || !e.IsBranch()) return false;
  return MatchGitFilter(*f.branches, e.BranchName()) &&
         (!f.file_paths || MatchFilePaths(*f.file_paths, e.changed_files));
}

bool MatchPullRequestFilter(const spec::GitPullRequestFilter& f, const WebhookEvent& e) {
  std::string_view event = PipelinePullRequestEvent(e.codebuild_event);
  bool event_ok = !event.empty() && (f.events.empty() || std::find(f.events.begin(), f.events.end(),
                                                                   event) != f.events.end());
  return event_ok && Passes(f.branches, e.BaseBranchName()) &&
         (!f.file_paths || MatchFilePaths(*f.file_paths, e.changed_files));
}

bool IsFalse(std::optional<std::string> value) {
  if (!value) return false;
  std::string v = *value;
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return v == "false";
}

// CodePipeline without triggers: change detection starts the action on pushes to BranchName.
// CodeCommit has no DetectChanges; Kiln's webhook stands in for its EventBridge rule.
bool MatchDefault(const spec::Action& action, const WebhookEvent& e, bool honour_detect) {
  if (honour_detect && IsFalse(action.Config("DetectChanges"))) return false;
  return e.kind == WebhookKind::kPush && e.IsBranch() &&
         e.BranchName() == action.Config("BranchName").value_or("");
}

bool MatchTrigger(const spec::Trigger& t, const spec::Action& action, const WebhookEvent& e) {
  // CodePipeline: a trigger without filters starts on any push to the default branch.
  if (t.push.empty() && t.pull_request.empty()) return MatchDefault(action, e, false);
  if (e.kind == WebhookKind::kPush) {
    return std::any_of(t.push.begin(), t.push.end(),
                       [&](const spec::GitPushFilter& f) { return MatchPushFilter(f, e); });
  }
  return std::any_of(
      t.pull_request.begin(), t.pull_request.end(),
      [&](const spec::GitPullRequestFilter& f) { return MatchPullRequestFilter(f, e); });
}

// Whether the event starts one source action, given the pipeline's triggers.
bool MatchSourceAction(const spec::Pipeline& p, const spec::Action& action, const WebhookEvent& e) {
  bool has_trigger = false, matched = false;
  for (const spec::Trigger& t : p.triggers) {
    if (t.source_action_name != action.name) continue;
    has_trigger = true;
    matched = matched || MatchTrigger(t, action, e);
  }
  return has_trigger ? matched : MatchDefault(action, e, true);
}

std::string Describe(const WebhookEvent& e) {
  if (e.kind == WebhookKind::kPush) return "push to " + e.head_ref;
  return e.codebuild_event + " of pull request #" + std::to_string(e.pull_request_number) +
         " into " + e.base_ref;
}

// The event's reason to start nothing at all, or "".
std::string NothingToStart(const WebhookEvent& e) {
  if (e.kind == WebhookKind::kPing) return "ping starts nothing";
  if (e.kind == WebhookKind::kIgnored) return "ignored: " + e.ignored_reason;
  if (e.deleted) return "deletion of " + e.head_ref + " starts nothing";
  return "";
}

// ---- CodeBuild filter groups ----

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool EventListed(std::string_view list, std::string_view event) {
  while (true) {
    size_t comma = list.find(',');
    if (Trim(list.substr(0, comma)) == event) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

void Note(std::string* error, std::string message) {
  if (error && error->empty()) *error = std::move(message);
}

// Whether the filter's pattern matches the event, before exclude_matched_pattern; nullopt
// when the pattern cannot be used (then the filter fails even when inverted).
std::optional<bool> FilterMatches(const spec::ProjectWebhook::Filter& f, const WebhookEvent& e,
                                  std::string* error) {
  if (f.type == "EVENT") return EventListed(f.pattern, e.codebuild_event);
  RE2 re(f.pattern, QuietOptions());
  if (!re.ok()) {
    Note(error, f.type + " pattern '" + f.pattern + "' is not a valid regex: " + re.error());
    return std::nullopt;
  }
  auto search = [&](std::string_view value) { return RE2::PartialMatch(value, re); };
  if (f.type == "HEAD_REF") return search(e.head_ref);
  if (f.type == "BASE_REF") return search(e.base_ref);
  if (f.type == "COMMIT_MESSAGE") return search(e.commit_message);
  if (f.type == "ACTOR_ACCOUNT_ID") return search(e.actor_account_id);
  if (f.type == "FILE_PATH") {
    return std::any_of(e.changed_files.begin(), e.changed_files.end(), search);
  }
  Note(error, "filter type '" + f.type + "' is not supported");
  return std::nullopt;
}

bool FilterPasses(const spec::ProjectWebhook::Filter& f, const WebhookEvent& e,
                  std::span<const std::string_view> unknown, std::string* error) {
  if (std::find(unknown.begin(), unknown.end(), f.type) != unknown.end()) return true;
  // CodeBuild: BASE_REF works with pull request events only.
  if (f.type == "BASE_REF" && !e.IsPullRequest()) return false;
  std::optional<bool> matches = FilterMatches(f, e, error);
  return matches && *matches != f.exclude_matched_pattern;
}

bool GroupPasses(const std::vector<spec::ProjectWebhook::Filter>& group, const WebhookEvent& e,
                 std::span<const std::string_view> unknown, std::string* error) {
  bool has_event =
      std::any_of(group.begin(), group.end(), [](const auto& f) { return f.type == "EVENT"; });
  if (!has_event) return false;  // CodeBuild: each group needs an EVENT filter
  return std::all_of(group.begin(), group.end(),
                     [&](const auto& f) { return FilterPasses(f, e, unknown, error); });
}

bool AnyGroupPasses(const spec::ProjectWebhook& webhook, const WebhookEvent& e,
                    std::span<const std::string_view> unknown, std::string* error) {
  if (e.codebuild_event.empty() || e.deleted) return false;
  return std::any_of(webhook.filter_groups.begin(), webhook.filter_groups.end(),
                     [&](const auto& group) { return GroupPasses(group, e, unknown, error); });
}

}  // namespace

bool CodePipelineGlobMatch(std::string_view pattern, std::string_view text) {
  std::optional<std::string> regex = GlobToRegex(pattern);
  if (!regex) return false;
  RE2 re(*regex, QuietOptions());
  return re.ok() && RE2::FullMatch(text, re);
}

bool MatchGitFilter(const spec::GitFilter& filter, std::string_view name) {
  return CompiledGitFilter(filter).Match(name);
}

std::string SourceActionConnection(const spec::Action& action) {
  const std::string& provider = action.type.provider;
  if (provider == "CodeStarSourceConnection") return action.Config("ConnectionArn").value_or("");
  if (provider == "Git") return action.Config("ConnectionName").value_or("");
  if (provider == "CodeCommit") return action.Config("RepositoryName").value_or("");
  return "";
}

SameConnection SameConnectionIn(const spec::KilnConfig& config, std::string webhook_connection) {
  return [&config, hook = std::move(webhook_connection)](std::string_view action_connection) {
    if (action_connection.empty()) return false;
    const spec::Connection* a = config.FindConnection(action_connection);
    const spec::Connection* b = config.FindConnection(hook);
    return a && b ? a == b : action_connection == hook;
  };
}

TriggerMatch MatchPipelineTriggers(const spec::Pipeline& pipeline, const WebhookEvent& event,
                                   const SameConnection& same_connection) {
  TriggerMatch out;
  out.reason = NothingToStart(event);
  if (!out.reason.empty() || pipeline.stages.empty()) return out;
  bool on_connection = false;
  for (const spec::Action& action : pipeline.stages.front().actions) {
    if (!spec::IsSourceAction(action) || !same_connection(SourceActionConnection(action))) {
      continue;
    }
    on_connection = true;
    if (MatchSourceAction(pipeline, action, event)) out.source_actions.push_back(action.name);
  }
  std::string what = Describe(event);
  if (!on_connection) {
    out.reason = "no source action of pipeline '" + pipeline.name + "' uses this connection";
  } else if (out.matched()) {
    out.reason = what + " starts source action '" + out.source_actions.front() + "'" +
                 (out.source_actions.size() > 1 ? " and others" : "");
  } else {
    out.reason = what + " matches no trigger of pipeline '" + pipeline.name + "'";
  }
  return out;
}

TriggerMatch MatchPipelineTriggers(const spec::Pipeline& pipeline, const WebhookEvent& event,
                                   std::string_view connection_name_or_arn) {
  return MatchPipelineTriggers(pipeline, event, [&](std::string_view action_connection) {
    return !action_connection.empty() && action_connection == connection_name_or_arn;
  });
}

bool MatchFilterGroups(const spec::ProjectWebhook& webhook, const WebhookEvent& event,
                       std::string* error) {
  return AnyGroupPasses(webhook, event, {}, error);
}

bool CouldMatchFilterGroups(const spec::ProjectWebhook& webhook, const WebhookEvent& probe,
                            std::span<const std::string_view> unknown_types) {
  return AnyGroupPasses(webhook, probe, unknown_types, nullptr);
}

}  // namespace kiln::source
