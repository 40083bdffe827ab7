#include "store/state_dir.h"

#include <gtest/gtest.h>

#include "base/test_tree.h"

namespace kiln::store {
namespace {

namespace fs = std::filesystem;

fs::perms Perms(const fs::path& p) { return fs::symlink_status(p).permissions(); }

class StateDirTest : public ::testing::Test {
 protected:
  // What an older Kiln (umask 022) left: readable by everyone.
  fs::path Old(const std::string& rel, fs::perms perms = fs::perms(0644)) {
    fs::path p = tree_.Write("state/" + rel, "secret record");
    fs::permissions(p, perms);
    return p;
  }
  base::TestTree tree_;
  fs::path state_ = tree_ / "state";
};

TEST_F(StateDirTest, OlderFilesAndFoldersLoseGroupAndOtherBits) {
  fs::path db = Old("kiln.db");
  fs::path log = Old("logs/p/1.log", fs::perms(0664));
  fs::path tool = Old("bundles/abc/bin/tool", fs::perms(0755));
  fs::permissions(state_, fs::perms(0755));
  fs::permissions(state_ / "logs", fs::perms(0775));
  ASSERT_TRUE(SecureStateDir(state_, ModeCheck::kAlways).ok());
  EXPECT_EQ(Perms(state_), fs::perms(0700));
  EXPECT_EQ(Perms(state_ / "logs"), fs::perms(0700));
  EXPECT_EQ(Perms(db), fs::perms(0600));
  EXPECT_EQ(Perms(log), fs::perms(0600));
  EXPECT_EQ(Perms(tool), fs::perms(0700));
}

TEST_F(StateDirTest, SymlinksAreNotFollowed) {
  fs::path outside = tree_.Write("outside/file", "not ours to change");
  fs::permissions(outside, fs::perms(0644));
  fs::permissions(outside.parent_path(), fs::perms(0755));
  fs::create_directories(state_);
  fs::create_symlink(outside, state_ / "link");
  fs::create_directory_symlink(outside.parent_path(), state_ / "dir-link");
  ASSERT_TRUE(SecureStateDir(state_, ModeCheck::kAlways).ok());
  EXPECT_EQ(Perms(outside), fs::perms(0644));
  EXPECT_EQ(Perms(outside.parent_path()), fs::perms(0755));
  EXPECT_TRUE(fs::is_symlink(state_ / "link"));
}

// Builds run with umask 022 inside their workspaces; what they made there is theirs.
TEST_F(StateDirTest, WorkspaceContentsAreLeftAsTheBuildMadeThem) {
  fs::path built = Old("workspaces/p-1/src/out.txt");
  fs::path task = Old("services/web/tasks/t1/app.txt");
  fs::path task_log = Old("services/web/tasks/t1.log");
  fs::permissions(state_ / "workspaces/p-1", fs::perms(0755));
  ASSERT_TRUE(SecureStateDir(state_, ModeCheck::kAlways).ok());
  EXPECT_EQ(Perms(built), fs::perms(0644));
  EXPECT_EQ(Perms(task), fs::perms(0644));
  EXPECT_EQ(Perms(state_ / "workspaces/p-1"), fs::perms(0700));
  EXPECT_EQ(Perms(task_log), fs::perms(0600));
}

TEST_F(StateDirTest, OnceSkipsADirAlreadyFixedAndAlwaysDoesNot) {
  ASSERT_TRUE(SecureStateDir(state_, ModeCheck::kOnce).ok());
  EXPECT_EQ(Perms(state_), fs::perms(0700));
  fs::path later = Old("later.json");
  ASSERT_TRUE(SecureStateDir(state_, ModeCheck::kOnce).ok());
  EXPECT_EQ(Perms(later), fs::perms(0644));
  ASSERT_TRUE(SecureStateDir(state_, ModeCheck::kAlways).ok());
  EXPECT_EQ(Perms(later), fs::perms(0600));
}

}  // namespace
}  // namespace kiln::store
