#include "codebuild/cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/test_tree.h"

namespace kiln::codebuild {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;
using base::TestTree;
using ::testing::HasSubstr;

spec::Cache Keyed(std::string key, std::vector<std::string> fallback = {}) {
  return spec::Cache{.present = true,
                     .key = std::move(key),
                     .fallback_keys = std::move(fallback),
                     .paths = {"deps/**/*"}};
}

spec::Cache Unkeyed() { return spec::Cache{.present = true, .paths = {"deps/**/*"}}; }

// Every path under root, relative, to prove nothing was written elsewhere.
std::vector<std::string> AllPaths(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    out.push_back(fs::relative(e.path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CacheTest : public ::testing::Test {
 protected:
  // Saves the current src_ and expects n files saved.
  void SaveExpect(const spec::Cache& cache, size_t n) {
    base::Result<size_t> saved = cache_.Save(cache, src_.path());
    ASSERT_TRUE(saved.ok()) << saved.status().message();
    EXPECT_EQ(*saved, n);
  }
  // Restores into a fresh folder, returning what the restore reported.
  CacheRestore RestoreFresh(const spec::Cache& cache) {
    fresh_ = std::make_unique<TestTree>();
    base::Result<CacheRestore> r = cache_.Restore(cache, fresh_->path());
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : CacheRestore{};
  }
  // Keyed saves are ordered by save time; make sure two saves do not share a timestamp.
  static void Tick() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }

  TestTree root_;
  TestTree src_;
  std::unique_ptr<TestTree> fresh_;
  LocalCache cache_{root_.path(), "proj"};
};

TEST_F(CacheTest, UnkeyedSaveThenRestore) {
  src_.Write("deps/a.txt", "A");
  src_.Write("deps/sub/b.txt", "B");
  src_.Write("other.txt", "not cached");
  SaveExpect(Unkeyed(), 2);
  CacheRestore r = RestoreFresh(Unkeyed());
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.key, "");
  EXPECT_EQ(r.files, 2u);
  EXPECT_EQ(fresh_->Read("deps/a.txt"), "A");
  EXPECT_EQ(fresh_->Read("deps/sub/b.txt"), "B");
  EXPECT_FALSE(fs::exists(fresh_->path() / "other.txt"));
}

TEST_F(CacheTest, UnkeyedCacheIsReplacedOnSave) {
  src_.Write("deps/a.txt", "old");
  src_.Write("deps/gone.txt", "old");
  SaveExpect(Unkeyed(), 2);
  fs::remove(src_ / "deps/gone.txt");
  src_.Write("deps/a.txt", "new");
  SaveExpect(Unkeyed(), 1);
  CacheRestore r = RestoreFresh(Unkeyed());
  EXPECT_EQ(r.files, 1u);
  EXPECT_EQ(fresh_->Read("deps/a.txt"), "new");
  EXPECT_FALSE(fs::exists(fresh_->path() / "deps/gone.txt"));
  EXPECT_TRUE(fs::is_empty(root_ / "proj/tmp"));  // the old cache was deleted
}

TEST_F(CacheTest, MissWhenNothingSaved) {
  EXPECT_FALSE(RestoreFresh(Unkeyed()).hit);
  EXPECT_FALSE(RestoreFresh(Keyed("k", {"k"})).hit);
}

TEST_F(CacheTest, ExactKeyRestores) {
  src_.Write("deps/a.txt", "v1");
  SaveExpect(Keyed("npm-123"), 1);
  CacheRestore r = RestoreFresh(Keyed("npm-123"));
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.key, "npm-123");
  EXPECT_EQ(fresh_->Read("deps/a.txt"), "v1");
  EXPECT_FALSE(RestoreFresh(Keyed("npm-12")).hit);  // exact, not a prefix, without fallbacks
}

TEST_F(CacheTest, KeyedCacheIsImmutable) {
  src_.Write("deps/a.txt", "first");
  SaveExpect(Keyed("k"), 1);
  src_.Write("deps/a.txt", "second");
  src_.Write("deps/b.txt", "second");
  SaveExpect(Keyed("k"), 0);
  CacheRestore r = RestoreFresh(Keyed("k"));
  EXPECT_EQ(r.files, 1u);
  EXPECT_EQ(fresh_->Read("deps/a.txt"), "first");
}

TEST_F(CacheTest, FallbackPrefixPicksTheNewestSavedKey) {
  src_.Write("deps/a.txt", "aaa");
  SaveExpect(Keyed("npm-aaa"), 1);
  Tick();
  src_.Write("deps/a.txt", "bbb");
  SaveExpect(Keyed("npm-bbb"), 1);
  Tick();
  src_.Write("deps/a.txt", "other");
  SaveExpect(Keyed("pip-zzz"), 1);
  CacheRestore r = RestoreFresh(Keyed("npm-ccc", {"npm-"}));
  EXPECT_TRUE(r.hit);
  EXPECT_EQ(r.key, "npm-bbb");
  EXPECT_EQ(fresh_->Read("deps/a.txt"), "bbb");
}

TEST_F(CacheTest, FallbackKeysAreTriedInOrder) {
  src_.Write("deps/a.txt", "older");
  SaveExpect(Keyed("yarn-1"), 1);
  Tick();
  src_.Write("deps/a.txt", "newer");
  SaveExpect(Keyed("npm-1"), 1);
  EXPECT_EQ(RestoreFresh(Keyed("x", {"none-", "yarn-", "npm-"})).key, "yarn-1");
  EXPECT_EQ(RestoreFresh(Keyed("npm-1", {"yarn-"})).key, "npm-1");  // exact key first
  EXPECT_FALSE(RestoreFresh(Keyed("x", {"none-"})).hit);
}

TEST_F(CacheTest, UnkeyedAndKeyedCachesAreSeparate) {
  src_.Write("deps/a.txt", "keyed");
  SaveExpect(Keyed("k"), 1);
  EXPECT_FALSE(RestoreFresh(Unkeyed()).hit);
  src_.Write("deps/a.txt", "unkeyed");
  SaveExpect(Unkeyed(), 1);
  EXPECT_EQ(RestoreFresh(Keyed("k")).key, "k");
  EXPECT_EQ(fresh_->Read("deps/a.txt"), "keyed");
}

TEST_F(CacheTest, ActionRestoreOnlyRestoresAndSaveOnlySaves) {
  src_.Write("deps/a.txt", "x");
  spec::Cache restore_only = Keyed("k");
  restore_only.action = "restore";
  SaveExpect(restore_only, 0);
  EXPECT_FALSE(RestoreFresh(Keyed("k")).hit);
  spec::Cache save_only = Keyed("k");
  save_only.action = "save";
  SaveExpect(save_only, 1);
  EXPECT_FALSE(RestoreFresh(save_only).hit);
  EXPECT_TRUE(RestoreFresh(restore_only).hit);
}

TEST_F(CacheTest, BadActionIsInvalidInput) {
  spec::Cache cache = Keyed("k");
  cache.action = "both";
  base::Result<size_t> saved = cache_.Save(cache, src_.path());
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_FALSE(cache_.Restore(cache, src_.path()).ok());
}

TEST_F(CacheTest, AbsentCacheSectionDoesNothing) {
  src_.Write("deps/a.txt");
  spec::Cache cache = Unkeyed();
  cache.present = false;
  SaveExpect(cache, 0);
  EXPECT_FALSE(RestoreFresh(Unkeyed()).hit);
}

TEST_F(CacheTest, NothingMatchedDoesNotPinAKey) {
  SaveExpect(Keyed("k"), 0);
  src_.Write("deps/a.txt", "later");
  SaveExpect(Keyed("k"), 1);
  EXPECT_EQ(RestoreFresh(Keyed("k")).files, 1u);
}

TEST_F(CacheTest, AbsolutePathsAreRefused) {
  spec::Cache cache = Keyed("k");
  cache.paths = {"/root/.m2/**/*"};
  base::Result<size_t> saved = cache_.Save(cache, src_.path());
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_THAT(saved.status().message(), HasSubstr("/root/.m2"));
}

TEST_F(CacheTest, SymlinkEscapingTheSourceIsRefusedOnSave) {
  TestTree outside;
  outside.Write("secret", "s");
  src_.Symlink("deps/secret", outside / "secret");
  base::Result<size_t> saved = cache_.Save(Keyed("k"), src_.path());
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.status().kind(), ErrorKind::kInvalidInput);
}

TEST_F(CacheTest, KeysCannotEscapeTheCacheRoot) {
  src_.Write("deps/a.txt", "x");
  for (std::string key : {"../../escape", "a/b", ".", "..", "%2F", "with space\n", "/abs"}) {
    SaveExpect(Keyed(key), 1);
    CacheRestore r = RestoreFresh(Keyed(key));
    EXPECT_TRUE(r.hit) << key;
    EXPECT_EQ(r.key, key);
  }
  // Each key is one folder directly under keys/; nothing was created beside the project.
  for (const auto& e : fs::directory_iterator(root_ / "proj/keys")) {
    EXPECT_TRUE(fs::is_directory(e.path() / "deps")) << e.path();
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "proj/keys"), {}), 7);
  EXPECT_EQ(std::distance(fs::directory_iterator(root_.path()), {}), 1);
  EXPECT_EQ(RestoreFresh(Keyed("zzz", {"a/"})).key, "a/b");
}

TEST_F(CacheTest, ProjectNamesCannotEscapeTheCacheRoot) {
  src_.Write("deps/a.txt");
  LocalCache evil(root_ / "cache", "../../x");
  base::Result<size_t> saved = evil.Save(Unkeyed(), src_.path());
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  EXPECT_EQ(AllPaths(root_.path()).front(), "cache");
  EXPECT_EQ(std::distance(fs::directory_iterator(root_.path()), {}), 1);
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "cache"), {}), 1);
}

TEST_F(CacheTest, EmptyOrHugeKeyIsInvalidInput) {
  src_.Write("deps/a.txt");
  EXPECT_EQ(cache_.Save(Keyed(""), src_.path()).status().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(cache_.Save(Keyed(std::string(300, 'k')), src_.path()).status().kind(),
            ErrorKind::kInvalidInput);
}

TEST_F(CacheTest, RestoreDoesNotWriteThroughASymlinkInTheSource) {
  src_.Write("deps/a.txt", "cached");
  SaveExpect(Unkeyed(), 1);
  TestTree target, outside;
  target.Symlink("deps", outside.path());  // planted by the checkout
  base::Result<CacheRestore> r = cache_.Restore(Unkeyed(), target.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(fs::is_empty(outside.path()));
}

TEST_F(CacheTest, RestoreOverwritesExistingFilesAndKeepsModes) {
  src_.Write("deps/tool", "#!/bin/sh\n");
  fs::permissions(src_ / "deps/tool", fs::perms::owner_all);
  SaveExpect(Unkeyed(), 1);
  TestTree target;
  target.Write("deps/tool", "stale");
  ASSERT_TRUE(cache_.Restore(Unkeyed(), target.path()).ok());
  EXPECT_EQ(target.Read("deps/tool"), "#!/bin/sh\n");
  EXPECT_EQ(fs::status(target / "deps/tool").permissions(), fs::perms::owner_all);
}

// A crash mid-save leaves a staging folder: never seen by restore, swept once stale.
TEST_F(CacheTest, CrashedSaveIsInvisibleAndSweptLater) {
  fs::path stale = root_ / "proj/tmp/crashed";
  fs::create_directories(stale / "deps");
  std::ofstream(stale / "deps/half.txt") << "half";
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(48));
  fs::path recent = root_ / "proj/tmp/in-progress";
  fs::create_directories(recent);
  EXPECT_FALSE(RestoreFresh(Unkeyed()).hit);
  src_.Write("deps/a.txt");
  SaveExpect(Unkeyed(), 1);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(recent));
  EXPECT_FALSE(fs::exists(fresh_->path() / "deps/half.txt"));
}

}  // namespace
}  // namespace kiln::codebuild
