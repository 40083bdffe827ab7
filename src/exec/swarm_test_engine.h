// Test support: the single-node swarm that CTest's swarm_engine fixture starts
// (scripts/test-engine start-swarm, CMakeLists.txt) inside a network namespace of its own.
//
// The engine's socket is a file, so the tests talk to it from the host's namespace. Its tasks
// are not: a task with host networking listens on the swarm namespace's loopback, so a test
// that sends requests to a task runs that code through RunInSwarmNetns (from a shell:
// nsenter --net=<KILN_SWARM_ENGINE_DIR>/netns ...).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "base/status.h"
#include "exec/busybox_image.h"
#include "exec/engine_fixture.h"
#include "exec/swarm_client.h"

namespace kiln::exec::testing {

// The bind mount of the swarm engine's network namespace.
inline std::string SwarmNetnsPath() { return std::string(KILN_SWARM_ENGINE_DIR) + "/netns"; }

// Runs fn on a thread of its own that first enters the network namespace at netns_path
// (setns(2) changes only the calling thread's namespace, so the test's own threads stay in the
// host's). kIo if the namespace cannot be entered; fn does not run then.
inline base::Status RunInNetns(const std::string& netns_path, const std::function<void()>& fn) {
  base::Status status;
  std::thread thread([&] {
    int fd = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      status = base::IoError("open " + netns_path, errno);
      return;
    }
    int rc = ::setns(fd, CLONE_NEWNET);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
      status = base::IoError("setns " + netns_path, err);
      return;
    }
    fn();
  });
  thread.join();
  return status;
}

inline base::Status RunInSwarmNetns(const std::function<void()>& fn) {
  return RunInNetns(SwarmNetnsPath(), fn);
}

// A suite on the fixture's swarm with the busybox image imported: one SwarmClient for the
// whole suite and the image's id (give services images by id: a tag makes every task start
// try a registry pull). Every test skips with one line when there is no swarm.
class SwarmEngineSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    auto client = EngineInDir(KILN_SWARM_ENGINE_DIR, "swarm_engine", &why);
    std::optional<std::string> image;
    if (client) image = ImportImage(*client, &why);
    if (image) {
      swarm_ = new SwarmClient(std::move(*client));
      image_id_ = new std::string(*image);
    } else {
      skip_reason_ = new std::string(why);
    }
  }
  static void TearDownTestSuite() {
    delete swarm_;
    delete image_id_;
    delete skip_reason_;
    swarm_ = nullptr;
    image_id_ = nullptr;
    skip_reason_ = nullptr;
  }
  void SetUp() override {
    if (skip_reason_) GTEST_SKIP() << "no swarm engine: " << *skip_reason_;
  }

  static inline SwarmClient* swarm_ = nullptr;
  static inline std::string* image_id_ = nullptr;
  static inline std::string* skip_reason_ = nullptr;

 private:
  static std::optional<std::string> ImportImage(const DockerClient& client, std::string* why) {
    auto info = SwarmClient(client).Info();
    if (!info.ok() || info->state != SwarmNodeState::kActive || !info->control_available) {
      *why = info.ok() ? "the engine is not a swarm manager" : info.status().message();
      return std::nullopt;
    }
    auto id = ImportBusyboxImage(client, "kiln/busybox", "test");
    if (!id.ok()) {
      *why = "busybox import failed: " + id.status().message();
      return std::nullopt;
    }
    return *id;
  }
};

}  // namespace kiln::exec::testing
