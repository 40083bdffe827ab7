// `kiln service list|status|deploy|rollback|scale|logs`: services run by `kiln serve` (the
// process provider lives in the server), so these always act through its API (--server URL or
// $KILN_SERVER).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "base/files.h"
#include "base/json_text.h"
#include "cli/api_client.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/remote_commands.h"

namespace kiln::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct ServiceArgs {
  std::string name, image_definitions;
  int64_t revision = 0;
  int desired = -1;
  bool wait = false;
  std::string task;  // logs: one task (id or prefix)
  int tail = -1;     // logs: lines per task (-1: all the server sends)
  bool follow = false;
};

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "kiln: error: %s\n", message.c_str());
  return code;
}

std::optional<json> Call(const ApiClient& api, const std::string& method, const std::string& path,
                         const json& body, int* code) {
  auto r = api.Call(method, path, body.is_null() ? "" : base::JsonText(body));
  if (!r.ok()) {
    *code = Fail(r.status().message(), kExitInternal);
    return std::nullopt;
  }
  if (r->status >= 300) {
    *code = Fail(ErrorMessage(*r), ExitCodeFor(*r));
    return std::nullopt;
  }
  return r->Json();
}

void PrintService(const json& s) {
  std::printf("service %s: %s, desired %d, running %d, pending %d, revision %s\n",
              s.value("serviceName", "").c_str(), s.value("status", "").c_str(),
              s.value("desiredCount", 0), s.value("runningCount", 0), s.value("pendingCount", 0),
              base::JsonText(s.value("taskDefinition", json(0))).c_str());
  if (s.contains("statusReason"))
    std::printf("  %s\n", s["statusReason"].get<std::string>().c_str());
  if (s.contains("loadBalancer")) {
    std::printf("  load balancer: %s\n", s["loadBalancer"].value("listen", "").c_str());
  }
  std::printf("  %-10s %-8s %-24s %-9s %-10s %s\n", "DEPLOYMENT", "REVISION", "ROLLOUT", "RUNNING",
              "FAILED", "REASON");
  for (const auto& d : s.value("deployments", json::array())) {
    std::printf("  %-10.10s %-8s %-24s %-9d %-10d %s\n", d.value("id", "").c_str(),
                base::JsonText(d["taskDefinition"]).c_str(),
                (d.value("status", "") + "/" + d.value("rolloutState", "")).c_str(),
                d.value("runningCount", 0), d.value("failedTasks", 0),
                d.value("rolloutStateReason", "").c_str());
  }
  std::printf("  %-10s %-8s %-6s %-9s %-10s %s\n", "TASK", "REVISION", "PORT", "STATUS", "HEALTH",
              "PID");
  for (const auto& t : s.value("tasks", json::array())) {
    std::printf("  %-10.10s %-8s %-6d %-9s %-10s %d\n", t.value("taskId", "").c_str(),
                base::JsonText(t["revision"]).c_str(), t.value("port", 0),
                t.value("lastStatus", "").c_str(), t.value("healthStatus", "").c_str(),
                t.value("pid", 0));
  }
  int shown = 0;
  for (const auto& e : s.value("events", json::array())) {
    if (shown++ == 5) break;
    std::printf("  %s %s\n", e.value("createdAt", "").c_str(), e.value("message", "").c_str());
  }
}

int Deploy(const ApiClient& api, const ServiceArgs& a, const GlobalOptions& g,
           const std::string& verb) {
  json body = json::object();
  std::string path = "/api/v1/services/" + a.name + "/" + verb;
  if (verb == "deployments") {
    if (a.revision > 0) {
      body["revision"] = a.revision;
    } else if (!a.image_definitions.empty()) {
      auto text = base::ReadFile(a.image_definitions, 1 << 20);
      if (!text.ok()) return Fail(text.status().message(), kExitUsage);
      json doc = json::parse(*text, nullptr, false);
      if (doc.is_array())
        body["imageDefinitions"] = doc;
      else if (doc.is_object())
        body["imageDetail"] = doc;
      else
        return Fail(a.image_definitions + ": not imagedefinitions.json or imageDetail.json",
                    kExitUsage);
      // Relative bundle paths are found beside the file (the server runs on this machine).
      body["artifactDir"] = fs::absolute(a.image_definitions).parent_path().string();
    } else {
      return Fail("give --image-definitions FILE or --revision N", kExitUsage);
    }
  }
  int code = kExitOk;
  auto r = Call(api, "POST", path + (a.wait ? "?wait=true" : ""), body, &code);
  if (!r) return code;
  if (g.json) {
    std::printf("%s\n", r->dump(2).c_str());
  } else if (a.wait) {
    std::printf("deployment %s of service %s: %s%s\n", r->value("deploymentId", "").c_str(),
                a.name.c_str(), r->value("rolloutState", "").c_str(),
                r->value("rolloutStateReason", "").empty()
                    ? ""
                    : (" (" + r->value("rolloutStateReason", "") + ")").c_str());
  } else {
    std::printf("deployment %s of service %s started\n", r->value("deploymentId", "").c_str(),
                a.name.c_str());
  }
  return !a.wait || r->value("rolloutState", "") == "COMPLETED" ? kExitOk : kExitFailed;
}

// Percent-encodes everything but RFC 3986's unreserved characters: the server judges the
// value as typed.
std::string QueryValue(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

std::string LogsPath(const ServiceArgs& a) {
  std::string path = "/api/v1/services/" + a.name + "/logs";
  std::vector<std::string> query;
  if (!a.task.empty()) query.push_back("task=" + QueryValue(a.task));
  if (a.tail >= 0) query.push_back("tail=" + std::to_string(a.tail));
  for (size_t i = 0; i < query.size(); ++i) path += (i == 0 ? "?" : "&") + query[i];
  return path;
}

// Prints the task logs, each line after its task's short id; -f follows them until Ctrl-C
// (or, with --task, until that task has stopped).
int Logs(const ApiClient& api, const ServiceArgs& a) {
  if (!a.follow) {
    auto r = api.Call("GET", LogsPath(a));
    if (!r.ok()) return Fail(r.status().message(), kExitInternal);
    if (r->status != 200) return Fail(ErrorMessage(*r), ExitCodeFor(*r));
    std::fwrite(r->body.data(), 1, r->body.size(), stdout);
    if (r->headers.contains("x-kiln-log-truncated"))
      std::fprintf(stderr, "kiln: older lines were left out; see them with --tail N\n");
    return kExitOk;
  }
  std::string end;
  auto st = PrintLogStream(api, LogsPath(a), &end);
  if (!st.ok())
    return Fail(st.message(),
                st.kind() == base::ErrorKind::kInvalidInput ? kExitUsage : kExitInternal);
  json ended = json::parse(end, nullptr, false);
  std::string error = ended.is_object() ? ended.value("error", "") : "";
  return error.empty() ? kExitOk : Fail(error, kExitInternal);
}

int RunService(const std::string& which, const ServiceArgs& a, const GlobalOptions& g) {
  if (ServerUrl(g).empty()) {
    return Fail("kiln service acts through a running server: give --server URL or set KILN_SERVER",
                kExitUsage);
  }
  auto api = ApiClient::FromGlobal(g);
  if (!api.ok()) return Fail(api.status().message(), kExitUsage);
  int code = kExitOk;
  if (which == "logs") return Logs(*api, a);
  if (which == "list" || which == "status") {
    auto r = Call(*api, "GET", "/api/v1/services" + (which == "status" ? "/" + a.name : ""),
                  nullptr, &code);
    if (!r) return code;
    if (g.json) {
      std::printf("%s\n", r->dump(2).c_str());
    } else if (which == "status") {
      PrintService(*r);
    } else {
      for (const auto& s : r->value("services", json::array())) {
        std::printf("%-30s %-8s desired %d running %d revision %s\n",
                    s.value("serviceName", "").c_str(), s.value("status", "").c_str(),
                    s.value("desiredCount", 0), s.value("runningCount", 0),
                    base::JsonText(s.value("taskDefinition", json(0))).c_str());
      }
    }
    return kExitOk;
  }
  if (which == "scale") {
    auto r = Call(*api, "POST", "/api/v1/services/" + a.name + "/scale",
                  {{"desiredCount", a.desired}}, &code);
    if (!r) return code;
    std::printf("service %s: desired count %d\n", a.name.c_str(), a.desired);
    return kExitOk;
  }
  return Deploy(*api, a, g, which == "deploy" ? "deployments" : "rollback");
}

}  // namespace

CommandSpec ServiceCommand() {
  return {"service", "services run by kiln serve: list, status, deploy, rollback, scale, logs",
          [](CLI::App* sub) {
            auto a = std::make_shared<ServiceArgs>();
            auto which = std::make_shared<std::string>();
            sub->require_subcommand(1);
            AddVerb(sub, "list", "list services", which.get());
            AddVerb(sub, "status", "a service: deployments, tasks, events", which.get())
                ->add_option("service", a->name)
                ->required();
            auto* deploy = AddVerb(sub, "deploy", "roll out a new revision", which.get());
            deploy->add_option("service", a->name)->required();
            deploy->add_option("--image-definitions", a->image_definitions,
                               "imagedefinitions.json or imageDetail.json");
            deploy->add_option("--revision", a->revision, "an existing revision number");
            auto* rollback =
                AddVerb(sub, "rollback", "go back to the previous good revision", which.get());
            rollback->add_option("service", a->name)->required();
            for (auto* s : {deploy, rollback}) {
              s->add_flag("--wait", a->wait, "wait for a steady state (exit 1 if it fails)");
            }
            auto* scale = AddVerb(sub, "scale", "set the desired count", which.get());
            scale->add_option("service", a->name)->required();
            scale->add_option("count", a->desired)->required()->check(CLI::Range(0, 1000));
            auto* logs = AddVerb(sub, "logs", "its tasks' output (-f: follow it)", which.get());
            logs->add_option("service", a->name)->required();
            logs->add_flag("-f,--follow", a->follow, "follow the logs until Ctrl-C");
            logs->add_option("--task", a->task, "only this task (its id or a prefix of it)");
            logs->add_option("--tail", a->tail, "only the last N lines of each task")
                ->check(CLI::Range(0, 10000));
            return [a, which](const GlobalOptions& g) { return RunService(*which, *a, g); };
          }};
}

}  // namespace kiln::cli
