// Decoding a swarm manager's answers (swarm_wire.h): typed values from well-formed answers, and
// errors, never crashes, from malformed ones.
#include <gtest/gtest.h>

#include <string>

#include "exec/swarm_wire.h"

namespace kiln::exec {
namespace {

constexpr char kService[] = R"({
  "ID": "svc1", "Version": {"Index": 62},
  "CreatedAt": "2026-12-07T19:12:22.072185926Z", "UpdatedAt": "2026-12-07T19:12:30Z",
  "Spec": {"Name": "web", "Labels": {"kiln.service": "web"},
    "TaskTemplate": {"ContainerSpec": {"Image": "sha256:abc", "Command": ["sh", "-c"],
        "Args": ["sleep 100"], "Env": ["V=1"], "Healthcheck": {"Test": ["CMD", "true"]}},
      "ForceUpdate": 3},
    "Mode": {"Replicated": {"Replicas": 2}}},
  "PreviousSpec": {"Name": "web",
    "TaskTemplate": {"ContainerSpec": {"Image": "sha256:abc", "Env": ["V=0"]}},
    "Mode": {"Replicated": {"Replicas": 2}}},
  "UpdateStatus": {"State": "rollback_completed", "StartedAt": "2026-12-07T19:12:25Z",
    "CompletedAt": "2026-12-07T19:12:29Z", "Message": "rollback completed"}})";

constexpr char kTasks[] = R"js([
  {"ID": "t1", "ServiceID": "svc1", "NodeID": "n1", "Slot": 1, "DesiredState": "running",
   "Status": {"Timestamp": "2026-12-07T19:12:23Z", "State": "running", "Message": "started",
     "ContainerStatus": {"ContainerID": "c1", "PID": 42, "ExitCode": 0}}},
  {"ID": "t2", "ServiceID": "svc1", "NodeID": "n1", "Slot": 2, "DesiredState": "shutdown",
   "Status": {"Timestamp": "2026-12-07T19:12:24Z", "State": "failed", "Message": "started",
     "Err": "task: non-zero exit (3)",
               "ContainerStatus" : {
  "ContainerID" : "c2", "ExitCode" : 3
}
}
},
  {"ID": "t3", "ServiceID": "job1", "NodeID": "n1", "DesiredState": "complete",
   "JobIteration": {"Index": 7},
   "Status": {"Timestamp": "2026-12-07T19:12:25Z", "State": "complete", "Message": "finished",
     "ContainerStatus": {"ContainerID": "c3", "ExitCode": 0}}}])js";

TEST(SwarmAnswersTest, SwarmInfo) {
  auto info = ParseSwarmInfo(R"({"ID":"x","Swarm":{"NodeID":"n1","NodeAddr":"127.0.0.1",
      "LocalNodeState":"active","ControlAvailable":true,"Error":""}})");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->state, SwarmNodeState::kActive);
  EXPECT_TRUE(info->control_available);
  EXPECT_EQ(info->node_id, "n1");
  auto inactive = ParseSwarmInfo(R"({"Swarm":{"NodeID":"","LocalNodeState":"inactive"}})");
  ASSERT_TRUE(inactive.ok());
  EXPECT_EQ(inactive->state, SwarmNodeState::kInactive);
  EXPECT_FALSE(inactive->control_available);
}

TEST(SwarmAnswersTest, MalformedSwarmInfoIsAnError) {
  for (const char* text :
       {"", "[]", "nul", R"({"Swarm":"active"})", R"({"Containers":1})",
        R"({"Swarm":{"LocalNodeState":"dancing"}})", R"({"Swarm":{"LocalNodeState":7}})",
        R"({"Swarm":{"ControlAvailable":"yes"}})"}) {
    auto info = ParseSwarmInfo(text);
    EXPECT_EQ(info.ok() ? base::ErrorKind::kOk : info.status().kind(), base::ErrorKind::kFailed)
        << text;
  }
}

TEST(SwarmAnswersTest, InitAndCreateAnswers) {
  EXPECT_EQ(ParseSwarmInitAnswer("\"i8yu7b9ep5l\"\n").value(), "i8yu7b9ep5l");
  EXPECT_EQ(ParseServiceCreateAnswer(R"({"ID":"ak7w3","Warnings":null})").value(), "ak7w3");
  for (const char* text : {"", "\"\"", "{}", "12", R"({"node":"x"})"}) {
    EXPECT_FALSE(ParseSwarmInitAnswer(text).ok()) << text;
  }
  for (const char* text : {"", "{}", R"({"ID":5})", R"(["ID"])", R"({"ID":""})"}) {
    EXPECT_FALSE(ParseServiceCreateAnswer(text).ok()) << text;
  }
}

TEST(SwarmAnswersTest, Service) {
  auto info = ParseServiceInfo(kService);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->id, "svc1");
  EXPECT_EQ(info->version, 62u);
  EXPECT_EQ(info->spec.name, "web");
  EXPECT_EQ(info->spec.labels.at("kiln.service"), "web");
  EXPECT_EQ(info->spec.image, "sha256:abc");
  EXPECT_EQ(info->spec.args, std::vector<std::string>{"sleep 100"});
  EXPECT_EQ(info->spec.env, std::vector<std::string>{"V=1"});
  EXPECT_EQ(info->spec.health_test, (std::vector<std::string>{"CMD", "true"}));
  EXPECT_EQ(info->spec.mode, SwarmServiceMode::kReplicated);
  EXPECT_EQ(info->spec.replicas, 2);
  EXPECT_EQ(info->spec.force_update, 3u);
  ASSERT_TRUE(info->previous_spec);
  EXPECT_EQ(info->previous_spec->env, std::vector<std::string>{"V=0"});
  EXPECT_EQ(info->update_status.state, SwarmUpdateState::kRollbackCompleted);
  EXPECT_EQ(info->update_status.message, "rollback completed");
  EXPECT_GT(info->update_status.completed_at_ns, info->update_status.started_at_ns);
  EXPECT_GT(info->created_at_ns, 0);
}

TEST(SwarmAnswersTest, ServiceNeverUpdatedAndJob) {
  auto info = ParseServiceInfo(R"({"ID":"j","Version":{"Index":3},"Spec":{"Name":"b",
      "Mode":{"ReplicatedJob":{"MaxConcurrent":1,"TotalCompletions":4}}}})");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->update_status.state, SwarmUpdateState::kNone);
  EXPECT_EQ(info->spec.mode, SwarmServiceMode::kReplicatedJob);
  EXPECT_EQ(info->spec.total_completions, 4);
  EXPECT_FALSE(info->previous_spec);
}

TEST(SwarmAnswersTest, MalformedServiceIsAnError) {
  for (const char* text :
       {"", "[]", R"({"Version":{"Index":1},"Spec":{"Mode":{"Replicated":{}}}})",
        R"({"ID":"s","Version":{"Index":"1"},"Spec":{"Mode":{"Replicated":{}}}})",
        R"({"ID":"s","Version":{"Index":-1},"Spec":{"Mode":{"Replicated":{}}}})",
        R"({"ID":"s","Spec":{"Mode":{"Replicated":{"Replicas":"2"}}}})",
        R"({"ID":"s","Spec":{"Mode":{"Replicated":{}},"TaskTemplate":{"ContainerSpec":[]}}})",
        R"({"ID":"s","Spec":{"Mode":{"Replicated":{}}},"UpdateStatus":{"State":"exploded"}})",
        R"({"ID":"s","Spec":{"Mode":{"Replicated":{}}},"UpdateStatus":{"StartedAt":"yesterday"}})",
        R"({"ID":"s","Spec":{"Mode":{"Replicated":{}}},"PreviousSpec":{"Mode":5}})",
        R"({"ID":"s","Spec":{"Mode":{"Replicated":{}},"Labels":{"a":1}}})"}) {
    auto info = ParseServiceInfo(text);
    EXPECT_EQ(info.ok() ? base::ErrorKind::kOk : info.status().kind(), base::ErrorKind::kFailed)
        << text;
  }
  auto global = ParseServiceInfo(R"({"ID":"g","Spec":{"Mode":{"Global":{}}}})");
  EXPECT_EQ(global.ok() ? base::ErrorKind::kOk : global.status().kind(),
            base::ErrorKind::kUnsupported);
}

TEST(SwarmAnswersTest, Tasks) {
  auto tasks = ParseTaskList(kTasks);
  ASSERT_TRUE(tasks.ok()) << tasks.status().message();
  ASSERT_EQ(tasks->size(), 3u);
  const SwarmTask& running = (*tasks)[0];
  EXPECT_EQ(running.state, SwarmTaskState::kRunning);
  EXPECT_EQ(running.desired_state, SwarmTaskState::kRunning);
  EXPECT_EQ(running.slot, 1);
  EXPECT_EQ(running.container_id, "c1");
  EXPECT_FALSE(running.exit_code);  // running: its ExitCode 0 means nothing yet
  const SwarmTask& failed = (*tasks)[1];
  EXPECT_EQ(failed.state, SwarmTaskState::kFailed);
  EXPECT_EQ(failed.error, "task: non-zero exit (3)");
  EXPECT_EQ(failed.exit_code, 3);
  const SwarmTask& job = (*tasks)[2];
  EXPECT_EQ(job.slot, 0);  // absent for job tasks (DOCKER-ENGINE.md fact 6)
  EXPECT_EQ(job.state, SwarmTaskState::kComplete);
  EXPECT_EQ(job.exit_code, 0);
  EXPECT_EQ(job.job_iteration, 7u);
  EXPECT_GT(job.timestamp_ns, running.timestamp_ns);
  EXPECT_TRUE(IsFinal(job.state));
  EXPECT_FALSE(IsFinal(running.state));
  EXPECT_TRUE(ParseTaskList("[]").value().empty());
}

TEST(SwarmAnswersTest, MalformedTaskListIsAnError) {
  for (const char* text :
       {"", "{}", "[1]", R"([{"Slot":1}])", R"([{"ID":"t","Status":{"State":"sleeping"}}])",
        R"([{"ID":"t","DesiredState":3}])", R"([{"ID":"t","Slot":"1"}])",
        R"([{"ID":"t","Status":{"State":"failed","ContainerStatus":{"ExitCode":99999}}}])",
        R"([{"ID":"t","Status":{"Timestamp":"2026-13"}}])",
        R"([{"ID":"t","JobIteration":{"Index":-4}}])"}) {
    auto tasks = ParseTaskList(text);
    EXPECT_EQ(tasks.ok() ? base::ErrorKind::kOk : tasks.status().kind(), base::ErrorKind::kFailed)
        << text;
  }
}

// Every prefix of a good answer, and every byte replaced by hostile ones: each is a value or
// an error, never a crash (the sanitizers watch).
TEST(SwarmAnswersTest, DamagedAnswersNeverCrash) {
  auto service = [](const std::string& t) { (void)ParseServiceInfo(t); };
  auto tasks = [](const std::string& t) { (void)ParseTaskList(t); };
  for (const auto& [good, parse] :
       {std::pair<std::string, void (*)(const std::string&)>{kService, service}, {kTasks, tasks}}) {
    for (size_t n = 0; n <= good.size(); ++n) parse(good.substr(0, n));
    for (size_t i = 0; i < good.size(); ++i) {
      for (char c : {'"', '[', '9', '\xff'}) {
        std::string bad = good;
        bad[i] = c;
        parse(bad);
      }
    }
  }
}

TEST(SwarmAnswersTest, ServiceLogLineNamesItsTask) {
  auto line = ParseServiceLogLine(
      "2026-12-07T19:12:22.072185926Z com.docker.swarm.node.id=n1,"
      "com.docker.swarm.service.id=s1,com.docker.swarm.task.id=x9q2 serving 1 on 3121\n");
  ASSERT_TRUE(line.ok()) << line.status().message();
  EXPECT_EQ(line->task_id, "x9q2");
  EXPECT_EQ(line->text, "serving 1 on 3121\n");
  EXPECT_EQ(line->time_ns % 1'000'000'000, 72185926);
  auto empty = ParseServiceLogLine("2026-12-07T19:12:22Z com.docker.swarm.task.id=t1");
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(empty->text, "");
}

TEST(SwarmAnswersTest, MalformedServiceLogLineIsAnError) {
  for (const char* text :
       {"", "serving", "2026-12-07T19:12:22Z", "2026-12-07T19:12:22Z  text",
        "yesterday com.docker.swarm.task.id=t1 x", "2026-12-07T19:12:22Z a=b,c=d text",
        "2026-12-07T19:12:22Z com.docker.swarm.task.id=../../etc x",
        "2026-12-07T19:12:22Z com.docker.swarm.task.id= x",
        "2026-12-07T19:12:22Z com.docker.swarm.task.id=T1 x"}) {
    EXPECT_FALSE(ParseServiceLogLine(text).ok()) << text;
  }
}

}  // namespace
}  // namespace kiln::exec
