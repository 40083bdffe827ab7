#include "codebuild/artifacts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/test_tree.h"

namespace kiln::codebuild {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;
using base::TestTree;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kNoMatch = "CLIENT_ERROR: no matching artifact paths found";

std::vector<std::string> Relatives(const std::vector<ArtifactFile>& files) {
  std::vector<std::string> out;
  for (const ArtifactFile& f : files) out.push_back(f.relative);
  return out;
}

spec::ArtifactSpec Files(std::vector<std::string> files) {
  return spec::ArtifactSpec{.files = std::move(files)};
}

class ArtifactsTest : public ::testing::Test {
 protected:
  // Resolves and expects success; returns the artifact paths.
  std::vector<std::string> Resolve(const spec::ArtifactSpec& spec) {
    base::Result<std::vector<ArtifactFile>> r = ResolveArtifactFiles(spec, src_.path());
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? Relatives(*r) : std::vector<std::string>{};
  }
  // Resolves and expects an error of kind; returns its message.
  std::string ResolveError(const spec::ArtifactSpec& spec, ErrorKind kind) {
    base::Result<std::vector<ArtifactFile>> r = ResolveArtifactFiles(spec, src_.path());
    EXPECT_FALSE(r.ok()) << "resolved to " << ::testing::PrintToString(Relatives(r.value()));
    if (r.ok()) return "";
    EXPECT_EQ(r.status().kind(), kind) << r.status().message();
    return r.status().message();
  }

  TestTree src_;
  TestTree outside_;
};

TEST_F(ArtifactsTest, FilesAreRelativeToTheSourceDirectoryAndSorted) {
  src_.Write("b.txt");
  src_.Write("a/x.txt");
  src_.Write("a/deep/y.txt");
  EXPECT_THAT(Resolve(Files({"**/*"})), ElementsAre("a/deep/y.txt", "a/x.txt", "b.txt"));
  EXPECT_THAT(Resolve(Files({"a/*"})), ElementsAre("a/x.txt"));
  EXPECT_THAT(Resolve(Files({"a/**/*"})), ElementsAre("a/deep/y.txt", "a/x.txt"));
  EXPECT_THAT(Resolve(Files({"./b.txt"})), ElementsAre("b.txt"));
  EXPECT_THAT(Resolve(Files({"a"})), ElementsAre("a/deep/y.txt", "a/x.txt"));
}

TEST_F(ArtifactsTest, SourcesAreAbsoluteRealPaths) {
  src_.Write("a/x.txt", "hello");
  base::Result<std::vector<ArtifactFile>> r = ResolveArtifactFiles(Files({"a/x.txt"}), src_.path());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front().source, fs::canonical(src_ / "a/x.txt"));
}

TEST_F(ArtifactsTest, SameFileFromTwoPatternsIsListedOnce) {
  src_.Write("a/x.txt");
  EXPECT_THAT(Resolve(Files({"**/*", "a/*.txt", "a/x.txt"})), ElementsAre("a/x.txt"));
}

TEST_F(ArtifactsTest, BaseDirectoryIsNotPartOfTheArtifactPaths) {
  src_.Write("out/app.jar");
  src_.Write("out/lib/dep.jar");
  src_.Write("src/Main.java");
  spec::ArtifactSpec spec{.files = {"**/*"}, .base_directory = "out"};
  EXPECT_THAT(Resolve(spec), ElementsAre("app.jar", "lib/dep.jar"));
  spec.base_directory = "./out/";
  EXPECT_THAT(Resolve(spec), ElementsAre("app.jar", "lib/dep.jar"));
}

TEST_F(ArtifactsTest, BaseDirectoryGlobMatchesEachFolder) {
  src_.Write("my-build1/a.jar");
  src_.Write("my-build2/b.jar");
  src_.Write("my-build2/notes.txt");
  src_.Write("other/c.jar");
  spec::ArtifactSpec spec{.files = {"*.jar"}, .base_directory = "my-build*"};
  EXPECT_THAT(Resolve(spec), ElementsAre("a.jar", "b.jar"));
}

TEST_F(ArtifactsTest, BaseDirectoryGlobClashIsRefusedNamingBoth) {
  src_.Write("my-build1/app.jar");
  src_.Write("my-build2/app.jar");
  spec::ArtifactSpec spec{.files = {"*.jar"}, .base_directory = "my-build*"};
  std::string msg = ResolveError(spec, ErrorKind::kInvalidInput);
  EXPECT_THAT(msg, HasSubstr("my-build1/app.jar"));
  EXPECT_THAT(msg, HasSubstr("my-build2/app.jar"));
}

TEST_F(ArtifactsTest, BaseDirectoryMatchingNothingIsAClientError) {
  src_.Write("out/a");
  spec::ArtifactSpec spec{.files = {"**/*"}, .base_directory = "dist*"};
  EXPECT_THAT(ResolveError(spec, ErrorKind::kFailed), StartsWith(kNoMatch));
  spec.base_directory = "dist";
  EXPECT_THAT(ResolveError(spec, ErrorKind::kFailed), StartsWith(kNoMatch));
}

TEST_F(ArtifactsTest, DiscardPathsKeepsFileNames) {
  src_.Write("target/a/x.jar");
  src_.Write("target/b/c/y.jar");
  spec::ArtifactSpec spec{.files = {"target/**/*"}, .discard_paths = true};
  EXPECT_THAT(Resolve(spec), ElementsAre("x.jar", "y.jar"));
}

TEST_F(ArtifactsTest, DiscardPathsDuplicateNamesAreRefusedNamingBoth) {
  src_.Write("a/x.txt");
  src_.Write("b/x.txt");
  spec::ArtifactSpec spec{.files = {"**/*"}, .discard_paths = true};
  std::string msg = ResolveError(spec, ErrorKind::kInvalidInput);
  EXPECT_THAT(msg, HasSubstr("'a/x.txt'"));
  EXPECT_THAT(msg, HasSubstr("'b/x.txt'"));
  EXPECT_THAT(msg, HasSubstr("'x.txt'"));
}

TEST_F(ArtifactsTest, ExcludeStarStaysInOneFolderDoubleStarCrosses) {
  src_.Write("out/a.log");
  src_.Write("out/sub/b.log");
  src_.Write("out/c.txt");
  spec::ArtifactSpec spec{.files = {"**/*"}, .base_directory = "out"};
  spec.exclude_paths = {"*.log"};
  EXPECT_THAT(Resolve(spec), ElementsAre("c.txt", "sub/b.log"));
  spec.exclude_paths = {"**/*.log"};
  EXPECT_THAT(Resolve(spec), ElementsAre("c.txt"));
  spec.exclude_paths = {"sub/*"};
  EXPECT_THAT(Resolve(spec), ElementsAre("a.log", "c.txt"));
}

TEST_F(ArtifactsTest, ExcludePathsAreRelativeToBaseDirectory) {
  src_.Write("out/keep.txt");
  src_.Write("out/drop.txt");
  spec::ArtifactSpec spec{.files = {"**/*"}, .base_directory = "out"};
  spec.exclude_paths = {"out/drop.txt"};  // relative to src: matches nothing
  EXPECT_THAT(Resolve(spec), ElementsAre("drop.txt", "keep.txt"));
  spec.exclude_paths = {"drop.txt"};
  EXPECT_THAT(Resolve(spec), ElementsAre("keep.txt"));
}

TEST_F(ArtifactsTest, PatternMatchingNothingIsAClientErrorNamingIt) {
  src_.Write("a.txt");
  std::string msg = ResolveError(Files({"a.txt", "dist/*.zip"}), ErrorKind::kFailed);
  EXPECT_THAT(msg, StartsWith(kNoMatch));
  EXPECT_THAT(msg, HasSubstr("'dist/*.zip'"));
}

TEST_F(ArtifactsTest, AllowNoMatchReturnsWhatMatched) {
  src_.Write("a.txt");
  base::Result<std::vector<ArtifactFile>> r =
      ResolveArtifactFiles(Files({"a.txt", "missing/**/*"}), src_.path(), {.allow_no_match = true});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(Relatives(*r), ElementsAre("a.txt"));
}

TEST_F(ArtifactsTest, DotDotIsRefused) {
  src_.Write("a/x.txt");
  for (std::string pattern : {"../x", "a/../../x", "a/..", "**/../*"}) {
    EXPECT_THAT(ResolveError(Files({pattern}), ErrorKind::kInvalidInput), HasSubstr(pattern));
  }
  spec::ArtifactSpec spec{.files = {"*"}, .base_directory = "a/../.."};
  EXPECT_THAT(ResolveError(spec, ErrorKind::kInvalidInput), HasSubstr("a/../.."));
}

TEST_F(ArtifactsTest, AbsolutePathsAreRefused) {
  EXPECT_THAT(ResolveError(Files({"/etc/passwd"}), ErrorKind::kInvalidInput),
              HasSubstr("/etc/passwd"));
  spec::ArtifactSpec spec{.files = {"*"}, .base_directory = "/etc"};
  EXPECT_THAT(ResolveError(spec, ErrorKind::kInvalidInput), HasSubstr("/etc"));
  EXPECT_EQ(ResolveError(Files({""}), ErrorKind::kInvalidInput), "artifact path is empty");
}

TEST_F(ArtifactsTest, FileSymlinkToEtcPasswdIsRefused) {
  src_.Write("ok.txt");
  src_.Symlink("dist/passwd", "/etc/passwd");
  EXPECT_THAT(ResolveError(Files({"**/*"}), ErrorKind::kInvalidInput), HasSubstr("dist/passwd"));
  EXPECT_THAT(ResolveError(Files({"dist/passwd"}), ErrorKind::kInvalidInput),
              HasSubstr("dist/passwd"));
}

TEST_F(ArtifactsTest, RelativeSymlinkClimbingOutIsRefused) {
  outside_.Write("secret", "s3cr3t");
  src_.Symlink("a/b/esc", fs::relative(outside_ / "secret", src_ / "a/b"));
  EXPECT_THAT(ResolveError(Files({"a/**/*"}), ErrorKind::kInvalidInput), HasSubstr("a/b/esc"));
}

TEST_F(ArtifactsTest, SymlinkedDirectoryOutsideIsRefused) {
  outside_.Write("secret/key.pem", "private");
  src_.Symlink("linkdir", outside_ / "secret");
  EXPECT_THAT(ResolveError(Files({"linkdir/*"}), ErrorKind::kInvalidInput), HasSubstr("linkdir"));
  EXPECT_THAT(ResolveError(Files({"linkdir/key.pem"}), ErrorKind::kInvalidInput),
              HasSubstr("linkdir"));
  EXPECT_THAT(ResolveError(Files({"linkdir"}), ErrorKind::kInvalidInput), HasSubstr("linkdir"));
  // RELIABILITY D11: a `**/*` walk meets the link itself and refuses it.
  EXPECT_THAT(ResolveError(Files({"**/*"}), ErrorKind::kInvalidInput), HasSubstr("linkdir"));
  spec::ArtifactSpec spec{.files = {"*"}, .base_directory = "linkdir"};
  EXPECT_THAT(ResolveError(spec, ErrorKind::kInvalidInput), HasSubstr("linkdir"));
  spec.base_directory = "link*";
  EXPECT_THAT(ResolveError(spec, ErrorKind::kInvalidInput), HasSubstr("linkdir"));
}

TEST_F(ArtifactsTest, SymlinkToRootIsRefused) {
  src_.Write("a.txt");
  src_.Symlink("root", "/");
  EXPECT_THAT(ResolveError(Files({"**/*"}), ErrorKind::kInvalidInput), HasSubstr("root"));
  EXPECT_THAT(ResolveError(Files({"root/etc/passwd"}), ErrorKind::kInvalidInput),
              HasSubstr("root"));
}

TEST_F(ArtifactsTest, SymlinksInsideAreAllowedAndResolved) {
  src_.Write("real/x.txt", "data");
  src_.Symlink("link.txt", "real/x.txt");
  src_.Symlink("dlink", "real");
  base::Result<std::vector<ArtifactFile>> r = ResolveArtifactFiles(Files({"**/*"}), src_.path());
  ASSERT_TRUE(r.ok()) << r.status().message();
  // dlink is a folder symlink met by the walk: not followed, its file is already there as real/.
  EXPECT_THAT(Relatives(*r), ElementsAre("link.txt", "real/x.txt"));
  EXPECT_EQ(r->front().source, fs::canonical(src_ / "real/x.txt"));
  // Named explicitly, a folder symlink inside is followed.
  EXPECT_THAT(Resolve(Files({"dlink/*"})), ElementsAre("dlink/x.txt"));
  spec::ArtifactSpec spec{.files = {"*"}, .base_directory = "dlink"};
  EXPECT_THAT(Resolve(spec), ElementsAre("x.txt"));
}

TEST_F(ArtifactsTest, DanglingSymlinkIsRefused) {
  src_.Symlink("gone", "does-not-exist");
  EXPECT_THAT(ResolveError(Files({"*"}), ErrorKind::kInvalidInput), HasSubstr("gone"));
}

TEST_F(ArtifactsTest, SymlinkToSpecialFileIsRefused) {
  ASSERT_EQ(::mkfifo((src_ / "fifo").c_str(), 0600), 0);
  src_.Symlink("pipe", "fifo");
  EXPECT_THAT(ResolveError(Files({"pipe"}), ErrorKind::kInvalidInput), HasSubstr("pipe"));
}

class WriteArtifactsTest : public ArtifactsTest {
 protected:
  fs::path out() const { return outside_ / "out"; }
};

// Under Kiln's umask (077) a copy in the state dir is the user's alone, as cp would make it.
TEST_F(WriteArtifactsTest, CopiesLoseTheBitsTheUmaskRemoves) {
  src_.Write("a.txt", "x");
  fs::permissions(src_ / "a.txt", fs::perms(0644));
  src_.Write("bin/run", "#!/bin/sh\n");
  fs::permissions(src_ / "bin/run", fs::perms(0755));
  base::Result<std::vector<ArtifactFile>> r = ResolveArtifactFiles(Files({"**/*"}), src_.path());
  ASSERT_TRUE(r.ok()) << r.status().message();
  mode_t ours = ::umask(077);
  base::Status written = WriteArtifactFiles(*r, out());
  ::umask(ours);
  ASSERT_TRUE(written.ok()) << written.message();
  EXPECT_EQ(fs::status(out() / "a.txt").permissions(), fs::perms(0600));
  EXPECT_EQ(fs::status(out() / "bin/run").permissions(), fs::perms(0700));
  EXPECT_EQ(fs::status(out() / "bin").permissions(), fs::perms(0700));
}

TEST_F(WriteArtifactsTest, CopiesFilesWithParentsAndModes) {
  src_.Write("bin/tool", "#!/bin/sh\n");
  fs::permissions(src_ / "bin/tool", fs::perms::owner_all);
  src_.Write("real/x.txt", "data");
  src_.Symlink("link.txt", "real/x.txt");
  base::Result<std::vector<ArtifactFile>> r = ResolveArtifactFiles(Files({"**/*"}), src_.path());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(WriteArtifactFiles(*r, out()).ok());
  EXPECT_EQ(outside_.Read("out/bin/tool"), "#!/bin/sh\n");
  EXPECT_EQ(fs::status(out() / "bin/tool").permissions(), fs::perms::owner_all);
  EXPECT_EQ(outside_.Read("out/real/x.txt"), "data");
  EXPECT_EQ(outside_.Read("out/link.txt"), "data");
  EXPECT_FALSE(fs::is_symlink(out() / "link.txt"));  // copied as the file it points to
}

TEST_F(WriteArtifactsTest, RefusesPathsLeavingTheOutputFolder) {
  src_.Write("x", "payload");
  fs::path source = src_ / "x";
  for (std::string rel : {"../escaped", "a/../../escaped", "/tmp/escaped", ""}) {
    base::Status s = WriteArtifactFiles({{.source = source, .relative = rel}}, out());
    EXPECT_EQ(s.kind(), ErrorKind::kInvalidInput) << rel;
  }
  EXPECT_FALSE(fs::exists(outside_ / "escaped"));
}

TEST_F(WriteArtifactsTest, DoesNotWriteThroughAFolderSymlinkInTheOutput) {
  src_.Write("x", "payload");
  fs::create_directories(out());
  outside_.Mkdir("victim");
  outside_.Symlink("out/sub", outside_ / "victim");
  base::Status s = WriteArtifactFiles({{.source = src_ / "x", .relative = "sub/x"}}, out());
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidInput) << s.message();
  EXPECT_THAT(s.message(), HasSubstr("sub"));
  EXPECT_FALSE(fs::exists(outside_ / "victim/x"));
}

TEST_F(WriteArtifactsTest, ReplacesAFileSymlinkOrHardLinkInsteadOfWritingThroughIt) {
  src_.Write("a", "new-a");
  src_.Write("b", "new-b");
  outside_.Write("victim1", "original");
  outside_.Write("victim2", "original");
  fs::create_directories(out());
  outside_.Symlink("out/a", outside_ / "victim1");
  fs::create_hard_link(outside_ / "victim2", out() / "b");
  std::vector<ArtifactFile> files = {{.source = src_ / "a", .relative = "a"},
                                     {.source = src_ / "b", .relative = "b"}};
  ASSERT_TRUE(WriteArtifactFiles(files, out()).ok());
  EXPECT_EQ(outside_.Read("out/a"), "new-a");
  EXPECT_EQ(outside_.Read("out/b"), "new-b");
  EXPECT_FALSE(fs::is_symlink(out() / "a"));
  EXPECT_EQ(outside_.Read("victim1"), "original");
  EXPECT_EQ(outside_.Read("victim2"), "original");
}

TEST_F(WriteArtifactsTest, RefusesASourceThatBecameASymlink) {
  src_.Write("real", "data");
  src_.Symlink("swapped", "/etc/passwd");
  base::Status s = WriteArtifactFiles({{.source = src_ / "swapped", .relative = "x"}}, out());
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(fs::exists(out() / "x"));
}

TEST_F(WriteArtifactsTest, EmptyListCreatesTheFolder) {
  ASSERT_TRUE(WriteArtifactFiles({}, out()).ok());
  EXPECT_TRUE(fs::is_directory(out()));
  EXPECT_TRUE(fs::is_empty(out()));
}

}  // namespace
}  // namespace kiln::codebuild
