#include "base/glob.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "base/test_tree.h"

namespace kiln::base {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(GlobMatch, LiteralPaths) {
  EXPECT_TRUE(GlobMatch("a.txt", "a.txt"));
  EXPECT_TRUE(GlobMatch("dir/file", "dir/file"));
  EXPECT_FALSE(GlobMatch("dir/file", "dir/file2"));
  EXPECT_FALSE(GlobMatch("dir", "dir/file"));
  EXPECT_FALSE(GlobMatch("a.txt", "b/a.txt"));
}

TEST(GlobMatch, StarStaysInOneComponent) {
  EXPECT_TRUE(GlobMatch("*.txt", "a.txt"));
  EXPECT_TRUE(GlobMatch("*.txt", ".txt"));
  EXPECT_FALSE(GlobMatch("*.txt", "d/a.txt"));
  EXPECT_TRUE(GlobMatch("dir/*", "dir/a"));
  EXPECT_FALSE(GlobMatch("dir/*", "dir/x/a"));
  EXPECT_FALSE(GlobMatch("dir/*", "dir"));
  EXPECT_TRUE(GlobMatch("a*b*c", "abc"));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyybzc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyybz"));
  EXPECT_TRUE(GlobMatch("*", ".hidden"));  // CodeBuild's **/* includes dot files
}

TEST(GlobMatch, QuestionMarkIsOneCharacter) {
  EXPECT_TRUE(GlobMatch("?.c", "a.c"));
  EXPECT_FALSE(GlobMatch("?.c", "ab.c"));
  EXPECT_FALSE(GlobMatch("?.c", ".c"));
  EXPECT_FALSE(GlobMatch("a?b", "a/b"));
}

TEST(GlobMatch, DoubleStarCrossesComponentsIncludingNone) {
  EXPECT_TRUE(GlobMatch("dir/**/*", "dir/a"));
  EXPECT_TRUE(GlobMatch("dir/**/*", "dir/x/y/a"));
  EXPECT_FALSE(GlobMatch("dir/**/*", "dir"));
  EXPECT_FALSE(GlobMatch("dir/**/*", "other/a"));
  EXPECT_TRUE(GlobMatch("**/*", "a"));
  EXPECT_TRUE(GlobMatch("**/*", "a/b/c/d"));
  EXPECT_TRUE(GlobMatch("**", "a/b"));
  EXPECT_TRUE(GlobMatch("**/x.txt", "x.txt"));
  EXPECT_TRUE(GlobMatch("**/x.txt", "a/b/x.txt"));
  EXPECT_FALSE(GlobMatch("**/x.txt", "a/b/y.txt"));
  EXPECT_TRUE(GlobMatch("a/**/b/**/c", "a/b/c"));
  EXPECT_TRUE(GlobMatch("a/**/b/**/c", "a/x/b/y/z/c"));
  EXPECT_FALSE(GlobMatch("a/**/b/**/c", "a/x/c"));
  EXPECT_TRUE(GlobMatch("src/**/*.java", "src/main/java/A.java"));
  EXPECT_FALSE(GlobMatch("src/**/*.java", "src/main/java/A.class"));
}

TEST(GlobMatch, DoubleStarInsideAComponentIsAStar) {
  EXPECT_TRUE(GlobMatch("a**b", "axyb"));
  EXPECT_FALSE(GlobMatch("a**b", "ax/yb"));
}

TEST(GlobMatch, CharacterClasses) {
  EXPECT_TRUE(GlobMatch("[abc].txt", "b.txt"));
  EXPECT_FALSE(GlobMatch("[abc].txt", "d.txt"));
  EXPECT_TRUE(GlobMatch("file[0-9]", "file7"));
  EXPECT_FALSE(GlobMatch("file[0-9]", "filex"));
  EXPECT_TRUE(GlobMatch("[!a]*", "bcd"));
  EXPECT_FALSE(GlobMatch("[!a]*", "abc"));
  EXPECT_TRUE(GlobMatch("[^a]*", "bcd"));
  EXPECT_TRUE(GlobMatch("[]]", "]"));   // ']' first is a member
  EXPECT_TRUE(GlobMatch("[a-]", "-"));  // '-' last is a member
  EXPECT_TRUE(GlobMatch("x[", "x["));   // unterminated: literal '['
  EXPECT_FALSE(GlobMatch("[a-c]", "/"));
}

TEST(GlobMatch, BackslashEscapes) {
  EXPECT_TRUE(GlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(GlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(GlobMatch("\\[x]", "[x]"));
}

TEST(GlobMatch, EmptyAndDotComponentsAreIgnored) {
  EXPECT_TRUE(GlobMatch("./dir/*.txt", "dir/a.txt"));
  EXPECT_TRUE(GlobMatch("dir//a", "dir/a"));
  EXPECT_TRUE(GlobMatch("dir/", "dir"));
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
}

// Regression guard: naive recursive matchers take exponential time on these.
TEST(GlobMatch, PathologicalPatternsAreFast) {
  auto start = std::chrono::steady_clock::now();
  std::string long_name(20000, 'a');
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*b", long_name));
  EXPECT_TRUE(GlobMatch("*a*a*a*a*a*a*a*a*", long_name));
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "a/";
  deep += "x";
  EXPECT_FALSE(GlobMatch("**/a/**/a/**/a/**/a/**/a/**/b", deep));
  EXPECT_TRUE(GlobMatch("**/a/**/a/**/a/**/a/**/a/**/x", deep));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(GlobLiteralPrefix, StopsAtTheFirstWildcardComponent) {
  EXPECT_EQ(GlobLiteralPrefix("a/b/*.c"), "a/b");
  EXPECT_EQ(GlobLiteralPrefix("**/*"), "");
  EXPECT_EQ(GlobLiteralPrefix("./dist/"), "dist");
  EXPECT_EQ(GlobLiteralPrefix("a/x[12]/c"), "a");
  EXPECT_EQ(GlobLiteralPrefix("a/b"), "a/b");
  EXPECT_FALSE(GlobHasWildcards("a/b"));
  EXPECT_TRUE(GlobHasWildcards("a/?"));
  EXPECT_TRUE(GlobHasWildcards("a\\*"));
}

class GlobFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("top.txt");
    tree_.Write(".hidden");
    tree_.Write("dir/a.txt");
    tree_.Write("dir/b.log");
    tree_.Write("dir/sub/c.txt");
    tree_.Write("dir/sub/deeper/d.txt");
    tree_.Write("other/e.txt");
  }
  TestTree tree_;
};

TEST_F(GlobFilesTest, DoubleStarListsEverythingSorted) {
  EXPECT_THAT(GlobFiles(tree_.path(), "**/*"),
              ElementsAre(".hidden", "dir/a.txt", "dir/b.log", "dir/sub/c.txt",
                          "dir/sub/deeper/d.txt", "other/e.txt", "top.txt"));
}

TEST_F(GlobFilesTest, StarListsOneFolderOnly) {
  EXPECT_THAT(GlobFiles(tree_.path(), "dir/*"), ElementsAre("dir/a.txt", "dir/b.log"));
  EXPECT_THAT(GlobFiles(tree_.path(), "*"), ElementsAre(".hidden", "top.txt"));
  EXPECT_THAT(GlobFiles(tree_.path(), "*/*.txt"), ElementsAre("dir/a.txt", "other/e.txt"));
}

TEST_F(GlobFilesTest, DirectoryNameSelectsItsTree) {
  std::vector<std::string> want = {"dir/sub/c.txt", "dir/sub/deeper/d.txt"};
  EXPECT_EQ(GlobFiles(tree_.path(), "dir/sub"), want);
  EXPECT_EQ(GlobFiles(tree_.path(), "dir/sub/"), want);
  EXPECT_EQ(GlobFiles(tree_.path(), "./dir/sub"), want);
}

TEST_F(GlobFilesTest, FileNameAndMissingPaths) {
  EXPECT_THAT(GlobFiles(tree_.path(), "dir/a.txt"), ElementsAre("dir/a.txt"));
  EXPECT_THAT(GlobFiles(tree_.path(), "dir/missing.txt"), IsEmpty());
  EXPECT_THAT(GlobFiles(tree_.path(), "nowhere/**/*"), IsEmpty());
  EXPECT_THAT(GlobFiles(tree_.path(), "dir/a.txt/x"), IsEmpty());
}

TEST_F(GlobFilesTest, DoubleStarInTheMiddle) {
  EXPECT_THAT(GlobFiles(tree_.path(), "dir/**/*.txt"),
              ElementsAre("dir/a.txt", "dir/sub/c.txt", "dir/sub/deeper/d.txt"));
  EXPECT_THAT(GlobFiles(tree_.path(), "**/d.txt"), ElementsAre("dir/sub/deeper/d.txt"));
  EXPECT_THAT(GlobFiles(tree_.path(), "*/sub/*/*"), ElementsAre("dir/sub/deeper/d.txt"));
}

TEST_F(GlobFilesTest, DirectorySymlinksAreListedNotFollowed) {
  tree_.Symlink("link", "dir");
  tree_.Symlink("filelink", "top.txt");
  std::vector<std::string> all = GlobFiles(tree_.path(), "**/*");
  EXPECT_THAT(all, ::testing::Contains("link"));
  EXPECT_THAT(all, ::testing::Contains("filelink"));
  EXPECT_THAT(all, ::testing::Not(::testing::Contains("link/a.txt")));
}

TEST_F(GlobFilesTest, SymlinkOnTheLiteralPrefixIsFollowed) {
  tree_.Symlink("link", "dir/sub");
  EXPECT_THAT(GlobFiles(tree_.path(), "link/*"), ElementsAre("link/c.txt"));
  EXPECT_THAT(GlobFiles(tree_.path(), "link"), ElementsAre("link/c.txt", "link/deeper/d.txt"));
}

TEST_F(GlobFilesTest, SpecialFilesAreSkipped) {
  ASSERT_EQ(::mkfifo((tree_.path() / "dir/fifo").c_str(), 0600), 0);
  EXPECT_THAT(GlobFiles(tree_.path(), "dir/*"), ElementsAre("dir/a.txt", "dir/b.log"));
}

TEST(GlobDirectories, MatchesFoldersAtAnyDepthNotBelowThePattern) {
  TestTree tree;
  tree.Write("my-build1/app.jar");
  tree.Write("my-build2/sub/x");
  tree.Write("my-build3");  // a file, not a folder
  tree.Write("nested/my-build4/y");
  tree.Symlink("my-build-link", "my-build1");
  EXPECT_THAT(GlobDirectories(tree.path(), "my-build*"),
              ElementsAre("my-build-link", "my-build1", "my-build2"));
  EXPECT_THAT(GlobDirectories(tree.path(), "**/my-build*"),
              ElementsAre("my-build-link", "my-build1", "my-build2", "nested/my-build4"));
  EXPECT_THAT(GlobDirectories(tree.path(), "my-build*/*"), ElementsAre("my-build2/sub"));
}

}  // namespace
}  // namespace kiln::base
