// Test support: the private engine that CTest's docker_engine fixture starts
// (scripts/test-engine, CMakeLists.txt), and the busybox test image on it.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "exec/busybox_image.h"
#include "exec/docker_client.h"
#include "exec/engine_fixture.h"

namespace kiln::exec::testing {

inline constexpr char kTestImage[] = "kiln/busybox:test";

// A client of the fixture's engine, or nullopt with the reason in *why. Running one engine
// test alone (without ctest) uses the same directory, so start it first:
// scripts/test-engine start build/test-engine.
inline std::optional<DockerClient> FixtureEngine(std::string* why) {
  return EngineInDir(KILN_TEST_ENGINE_DIR, "docker_engine", why);
}

// The same, with kTestImage imported (what engine test suites set up once).
inline std::optional<DockerClient> FixtureEngineWithTestImage(std::string* why) {
  auto client = FixtureEngine(why);
  if (!client) return std::nullopt;
  auto id = ImportBusyboxImage(*client, "kiln/busybox", "test");
  if (!id.ok()) {
    *why = "busybox import failed: " + id.status().message();
    return std::nullopt;
  }
  return client;
}

// A test suite on the fixture's engine with kTestImage: one client for the whole suite, and
// every test skipped with one line when there is no engine. A subclass's SetUp calls
// EngineSuite::SetUp() first and returns if IsSkipped().
class EngineSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    auto c = FixtureEngineWithTestImage(&why);
    if (c) {
      client_ = new DockerClient(std::move(*c));
    } else {
      skip_reason_ = new std::string(why);
    }
  }
  static void TearDownTestSuite() {
    delete client_;
    delete skip_reason_;
    client_ = nullptr;
    skip_reason_ = nullptr;
  }
  void SetUp() override {
    if (skip_reason_) GTEST_SKIP() << "no Docker engine: " << *skip_reason_;
  }
  static inline DockerClient* client_ = nullptr;
  static inline std::string* skip_reason_ = nullptr;
};

// An EngineSuite for code that connects to the engine by itself, as it does outside tests:
// DOCKER_HOST names the fixture's engine for the whole process.
class DockerHostSuite : public EngineSuite {
 protected:
  static void SetUpTestSuite() {
    EngineSuite::SetUpTestSuite();
    if (!client_) return;
    std::string host = ReadLine(std::string(KILN_TEST_ENGINE_DIR) + "/docker-host");
    ::setenv("DOCKER_HOST", host.c_str(), 1);
  }
};

}  // namespace kiln::exec::testing
