// `kiln pipeline run|list|show|history|status|stop|retry|approve|reject|import|
// disable-transition|enable-transition`.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "base/duration.h"
#include "base/files.h"
#include "base/ids.h"
#include "base/json_text.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/local_registry.h"
#include "cli/pipeline_args.h"
#include "cli/pipeline_loader.h"
#include "cli/pipeline_output.h"
#include "cli/remote_commands.h"
#include "exec/process.h"
#include "pipeline/engine.h"
#include "pipeline/execution_control.h"
#include "pipeline/liveness.h"
#include "pipeline/state_json.h"
#include "server/api_intake.h"
#include "spec/cloudformation.h"
#include "store/store.h"

namespace kiln::cli {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;

int Fail(const std::string& message, int code = kExitUsage) {
  std::fprintf(stderr, "kiln: error: %s\n", message.c_str());
  return code;
}

void PrintJson(const json& j) { std::printf("%s\n", base::JsonText(j, 2).c_str()); }

// Opens the store and marks executions whose process died as Failed.
std::unique_ptr<store::Store> OpenStore(const GlobalOptions& g) {
  fs::path dir = fs::absolute(StateDir(g));
  std::error_code ec;
  fs::create_directories(dir, ec);
  auto s = store::Store::Open((dir / "kiln.db").string());
  if (!s.ok()) {
    std::fprintf(stderr, "kiln: error: %s\n", s.status().message().c_str());
    return nullptr;
  }
  auto reconciled = pipeline::ReconcileDeadExecutions(**s);
  if (reconciled.ok() && *reconciled > 0) {
    std::fprintf(stderr, "kiln: %d interrupted execution(s) marked Failed\n", *reconciled);
  }
  return std::move(*s);
}

bool SplitPairs(const std::vector<std::string>& in, std::map<std::string, std::string>* out,
                const char* flag) {
  for (const auto& kv : in) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      Fail(std::string(flag) + " expects NAME=VALUE, got '" + kv + "'");
      return false;
    }
    (*out)[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return true;
}

int64_t ApprovalTimeout() {
  const char* env = std::getenv("KILN_APPROVAL_TIMEOUT");
  if (!env) return 7LL * 24 * 3600 * 1000;
  auto d = base::ParseDuration(env);
  return d.ok() ? *d : 7LL * 24 * 3600 * 1000;
}

int ShowExecution(store::Store& store, const std::string& id, const GlobalOptions& g) {
  auto e = pipeline::ExecutionJson(store, id, pipeline::StoredDefinitions(store));
  if (!e.ok()) return Fail(e.status().message());
  if (g.json) {
    PrintJson(*e);
  } else {
    std::string table = ExecutionTable(*e, UseColor(g, STDOUT_FILENO));
    std::fwrite(table.data(), 1, table.size(), stdout);
  }
  return (*e)["status"] == "Succeeded" ? kExitOk : kExitFailed;
}

pipeline::Engine MakeEngine(const GlobalOptions& g, const std::optional<spec::KilnConfig>& config,
                            pipeline::ExecutionObserver* observer) {
  return pipeline::Engine({.state_dir = fs::absolute(StateDir(g)),
                           .config = config ? &*config : nullptr,
                           .observer = observer,
                           .console_fd = g.json ? STDERR_FILENO : STDOUT_FILENO,
                           .approval_timeout_ms = ApprovalTimeout()});
}

int Run(const PipelineArgs& a, const GlobalOptions& g) {
  std::optional<spec::KilnConfig> config;
  if (!LoadConfig(g, &config)) return kExitUsage;
  std::unique_ptr<registry::BuildRegistry> own_registry;  // stopped after the run
  if (config && !EnsureLocalRegistry(*config, fs::absolute(StateDir(g)),
                                     AnyContainerProject(*config), "pipeline", &own_registry)) {
    return kExitInternal;
  }
  auto loaded = LoadPipeline(a.target, config);
  if (!loaded) return kExitUsage;
  pipeline::StartOptions start{.revision = a.revision};
  if (!SplitPairs(a.variables, &start.variables, "--variable")) return kExitUsage;
  auto store = OpenStore(g);
  if (!store) return kExitInternal;
  auto version = store->SavePipeline(loaded->pipeline.name, loaded->definition_json);
  if (!version.ok()) return Fail(version.status().message(), kExitInternal);
  exec::BecomeSubreaper();
  LiveLines live(g.json ? STDERR_FILENO : STDOUT_FILENO, UseColor(g, STDOUT_FILENO));
  auto engine = MakeEngine(g, config, &live);
  auto id = engine.Run(loaded->pipeline, *version, start);
  if (!id.ok()) {
    return Fail(id.status().message(),
                id.status().kind() == base::ErrorKind::kInvalidInput ? kExitUsage : kExitInternal);
  }
  return ShowExecution(*store, *id, g);
}

int Retry(const PipelineArgs& a, const GlobalOptions& g) {
  std::optional<spec::KilnConfig> config;
  if (!LoadConfig(g, &config)) return kExitUsage;
  std::unique_ptr<registry::BuildRegistry> own_registry;  // stopped after the run
  if (config && !EnsureLocalRegistry(*config, fs::absolute(StateDir(g)),
                                     AnyContainerProject(*config), "pipeline", &own_registry)) {
    return kExitInternal;
  }
  auto store = OpenStore(g);
  if (!store) return kExitInternal;
  auto row = store->GetExecution(a.target);
  if (!row.ok() || !*row) return Fail("no execution " + a.target);
  auto def = store->GetPipeline((*row)->pipeline, (*row)->pipeline_version);
  if (!def.ok() || !*def) return Fail("the definition of " + (*row)->pipeline + " is missing");
  auto pipeline = ParseStored((*def)->definition);
  if (!pipeline) return Fail("the stored definition does not parse", kExitInternal);
  exec::BecomeSubreaper();
  LiveLines live(g.json ? STDERR_FILENO : STDOUT_FILENO, UseColor(g, STDOUT_FILENO));
  auto engine = MakeEngine(g, config, &live);
  auto st = engine.Retry(*pipeline, a.target, a.stage, a.mode);
  if (!st.ok())
    return Fail(st.message(), st.kind() == base::ErrorKind::kFailed ? kExitFailed : kExitUsage);
  return ShowExecution(*store, a.target, g);
}

int History(const PipelineArgs& a, const GlobalOptions& g) {
  auto store = OpenStore(g);
  if (!store) return kExitInternal;
  auto rows = store->ListExecutions(a.target, a.limit);
  if (!rows.ok()) return Fail(rows.status().message(), kExitInternal);
  if (g.json) {
    PrintJson(pipeline::ExecutionListJson(*rows));
    return kExitOk;
  }
  std::printf("%-36s  %-11s  %-24s  %s\n", "EXECUTION", "STATUS", "STARTED", "SUMMARY");
  for (const auto& e : *rows) {
    std::printf("%-36s  %-11s  %-24s  %s\n", e.id.c_str(), e.status.c_str(),
                base::IsoTime(e.start_ms).c_str(), e.summary.c_str());
  }
  return kExitOk;
}

int List(const GlobalOptions& g) {
  std::optional<spec::KilnConfig> config;
  if (!LoadConfig(g, &config)) return kExitUsage;
  auto store = OpenStore(g);
  if (!store) return kExitInternal;
  std::set<std::string> names;
  if (config) {
    for (const auto& p : config->pipelines) names.insert(p.name);
  }
  if (auto stored = store->ListPipelines(); stored.ok())
    names.insert(stored->begin(), stored->end());
  json out = json::array();
  for (const auto& name : names) {
    auto last = store->ListExecutions(name, 1);
    std::string status = last.ok() && !last->empty() ? last->front().status : "";
    out.push_back({{"name", name}, {"latestExecutionStatus", status}});
  }
  if (g.json) {
    PrintJson({{"pipelines", out}});
  } else {
    for (const auto& p : out) {
      std::printf("%-30s %s\n", p["name"].get<std::string>().c_str(),
                  p["latestExecutionStatus"].get<std::string>().c_str());
    }
  }
  return kExitOk;
}

int Show(const PipelineArgs& a, const GlobalOptions& g) {
  std::optional<spec::KilnConfig> config;
  if (!LoadConfig(g, &config)) return kExitUsage;
  auto loaded = LoadPipeline(a.target, config);
  if (!loaded) return kExitUsage;
  PrintJson({{"pipeline", json::parse(loaded->definition_json)}});
  return kExitOk;
}

int Stop(const PipelineArgs& a, const GlobalOptions& g) {
  auto store = OpenStore(g);
  if (!store) return kExitInternal;
  auto outcome = pipeline::RequestStop(*store, a.target, a.abandon);
  if (!outcome.ok()) {
    bool refused = outcome.status().kind() == base::ErrorKind::kFailed;
    bool missing = outcome.status().kind() == base::ErrorKind::kNotFound;
    return Fail(outcome.status().message(), refused   ? kExitFailed
                                            : missing ? kExitUsage
                                                      : kExitInternal);
  }
  if (*outcome == pipeline::StopOutcome::kStopped) {
    std::printf("execution %s: Stopped (it had not started)\n", a.target.c_str());
  } else {
    std::printf("execution %s: Stopping (%s)\n", a.target.c_str(),
                a.abandon ? "abandoning in-progress actions" : "waiting for in-progress actions");
  }
  return kExitOk;
}

int Decide(const PipelineArgs& a, const GlobalOptions& g, const std::string& result) {
  if (a.stage.empty() || a.action.empty()) return Fail("--stage and --action are required");
  auto store = OpenStore(g);
  if (!store) return kExitInternal;
  auto st = store->DecideApproval(a.target, a.stage, a.action, result, a.summary, a.approval_token);
  if (!st.ok()) return Fail(st.message(), kExitFailed);
  std::printf("%s %s/%s of execution %s\n", result.c_str(), a.stage.c_str(), a.action.c_str(),
              a.target.c_str());
  return kExitOk;
}

// The definition whose stages a transition names: kiln.yml's (or a file's), else the latest
// stored one (a pipeline run from a file that is gone).
std::optional<spec::Pipeline> TransitionDefinition(store::Store& store, const std::string& name,
                                                   const GlobalOptions& g) {
  std::optional<spec::KilnConfig> config;
  if (!LoadConfig(g, &config)) return std::nullopt;
  bool named = config && std::any_of(config->pipelines.begin(), config->pipelines.end(),
                                     [&](const auto& p) { return p.name == name; });
  std::error_code ec;
  if (named || fs::is_regular_file(name, ec)) {
    auto loaded = LoadPipeline(name, config);
    if (!loaded) return std::nullopt;
    return loaded->pipeline;
  }
  auto stored = store.GetPipeline(name);
  std::string missing = "no pipeline named '" + name + "' in kiln.yml or the store";
  if (!stored.ok() || !*stored) {
    Fail(stored.ok() ? missing : stored.status().message());
    return std::nullopt;
  }
  return ParseStored((*stored)->definition);
}

// DisableStageTransition / EnableStageTransition of a stage's inbound transition. Executions
// running in another process (kiln serve, kiln pipeline run) see the change in the store.
int ChangeTransition(const PipelineArgs& a, const GlobalOptions& g, bool enable) {
  if (!enable) {
    if (auto st = server::CheckTransitionReason(a.reason); !st.ok()) {
      return Fail("--reason: " + st.message());
    }
  }
  auto store = OpenStore(g);
  if (!store) return kExitInternal;
  auto p = TransitionDefinition(*store, a.target, g);
  if (!p) return kExitUsage;
  if (std::none_of(p->stages.begin(), p->stages.end(),
                   [&](const spec::Stage& s) { return s.name == a.stage; })) {
    return Fail("pipeline '" + p->name + "' has no stage named '" + a.stage + "'");
  }
  auto st = store->SetTransition(p->name, a.stage, enable, a.reason);
  if (!st.ok()) return Fail(st.message(), kExitInternal);
  if (g.json) {
    PrintJson({{"pipelineName", p->name},
               {"stageName", a.stage},
               {"transitionType", "Inbound"},
               {"enabled", enable}});
    return kExitOk;
  }
  std::printf("%s/%s: inbound transition %s\n", p->name.c_str(), a.stage.c_str(),
              enable ? "enabled" : ("disabled (" + a.reason + ")").c_str());
  return kExitOk;
}

int Import(const PipelineArgs& a, const GlobalOptions& g) {
  std::map<std::string, std::string> params;
  if (!SplitPairs(a.parameters, &params, "--parameter")) return kExitUsage;
  std::map<std::string, std::string> exports;
  if (!SplitPairs(a.exports, &exports, "--export")) return kExitUsage;
  for (const auto& [k, v] : exports) params["Export:" + k] = v;
  auto text = base::ReadFile(a.target, 4 << 20);
  if (!text.ok()) return Fail(text.status().message());
  auto result = spec::ImportCloudFormation(*text, a.target, params);
  for (const auto& d : result.diagnostics) std::fprintf(stderr, "%s\n", d.ToString().c_str());
  if (!result.pipeline) return kExitUsage;
  for (const auto& note : result.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  for (const auto& p : result.projects) {
    std::fprintf(stderr, "note: %s:%d: CodeBuild project %s has %s\n", a.target.c_str(), p.line,
                 p.name.c_str(),
                 p.inline_buildspec         ? "an inline buildspec (add it to the repository)"
                 : p.buildspec_path.empty() ? "the default buildspec (buildspec.yml)"
                                            : ("buildspec " + p.buildspec_path).c_str());
  }
  auto problems = spec::ValidatePipeline(*result.pipeline, a.target);
  for (const auto& d : problems) std::fprintf(stderr, "%s\n", d.ToString().c_str());
  std::string out =
      base::JsonText(json({{"pipeline", json::parse(spec::PipelineToJson(*result.pipeline))}}), 2) +
      "\n";
  if (a.output.empty()) {
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else if (auto st = base::WriteFileAtomic(a.output, out); !st.ok()) {
    return Fail(st.message(), kExitInternal);
  }
  (void)g;
  return problems.empty() ? kExitOk : kExitUsage;
}

void AddDecisionVerbs(CLI::App* sub, PipelineArgs* a, std::string* which) {
  for (const char* verb : {"approve", "reject"}) {
    auto* d =
        AddVerb(sub, verb,
                verb[0] == 'a' ? "approve a manual approval" : "reject a manual approval", which);
    d->add_option("execution", a->target)->required();
    d->add_option("--stage", a->stage)->required();
    d->add_option("--action", a->action)->required();
    d->add_option("--summary", a->summary, "a comment recorded with the decision");
    // Not --token: that is the bearer token of --server, accepted after the verb too.
    d->add_option("--approval-token", a->approval_token,
                  "the waiting approval's token (pipeline status shows it); refused if it is not");
  }
}

void AddTransitionVerbs(CLI::App* sub, PipelineArgs* a, std::string* which) {
  for (const char* verb : {"disable-transition", "enable-transition"}) {
    bool off = verb[0] == 'd';
    auto* t = AddVerb(sub, verb,
                      off ? "hold executions in front of a stage (its inbound transition)"
                          : "let executions into a stage again",
                      which);
    t->add_option("pipeline", a->target)->required();
    t->add_option("stage", a->stage, "the stage whose inbound transition changes")->required();
    if (off) t->add_option("--reason", a->reason, "why (1 to 300 characters)")->required();
  }
}

int Dispatch(const std::string& w, const PipelineArgs& a, const GlobalOptions& g) {
  if (!ServerUrl(g).empty() && w != "import") return RemotePipeline(w, a, g);
  if (w == "run") return Run(a, g);
  if (w == "list") return List(g);
  if (w == "show") return Show(a, g);
  if (w == "history") return History(a, g);
  if (w == "status") {
    auto store = OpenStore(g);
    return store ? ShowExecution(*store, a.target, g) : kExitInternal;
  }
  if (w == "stop") return Stop(a, g);
  if (w == "retry") return Retry(a, g);
  if (w == "approve") return Decide(a, g, "Approved");
  if (w == "reject") return Decide(a, g, "Rejected");
  if (w == "import") return Import(a, g);
  if (w == "disable-transition") return ChangeTransition(a, g, false);
  if (w == "enable-transition") return ChangeTransition(a, g, true);
  return kExitUsage;
}

}  // namespace

CommandSpec PipelineCommand() {
  return {
      "pipeline", "run and inspect CodePipeline pipelines", [](CLI::App* sub) {
        auto a = std::make_shared<PipelineArgs>();
        auto which = std::make_shared<std::string>();
        sub->require_subcommand(1);
        auto* run =
            AddVerb(sub, "run", "run a pipeline (a name in kiln.yml, or a file)", which.get());
        run->add_option("pipeline", a->target, "pipeline name or file")->required();
        run->add_option("--variable", a->variables, "pipeline variable NAME=VALUE");
        run->add_option("--revision", a->revision, "commit to build instead of the branch head");
        AddVerb(sub, "list", "list pipelines with their latest status", which.get());
        auto* show = AddVerb(sub, "show", "print a pipeline's definition", which.get());
        show->add_option("pipeline", a->target)->required();
        auto* history = AddVerb(sub, "history", "list a pipeline's executions", which.get());
        history->add_option("pipeline", a->target)->required();
        history->add_option("--limit", a->limit, "how many (default 20)");
        auto* status = AddVerb(sub, "status", "show one execution", which.get());
        status->add_option("execution", a->target)->required();
        status->add_flag("-f,--follow", a->follow, "with --server: follow it live until it ends");
        auto* stop = AddVerb(sub, "stop", "stop an execution", which.get());
        stop->add_option("execution", a->target)->required();
        stop->add_flag("--abandon", a->abandon, "abandon in-progress actions");
        auto* retry = AddVerb(sub, "retry", "retry a failed stage", which.get());
        retry->add_option("execution", a->target)->required();
        retry->add_option("--stage", a->stage, "stage to retry")->required();
        retry->add_option("--mode", a->mode, "FAILED_ACTIONS (default) or ALL_ACTIONS");
        AddDecisionVerbs(sub, a.get(), which.get());
        AddTransitionVerbs(sub, a.get(), which.get());
        auto* imp = AddVerb(sub, "import", "convert a CloudFormation pipeline", which.get());
        imp->add_option("template", a->target)->required();
        imp->add_option("--parameter", a->parameters, "template parameter NAME=VALUE");
        imp->add_option("--export", a->exports, "value of an Fn::ImportValue NAME=VALUE");
        imp->add_option("-o,--output", a->output, "write the pipeline here");
        for (auto* s : {run, retry}) {
          s->add_flag("--detach", a->detach, "with --server: return once it started");
        }
        return [a, which](const GlobalOptions& g) { return Dispatch(*which, *a, g); };
      }};
}

}  // namespace kiln::cli
