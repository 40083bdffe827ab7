// `kiln pipeline ...` and `kiln logs` through a running server.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "base/ids.h"
#include "base/json_text.h"
#include "cli/app.h"
#include "cli/pipeline_output.h"
#include "cli/remote_commands.h"
#include "pipeline/execution_status.h"
#include "pipeline/stage_status.h"

namespace kiln::cli {
namespace {

using nlohmann::json;

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "kiln: error: %s\n", message.c_str());
  return code;
}

// Calls the API; on failure prints the server's message and sets *code.
std::optional<json> CallJson(const ApiClient& api, const std::string& method,
                             const std::string& path, const json& body, int* code) {
  auto r = api.Call(method, path, body.is_null() ? "" : base::JsonText(body));
  if (!r.ok()) {
    *code = Fail(r.status().message(), kExitInternal);
    return std::nullopt;
  }
  if (r->status >= 300) {
    *code = Fail(ErrorMessage(*r), ExitCodeFor(*r));
    return std::nullopt;
  }
  json j = r->Json();
  if (j.is_discarded()) {
    *code = Fail("the server's answer is not JSON", kExitInternal);
    return std::nullopt;
  }
  return j;
}

void PrintJson(const json& j) { std::printf("%s\n", base::JsonText(j, 2).c_str()); }

bool Terminal(const std::string& status) {
  std::optional<pipeline::ExecutionStatus> s = pipeline::ParseExecutionStatus(status);
  return s && pipeline::IsFinished(*s);
}

int ShowExecution(const ApiClient& api, const std::string& id, const GlobalOptions& g) {
  int code = kExitOk;
  auto e = CallJson(api, "GET", "/api/v1/executions/" + id, nullptr, &code);
  if (!e) return code;
  if (g.json) {
    PrintJson(*e);
  } else {
    std::string table = ExecutionTable(*e, UseColor(g, STDOUT_FILENO));
    std::fwrite(table.data(), 1, table.size(), stdout);
  }
  return e->value("status", "") == "Succeeded" ? kExitOk : kExitFailed;
}

int History(const ApiClient& api, const PipelineArgs& a, const GlobalOptions& g) {
  int code = kExitOk;
  auto list = CallJson(
      api, "GET", "/api/v1/pipelines/" + a.target + "/executions?limit=" + std::to_string(a.limit),
      nullptr, &code);
  if (!list) return code;
  if (g.json) {
    PrintJson(*list);
    return kExitOk;
  }
  std::printf("%-36s  %-11s  %-24s  %s\n", "EXECUTION", "STATUS", "STARTED", "SUMMARY");
  for (const auto& e : list->value("pipelineExecutionSummaries", json::array())) {
    std::printf("%-36s  %-11s  %-24s  %s\n", e.value("pipelineExecutionId", "").c_str(),
                e.value("status", "").c_str(), e.value("startTime", "").c_str(),
                e.value("statusSummary", "").c_str());
  }
  return kExitOk;
}

int List(const ApiClient& api, const GlobalOptions& g) {
  int code = kExitOk;
  auto list = CallJson(api, "GET", "/api/v1/pipelines", nullptr, &code);
  if (!list) return code;
  json out = json::array();
  for (const auto& p : list->value("pipelines", json::array())) {
    std::string name = p.value("name", "");
    auto state = CallJson(api, "GET", "/api/v1/pipelines/" + name + "/state", nullptr, &code);
    std::string status =
        state ? state->value("latestExecution", json::object()).value("status", "") : "";
    out.push_back({{"name", name}, {"latestExecutionStatus", status}});
  }
  if (g.json) {
    PrintJson({{"pipelines", out}});
    return kExitOk;
  }
  for (const auto& p : out) {
    std::printf("%-30s %s\n", p["name"].get<std::string>().c_str(),
                p["latestExecutionStatus"].get<std::string>().c_str());
  }
  return kExitOk;
}

int Start(const ApiClient& api, const PipelineArgs& a, const GlobalOptions& g) {
  json body = json::object();
  json vars = json::array();
  for (const auto& kv : a.variables) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail("--variable expects NAME=VALUE, got '" + kv + "'", kExitUsage);
    }
    vars.push_back({{"name", kv.substr(0, eq)}, {"value", kv.substr(eq + 1)}});
  }
  body["variables"] = vars;
  if (!a.revision.empty()) {
    body["sourceRevisions"] = {{{"revisionType", "COMMIT_ID"}, {"revisionValue", a.revision}}};
  }
  int code = kExitOk;
  auto started =
      CallJson(api, "POST", "/api/v1/pipelines/" + a.target + "/executions", body, &code);
  if (!started) return code;
  std::string id = started->value("pipelineExecutionId", "");
  if (a.detach) {
    if (g.json)
      PrintJson(*started);
    else
      std::printf("execution %s queued\n", id.c_str());
    return kExitOk;
  }
  return FollowExecution(api, id, started->value("eventId", uint64_t{0}), g);
}

int Stop(const ApiClient& api, const PipelineArgs& a) {
  int code = kExitOk;
  auto r = CallJson(api, "POST", "/api/v1/executions/" + a.target + "/stop",
                    {{"abandon", a.abandon}}, &code);
  if (!r) return code == kExitUsage ? kExitFailed : code;
  std::printf("execution %s: Stopping (%s)\n", a.target.c_str(),
              a.abandon ? "abandoning in-progress actions" : "waiting for in-progress actions");
  return kExitOk;
}

// verb: disable-transition | enable-transition (of the stage's inbound transition).
int ChangeTransition(const ApiClient& api, const PipelineArgs& a, const std::string& verb,
                     const GlobalOptions& g) {
  int code = kExitOk;
  json body = {{"transitionType", "Inbound"}};
  if (verb == "disable-transition") body["reason"] = a.reason;
  auto r =
      CallJson(api, "POST", "/api/v1/pipelines/" + a.target + "/stages/" + a.stage + "/" + verb,
               body, &code);
  if (!r) return code;
  if (g.json) {
    PrintJson(*r);
    return kExitOk;
  }
  std::printf("%s/%s: inbound transition %s\n", a.target.c_str(), a.stage.c_str(),
              verb == "enable-transition" ? "enabled" : ("disabled (" + a.reason + ")").c_str());
  return kExitOk;
}

int Decide(const ApiClient& api, const PipelineArgs& a, const std::string& verb) {
  int code = kExitOk;
  json body = {{"stageName", a.stage}, {"actionName", a.action}, {"summary", a.summary}};
  if (!a.approval_token.empty()) body["token"] = a.approval_token;
  auto r = CallJson(api, "POST", "/api/v1/executions/" + a.target + "/" + verb, body, &code);
  if (!r) return code == kExitUsage ? kExitFailed : code;
  std::printf("%s %s/%s of execution %s\n", verb == "approve" ? "Approved" : "Rejected",
              a.stage.c_str(), a.action.c_str(), a.target.c_str());
  return kExitOk;
}

}  // namespace

namespace {

// Prints a build's log, each line prefixed (e.g. "[bake] "), until the log ends.
void TailBuildLog(const ApiClient& api, const std::string& build, const std::string& prefix,
                  int out_fd, std::mutex& print_mu) {
  (void)api.Stream("/api/v1/builds/" + build + "/log", "", [&](const SseEvent& e) {
    if (e.event == "end") return false;
    std::string text;
    size_t start = 0;
    while (start <= e.data.size()) {
      size_t nl = e.data.find('\n', start);
      if (nl == std::string::npos) nl = e.data.size();
      text += prefix + e.data.substr(start, nl - start) + "\n";
      start = nl + 1;
    }
    std::lock_guard lock(print_mu);
    [[maybe_unused]] ssize_t n = ::write(out_fd, text.data(), text.size());
    return true;
  });
}

// An action's status, or a stage's (a stopped stage ends its actions' lines too).
bool ActionEnded(const std::string& status) {
  std::optional<pipeline::ActionStatus> a = pipeline::ParseActionStatus(status);
  if (a)
    return *a != pipeline::ActionStatus::kInProgress && *a != pipeline::ActionStatus::kNotStarted;
  return status == "Stopped";
}

}  // namespace

int FollowExecution(const ApiClient& api, const std::string& id, uint64_t after_event,
                    const GlobalOptions& g) {
  int out_fd = g.json ? STDERR_FILENO : STDOUT_FILENO;
  LiveLines live(out_fd, UseColor(g, out_fd));
  std::mutex print_mu;
  // The log tail of each action's build, by action name. An action's end is printed only
  // after its whole log: each action's log stays together, before what comes next.
  std::map<std::string, std::thread> tails;
  std::set<std::string> followed;
  auto finish_tail = [&](const std::string& action) {
    auto it = tails.find(action);
    if (it == tails.end()) return;
    if (it->second.joinable()) it->second.join();
    tails.erase(it);
  };
  auto status_now = [&] {
    auto r = api.Call("GET", "/api/v1/executions/" + id);
    return r.ok() && r->status == 200 ? r->Json().value("status", "") : std::string();
  };
  auto st = api.Stream(
      "/api/v1/events?execution=" + id, std::to_string(after_event), [&](const SseEvent& ev) {
        if (ev.event == "heartbeat") return !Terminal(status_now());
        json d = json::parse(ev.data, nullptr, false);
        if (!d.is_object()) return true;
        if (ev.event == "execution") {
          std::string status = d.value("status", "");
          if (Terminal(status)) return false;  // printed below, after the builds' logs
          if (!status.empty()) live.OnExecution(id, status, d.value("statusSummary", ""));
          return true;
        }
        if (ev.event == "stage") {
          std::lock_guard lock(print_mu);
          live.OnStage(d.value("stageName", ""), d.value("status", ""));
        }
        if (ev.event == "action") {
          std::string status = d.value("status", "");
          if (ActionEnded(status)) finish_tail(d.value("actionName", ""));
          std::lock_guard lock(print_mu);
          live.OnAction(d.value("stageName", ""), d.value("actionName", ""), status,
                        d.value("summary", ""));
        }
        std::string build = d.value("id", "");
        if (ev.event == "build" && !build.empty() && followed.insert(build).second) {
          std::string action = d.value("actionName", "");
          finish_tail(action);  // a retried action's earlier build
          tails[action] =
              std::thread([&api, build, prefix = "[" + action + "] ", out_fd, &print_mu] {
                TailBuildLog(api, build, prefix, out_fd, print_mu);
              });
        }
        return true;
      });
  for (auto& [action, t] : tails) {
    if (t.joinable()) t.join();
  }
  if (!st.ok()) return Fail(st.message(), kExitInternal);
  auto final_state = api.Call("GET", "/api/v1/executions/" + id);
  if (final_state.ok() && final_state->status == 200) {
    json e = final_state->Json();
    live.OnExecution(id, e.value("status", ""), e.value("statusSummary", ""));
  }
  return ShowExecution(api, id, g);
}

int RemoteLogs(const ApiClient& api, const std::string& build_id, bool follow) {
  if (!follow) {
    auto r = api.Call("GET", "/api/v1/builds/" + build_id + "/log");
    if (!r.ok()) return Fail(r.status().message(), kExitInternal);
    if (r->status != 200) return Fail(ErrorMessage(*r), ExitCodeFor(*r));
    std::fwrite(r->body.data(), 1, r->body.size(), stdout);
    return kExitOk;
  }
  std::string end;
  auto st = PrintLogStream(api, "/api/v1/builds/" + build_id + "/log", &end);
  if (!st.ok())
    return Fail(st.message(), st.kind() == base::ErrorKind::kIo ? kExitInternal : kExitUsage);
  json ended = json::parse(end, nullptr, false);
  std::string status = ended.is_object() ? ended.value("buildStatus", "") : "";
  return status == "SUCCEEDED" || status.empty() ? kExitOk : kExitFailed;
}

base::Status PrintLogStream(const ApiClient& api, const std::string& path, std::string* end) {
  end->clear();
  return api.Stream(path, "", [&](const SseEvent& e) {
    if (e.event == "end") {
      *end = e.data;
      return false;
    }
    std::string text = e.data + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
}

int RemotePipeline(const std::string& which, const PipelineArgs& a, const GlobalOptions& g) {
  auto api = ApiClient::FromGlobal(g);
  if (!api.ok()) return Fail(api.status().message(), kExitUsage);
  int code = kExitOk;
  if (which == "run") return Start(*api, a, g);
  if (which == "list") return List(*api, g);
  if (which == "history") return History(*api, a, g);
  if (which == "status") {
    return a.follow ? FollowExecution(*api, a.target, 0, g) : ShowExecution(*api, a.target, g);
  }
  if (which == "stop") return Stop(*api, a);
  if (which == "approve" || which == "reject") return Decide(*api, a, which);
  if (which == "disable-transition" || which == "enable-transition") {
    return ChangeTransition(*api, a, which, g);
  }
  if (which == "show") {
    auto p = CallJson(*api, "GET", "/api/v1/pipelines/" + a.target, nullptr, &code);
    if (!p) return code;
    PrintJson({{"pipeline", (*p)["pipeline"]}});
    return kExitOk;
  }
  if (which == "retry") {
    auto r = CallJson(*api, "POST", "/api/v1/executions/" + a.target + "/retry",
                      {{"stageName", a.stage}, {"retryMode", a.mode}}, &code);
    if (!r) return code == kExitUsage ? kExitFailed : code;
    return a.detach ? kExitOk
                    : FollowExecution(*api, a.target, r->value("eventId", uint64_t{0}), g);
  }
  return Fail("pipeline " + which + " does not work through a server", kExitUsage);
}

}  // namespace kiln::cli
