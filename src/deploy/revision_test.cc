#include "deploy/revision.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "deploy/bundle_store.h"
#include "deploy/service_spec.h"
#include "exec/process.h"
#include "spec/kiln_config.h"

namespace kiln::deploy {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

TEST(ServiceSpecTest, RoundsAsEcsAndClampsTheBreakerThreshold) {
  ServiceSpec spec{.minimum_healthy_percent = 50, .maximum_percent = 150};
  EXPECT_EQ(spec.MinHealthyTasks(3), 2);  // 1.5 rounded up
  EXPECT_EQ(spec.MaxTasks(3), 4);         // 4.5 rounded down
  EXPECT_EQ(spec.FailureThreshold(1), 3);
  EXPECT_EQ(spec.FailureThreshold(7), 4);
  EXPECT_EQ(spec.FailureThreshold(10), 5);
  EXPECT_EQ(spec.FailureThreshold(1000), 200);
  spec.circuit_breaker.threshold = 2;
  EXPECT_EQ(spec.FailureThreshold(10), 2);
}

TEST(ServiceSpecTest, ParsesDurationsAndBalancer) {
  spec::Service service{.name = "web", .desired_count = 2, .definition_json = R"({
    "taskDefinition": {"containerDefinitions": [{"name": "web", "command": ["python3", "app.py"],
      "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "startPeriod": 10}}]},
    "deploymentTimeout": "5m", "stopTimeout": 7,
    "loadBalancer": {"listen": "127.0.0.1:4567", "healthCheck": {"path": "/h", "matcher": "200-299"}}})"};
  auto spec = ParseServiceSpec(service);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->deployment_timeout_ms, 300'000);
  EXPECT_EQ(spec->stop_timeout_ms, 7'000);
  EXPECT_EQ(spec->task.main().health_check->start_period_ms, 10'000);
  EXPECT_EQ(spec->load_balancer->health_check.path, "/h");
  EXPECT_EQ(spec->load_balancer->health_check.healthy_threshold, 5);  // ELB default
}

TEST(RevisionTest, ReplacesImagesByContainerNameAndCarriesTheRest) {
  Json configured = Json::parse(R"({"containerDefinitions": [{"name": "web", "image": "x"}]})");
  Json previous = Json::parse(R"({"containerDefinitions": [{"name": "web", "image": "old.tgz",
                                  "imageDigest": "sha256:ab"}]})");
  auto carried = NextTaskDefinition(configured, &previous, {});
  ASSERT_TRUE(carried.ok());
  EXPECT_EQ((*carried)["containerDefinitions"][0]["imageDigest"], "sha256:ab");
  auto images = ParseImageFile(R"([{"name":"web","imageUri":"new.tgz"}])");
  ASSERT_TRUE(images.ok());
  auto next = NextTaskDefinition(configured, &previous, *images);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)["containerDefinitions"][0]["image"], "new.tgz");
  EXPECT_EQ(UnresolvedContainers(*next), std::vector<size_t>{0});
}

TEST(RevisionTest, ImageDetailAppliesToTheFirstContainer) {
  auto images = ParseImageFile(R"({"ImageURI": "b.tgz"})");
  ASSERT_TRUE(images.ok());
  Json configured = Json::parse(R"({"containerDefinitions": [{"name": "web"}]})");
  EXPECT_EQ((*NextTaskDefinition(configured, nullptr, *images))["containerDefinitions"][0]["image"],
            "b.tgz");
}

TEST(RevisionTest, UnknownContainerNamesAreNamed) {
  Json configured = Json::parse(R"({"containerDefinitions": [{"name": "web"}]})");
  auto next = NextTaskDefinition(configured, nullptr, {{"api", "a"}, {"db", "b"}});
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().message().find("'api', 'db'"), std::string::npos)
      << next.status().message();
  EXPECT_FALSE(ParseImageFile("[]").ok());
  EXPECT_FALSE(ParseImageFile("{}").ok());
}

class BundleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kiln-bundle-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "art" / "src");
    std::ofstream(root_ / "art" / "src" / "app.py") << "print(1)\n";
  }
  void TearDown() override { fs::remove_all(root_); }
  void Tar(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"tar"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = exec::Capture(argv, root_.string());
    ASSERT_TRUE(r.ok() && r->exit_code == 0);
  }
  fs::path root_;
};

TEST_F(BundleStoreTest, ImportsArchivesAndDirectoriesByContentHash) {
  Tar({"-czf", "art/b.tgz", "-C", "art/src", "app.py"});
  BundleStore store(root_ / "bundles");
  auto a = store.Import("b.tgz", root_ / "art");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(fs::exists(store.PathOf(*a) / "app.py"));
  auto again = store.Import("file://" + (root_ / "art" / "b.tgz").string(), "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*a, *again);
  auto dir = store.Import("src", root_ / "art");
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  EXPECT_TRUE(fs::exists(store.PathOf(*dir) / "app.py"));
  EXPECT_EQ(store.Import("missing.tgz", root_ / "art").status().kind(), base::ErrorKind::kNotFound);
  EXPECT_FALSE(store.Import("../art/b.tgz", root_ / "art" / "src").ok());
}

TEST_F(BundleStoreTest, RefusesEntriesEscapingTheBundle) {
  Tar({"-czf", "art/evil.tgz", "--absolute-names", "-P",
       (root_ / "art" / "src" / "app.py").string()});
  BundleStore store(root_ / "bundles");
  auto r = store.Import("evil.tgz", root_ / "art");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("escapes"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace kiln::deploy
