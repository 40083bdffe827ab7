#include "pipeline/engine.h"

#include <future>
#include <nlohmann/json.hpp>

#include "base/ids.h"
#include "base/json_text.h"
#include "pipeline/engine_loop.h"
#include "pipeline/execution_run.h"

namespace kiln::pipeline {

using nlohmann::json;

Engine::Engine(EngineOptions options)
    : options_(std::move(options)), loop_(std::make_unique<EngineLoop>(options_)) {
  start_status_ = loop_->Start();
}

Engine::~Engine() = default;

size_t Engine::running() const { return loop_->running(); }

void Engine::Notify(const std::string& execution_id) { loop_->Notify(execution_id); }

void Engine::GatesChanged() { loop_->NotifyGates(); }

namespace {

// Runs a launch to its end on the calling thread's behalf.
base::Status Wait(const std::function<void(Engine::Done)>& launch) {
  std::promise<base::Status> ended;
  auto result = ended.get_future();
  launch([&ended](base::Status st) { ended.set_value(std::move(st)); });
  return result.get();
}

}  // namespace

base::Result<std::string> Engine::Run(const spec::Pipeline& pipeline, int64_t version,
                                      const StartOptions& start) {
  if (!start_status_.ok()) return start_status_;
  std::string id = base::NewUuid();
  base::Status st = Wait([&](Done done) {
    loop_->Launch(
        pipeline, id, [version, start](ExecutionRun& run) { return run.Create(version, start); },
        options_.observer, nullptr, std::move(done));
  });
  if (!st.ok()) return st;
  return id;
}

void Engine::StartQueued(const spec::Pipeline& pipeline, const std::string& execution_id,
                         std::unique_ptr<ExecutionObserver> observer, Done done) {
  if (!start_status_.ok()) return done(start_status_);
  loop_->Launch(
      pipeline, execution_id, [](ExecutionRun& run) { return run.ClaimQueued(); }, nullptr,
      std::move(observer), std::move(done));
}

base::Status Engine::Retry(const spec::Pipeline& pipeline, const std::string& execution_id,
                           const std::string& stage, const std::string& mode) {
  return Wait([&](Done done) {
    StartRetry(pipeline, execution_id, stage, mode, nullptr, std::move(done));
  });
}

void Engine::StartRetry(const spec::Pipeline& pipeline, const std::string& execution_id,
                        const std::string& stage, const std::string& mode,
                        std::unique_ptr<ExecutionObserver> observer, Done done) {
  if (!start_status_.ok()) return done(start_status_);
  std::optional<RetryMode> parsed = ParseRetryMode(mode);
  if (!parsed) {
    return done(
        base::InvalidInput("retry mode must be FAILED_ACTIONS or ALL_ACTIONS, not " + mode));
  }
  ExecutionObserver* told = observer ? nullptr : options_.observer;
  loop_->Launch(
      pipeline, execution_id,
      [stage, retry = *parsed](ExecutionRun& run) { return run.Resume(stage, retry); }, told,
      std::move(observer), std::move(done));
}

base::Result<store::QueuedExecution> Engine::Queue(const spec::Pipeline& pipeline, int64_t version,
                                                   const StartOptions& start,
                                                   const std::string& dedupe_revision) {
  if (auto vars = PipelineVariables(pipeline, start); !vars.ok()) return vars.status();
  store::QueuedExecution q;
  q.row = {.id = base::NewUuid(),
           .pipeline = pipeline.name,
           .pipeline_version = version,
           .status = "Queued",
           .trigger_type = start.trigger_type,
           .trigger_detail = start.trigger_detail,
           .execution_mode = std::string(spec::ExecutionModeName(pipeline.execution_mode)),
           .start_ms = base::NowMillis()};
  q.start_json = StartOptionsToJson(start);
  q.revision = dedupe_revision;
  return q;
}

std::string StartOptionsToJson(const StartOptions& start) {
  return base::JsonText(json{{"variables", start.variables},
                             {"revision", start.revision},
                             {"triggerType", start.trigger_type},
                             {"triggerDetail", start.trigger_detail}});
}

namespace {

base::Status WrongType(const std::string& path, const char* expected, const json& got) {
  return base::InvalidInput("field '" + path + "': expected " + expected + ", got " +
                            got.type_name());
}

// A stored field: absent keeps *out; any type but string is an error naming the field.
base::Status StoredString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return base::Status::Ok();
  if (!it->is_string()) return WrongType(key, "a string", *it);
  *out = it->get<std::string>();
  return base::Status::Ok();
}

base::Status StoredVariables(const json& j, StartOptions* start) {
  auto it = j.find("variables");
  if (it == j.end()) return base::Status::Ok();
  if (!it->is_object()) return WrongType("variables", "an object", *it);
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return WrongType("variables." + k, "a string", v);
    start->variables[k] = v.get<std::string>();
  }
  return base::Status::Ok();
}

}  // namespace

// Written by StartOptionsToJson; anything else (an old row, a hand edit) is refused with the
// field, so the execution fails with a reason instead of running with half its options.
base::Result<StartOptions> StartOptionsFromJson(const std::string& text) {
  StartOptions start;
  if (text.empty()) return start;  // rows written before start_json existed
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return base::InvalidInput("the stored start options are not a JSON object");
  for (auto st : {StoredVariables(j, &start), StoredString(j, "revision", &start.revision),
                  StoredString(j, "triggerType", &start.trigger_type),
                  StoredString(j, "triggerDetail", &start.trigger_detail)}) {
    if (!st.ok())
      return base::InvalidInput("the stored start options are not valid: " + st.message());
  }
  return start;
}

}  // namespace kiln::pipeline
