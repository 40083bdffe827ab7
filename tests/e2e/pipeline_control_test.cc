// `kiln pipeline` end to end with several processes: execution modes (PARALLEL, QUEUED,
// SUPERSEDED), kill -9 of a run, stop (wait and abandon) and retries that race. See
// pipeline_fixture.h.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "pipeline_fixture.h"

namespace kiln::e2e {
namespace {

// Several `kiln pipeline run` processes against one state dir. Each build stamps its
// execution id into the times file.
class PipelineModeTest : public PipelineFixture {
 protected:
  void SetUp() override {
    PipelineFixture::SetUp();
    Commit({{"timed.yml", kTimedBuildspec}}, "timed");
  }
  json BuildStage() {
    return Stage("Build", {BuildAction("bake", "timed",
                                       {{"LABEL", "#{codepipeline.PipelineExecutionId}"}})});
  }
  // Ids in start order (history lists newest first).
  std::vector<std::string> IdsInStartOrder(const std::string& name) {
    std::vector<std::string> ids;
    for (const auto& s : History(name)) ids.insert(ids.begin(), s["pipelineExecutionId"]);
    return ids;
  }
};

// The gate opens only once all three builds have started: if Kiln ran them one at a time, the
// first would sit at the gate and the wait below would time out.
TEST_F(PipelineModeTest, ParallelExecutionsOverlap) {
  TimedProject("timed", "0.3", tmp_.path() / "gate");
  Pipeline("par", {SourceStage(), BuildStage()}, "PARALLEL");
  std::vector<std::unique_ptr<BackgroundProcess>> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(StartRun("par"));
  EXPECT_TRUE(WaitUntil([&] {
    auto t = Intervals();
    return t.size() == 3 &&
           std::all_of(t.begin(), t.end(), [](auto& i) { return i.second.start > 0; });
  })) << ReadText(Times());
  tmp_.Write("gate", "");
  for (auto& run : runs) {
    auto r = run->Wait(60);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  auto t = Intervals();
  ASSERT_EQ(t.size(), 3u) << ReadText(Times());
  int64_t last_start = 0, first_end = std::numeric_limits<int64_t>::max();
  for (const auto& [id, i] : t) {
    last_start = std::max(last_start, i.start);
    first_end = std::min(first_end, i.end);
  }
  EXPECT_LT(last_start, first_end) << ReadText(Times());
  for (const auto& s : History("par")) EXPECT_EQ(s["executionMode"], "PARALLEL");
}

TEST_F(PipelineModeTest, QueuedExecutionsRunOneAtATimeInStartOrder) {
  TimedProject("timed", "1");
  Pipeline("queue", {SourceStage(), BuildStage()}, "QUEUED");
  std::vector<std::unique_ptr<BackgroundProcess>> runs;
  for (size_t i = 1; i <= 3; ++i) {
    runs.push_back(StartRun("queue"));
    WaitForExecution("queue", i);  // so the start order is known
  }
  for (auto& run : runs) {
    auto r = run->Wait(60);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  auto ids = IdsInStartOrder("queue");
  auto t = Intervals();
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_EQ(t.size(), 3u) << ReadText(Times());
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    EXPECT_LE(t[ids[i]].end, t[ids[i + 1]].start) << "execution " << i + 2 << " overlapped";
  }
}

// A is in Build; B waits in front of Build and is superseded by C; C runs after A.
TEST_F(PipelineModeTest, SupersededWaitingExecutionIsReplacedByTheNewerOne) {
  fs::path gate = tmp_.path() / "gate";
  TimedProject("timed", "0", gate);
  Pipeline("sup", {SourceStage(), BuildStage()});
  auto a = StartRun("sup");
  std::string a_id = WaitForExecution("sup", 1);
  ASSERT_TRUE(WaitUntil([&] { return Started(a_id); })) << a->Err();
  auto b = StartRun("sup");
  std::string b_id = WaitForExecution("sup", 2);
  ASSERT_TRUE(WaitUntil([&] {
    return StageState(Status(b_id), "Source")["latestExecution"]["status"] == "Succeeded";
  }));
  auto c = StartRun("sup");
  std::string c_id = WaitForExecution("sup", 3);
  EXPECT_TRUE(WaitUntil([&] { return Status(b_id)["status"] == "Superseded"; })) << b->Err();
  EXPECT_EQ(Status(a_id)["status"], "InProgress");
  tmp_.Write("gate", "");
  auto ra = a->Wait(60), rb = b->Wait(60), rc = c->Wait(60);
  EXPECT_EQ(ra.exit_code, 0) << ra.err;
  EXPECT_EQ(rc.exit_code, 0) << rc.err;
  EXPECT_EQ(rb.exit_code, 1);
  json eb = Parse(rb);
  EXPECT_EQ(eb["status"], "Superseded");
  EXPECT_TRUE(Contains(eb["statusSummary"], "Build")) << eb["statusSummary"];
  EXPECT_TRUE(NotStarted(StageState(eb, "Build"))) << "B entered Build";
  auto t = Intervals();
  EXPECT_FALSE(t.contains(b_id));
  EXPECT_GE(t[c_id].start, t[a_id].end) << "C entered Build while A held it";
  // AWS-SEMANTICS.md 2.4: a superseded execution cannot be retried.
  EXPECT_EQ(Kiln({"pipeline", "retry", b_id, "--stage", "Build"}).exit_code, 1);
}

// One pipeline, Source -> Build (bake, waiting at a gate the test opens).
class PipelineControlTest : public PipelineFixture {
 protected:
  void SetUp() override {
    PipelineFixture::SetUp();
    Commit({{"timed.yml", kTimedBuildspec}}, "timed");
    TimedProject("timed", "0", Gate());
    Pipeline("gated",
             {SourceStage(), Stage("Build", {BuildAction("bake", "timed", {{"LABEL", "bake"}})})});
  }
  fs::path Gate() const { return tmp_.path() / "gate"; }

  // Starts `name` and waits until its build is at the gate; returns the execution id.
  std::string StartAtGate(const std::string& name = "gated") {
    run_ = StartRun(name);
    std::string id = WaitForExecution(name, 1);
    EXPECT_TRUE(WaitUntil([&] { return Started("bake"); })) << run_->Err();
    return id;
  }

  // Stops the run with --abandon: its build never reaches the gate.
  void Abandon(const std::string& id) {
    auto stopped_at = Clock::now();
    auto stop = Kiln({"pipeline", "stop", id, "--abandon"});
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    last_ = run_->Wait(60);
    EXPECT_LT(Clock::now() - stopped_at, std::chrono::seconds(15)) << "the build ran on";
    EXPECT_EQ(last_.exit_code, 1);
  }

  // Opens the gate and retries stage Build of id, which must then succeed in place.
  void RetrySucceeds(const std::string& id) {
    tmp_.Write("gate", "");
    RetryBuildSucceeds(id);
  }

  // The build log that holds the output printed before the gate, or empty.
  fs::path LogBeforeTheGate() const {
    fs::path logs = state_ / "logs" / "timed";
    if (!fs::is_directory(logs)) return {};
    for (const auto& f : fs::directory_iterator(logs)) {
      if (Contains(ReadText(f.path()), "waiting at the gate")) return f.path();
    }
    return {};
  }

  std::unique_ptr<BackgroundProcess> run_;
  RunResult last_;
};

// kill -9 of the process running an execution: the next kiln command marks it Failed; the log
// written before the kill is kept. A live run is never marked Failed by another process.
TEST_F(PipelineControlTest, KilledRunIsMarkedFailedAndItsLogIsKept) {
  std::string id = StartAtGate();
  ASSERT_TRUE(WaitUntil([&] { return !LogBeforeTheGate().empty(); }));
  // Another process looking at the state while the run is alive leaves it alone.
  EXPECT_EQ(History("gated")[0]["status"], "InProgress");
  EXPECT_EQ(ActionStatus(Status(id), "Build", "bake"), "InProgress");

  run_->Signal(SIGKILL);
  EXPECT_EQ(run_->Wait(10).exit_code, 128 + SIGKILL);
  auto h = Kiln({"pipeline", "history", "gated"});
  EXPECT_TRUE(Contains(h.err, "1 interrupted execution(s) marked Failed")) << h.err;
  json dead = Parse(h)["pipelineExecutionSummaries"][0];
  EXPECT_EQ(dead["pipelineExecutionId"], id);
  EXPECT_EQ(dead["status"], "Failed");
  EXPECT_TRUE(Contains(dead["statusSummary"], "stopped before it finished")) << dead.dump();
  json e = Status(id);
  EXPECT_EQ(StageState(e, "Build")["latestExecution"]["status"], "Failed");
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "Failed");
  EXPECT_TRUE(Contains(ReadText(LogBeforeTheGate()), "Running command sleep"));

  // The build's processes outlived kiln; marking the execution Failed ended them.
  int pid = Intervals()["bake"].pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(WaitUntil([&] { return !Running(pid); })) << "the build's shell survived";
  RetrySucceeds(id);  // the interrupted execution restarts from its failed stage
}

// Stop and wait: the running build finishes, nothing after it starts.
TEST_F(PipelineControlTest, StopAndWaitLetsTheRunningActionFinish) {
  Pipeline("stoppable",
           {SourceStage(), Stage("Build", {BuildAction("bake", "timed", {{"LABEL", "bake"}})}),
            Stage("After", {BuildAction("after", "timed", {{"LABEL", "after"}})})});
  std::string id = StartAtGate("stoppable");
  auto stop = Kiln({"pipeline", "stop", id});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(Status(id)["status"], "Stopping");
  tmp_.Write("gate", "");
  auto r = run_->Wait(60);
  json e = Parse(r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(e["status"], "Stopped");
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "Succeeded");
  EXPECT_TRUE(NotStarted(StageState(e, "After"))) << e.dump();
  auto t = Intervals();
  EXPECT_GT(t["bake"].end, 0) << "the build was not allowed to finish";
  EXPECT_FALSE(t.contains("after"));
  EXPECT_EQ(Kiln({"pipeline", "stop", id}).exit_code, 1) << "stopping a Stopped execution";
}

// Stop and abandon: the build is cancelled at once, the action is Abandoned, and the stopped
// execution can be retried.
TEST_F(PipelineControlTest, StopAndAbandonCancelsTheBuildAndTheStageCanBeRetried) {
  std::string id = StartAtGate();
  Abandon(id);
  json e = Parse(last_);
  EXPECT_EQ(e["status"], "Stopped");
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "Abandoned");
  EXPECT_EQ(StageState(e, "Build")["latestExecution"]["status"], "Stopped");
  auto t = Intervals();
  EXPECT_EQ(t["bake"].end, 0);
  EXPECT_FALSE(Running(t["bake"].pid)) << "the build's shell survived the abandon";
  RetrySucceeds(id);
}

// CodePipeline: a stop-and-wait that is still Stopping can be turned into an abandon.
TEST_F(PipelineControlTest, StoppingExecutionCanStillBeAbandoned) {
  std::string id = StartAtGate();
  EXPECT_EQ(Kiln({"pipeline", "stop", id}).exit_code, 0);
  Abandon(id);
  json e = Parse(last_);
  EXPECT_EQ(e["status"], "Stopped");
  EXPECT_EQ(ActionStatus(e, "Build", "bake"), "Abandoned");
  EXPECT_EQ(Intervals()["bake"].end, 0);
}

// Retries of one stopped stage started together: one runs it, the others are refused.
TEST_F(PipelineControlTest, ConcurrentRetriesOfOneStageRunItOnce) {
  std::string id = StartAtGate();
  Abandon(id);
  fs::remove(Times());
  std::vector<std::unique_ptr<BackgroundProcess>> retries;
  for (int i = 0; i < 4; ++i) {
    retries.push_back(StartKiln(
        {"--json", "--state-dir", state_.string(), "--config", (tmp_.path() / "kiln.yml").string(),
         "pipeline", "retry", id, "--stage", "Build"},
        tmp_.path()));
  }
  ASSERT_TRUE(WaitUntil([&] { return Started("bake"); }))
      << retries[0]->Err() << retries[1]->Err() << retries[2]->Err() << retries[3]->Err();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // room for a second build
  tmp_.Write("gate", "");
  int succeeded = 0;
  for (auto& retry : retries) succeeded += retry->Wait(30).exit_code == 0;
  EXPECT_EQ(succeeded, 1);
  std::string times = ReadText(Times());
  size_t starts = 0;
  for (size_t at = 0; (at = times.find(" start ", at)) != std::string::npos; ++at) ++starts;
  EXPECT_EQ(starts, 1u) << times;
}

// Regression: a refused retry removed the running execution's work folder (its build's
// source) on the way out.
TEST_F(PipelineControlTest, RefusedRetryLeavesTheRunningExecutionAlone) {
  std::string id = StartAtGate();
  auto retry = Kiln({"pipeline", "retry", id, "--stage", "Build"});
  EXPECT_EQ(retry.exit_code, 1);
  EXPECT_TRUE(Contains(retry.err, "is InProgress")) << retry.err;
  EXPECT_TRUE(fs::is_directory(state_ / "executions" / id));
  tmp_.Write("gate", "");
  auto r = run_->Wait(60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Parse(r)["status"], "Succeeded");
}

// AWS-SEMANTICS.md 2.4: a newer execution entering a failed stage supersedes the failed one,
// which can no longer be retried (it would build older code after newer code).
TEST_F(PipelineControlTest, FailedExecutionIsNotRetriedAfterANewerOneEnteredItsStage) {
  Commit({{"buildspec.yml",
           "version: 0.2\nphases:\n  build:\n    commands:\n"
           "      - test \"$SHOULD_FAIL\" != 1\n"}},
         "flaky build");
  Project("flaky", "buildspec.yml", {{"SHOULD_FAIL", "1"}});
  Pipeline("flaky", {SourceStage(), Stage("Build", {BuildAction("bake", "flaky", {})})});
  auto failed = Kiln({"pipeline", "run", "flaky"});
  EXPECT_EQ(failed.exit_code, 1);
  std::string old_id = Parse(failed)["pipelineExecutionId"];
  Project("flaky", "buildspec.yml", {{"SHOULD_FAIL", "0"}});
  EXPECT_EQ(Kiln({"pipeline", "run", "flaky"}).exit_code, 0);
  auto retry = Kiln({"pipeline", "retry", old_id, "--stage", "Build"});
  EXPECT_EQ(retry.exit_code, 1);
  EXPECT_TRUE(Contains(retry.err, "newer execution")) << retry.err;
}

}  // namespace
}  // namespace kiln::e2e
