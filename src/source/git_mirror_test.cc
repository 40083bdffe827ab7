#include "source/git_mirror.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include "base/test_tree.h"
#include "source/test_git_repo.h"

namespace kiln::source {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// Quotes, command substitutions and blank lines: all of it must come back as data.
constexpr char kMessage[] =
    "Fix \"quotes\" and 'single' $(touch pwned)\n"
    "\n"
    "  indented `touch pwned` line\n"
    "zzz\";echo${IFS}\"hello\";#\n";

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool IsExecutable(const fs::path& p) {
  return (fs::status(p).permissions() & fs::perms::owner_exec) != fs::perms::none;
}

class GitMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.Write("README.md", "# cruddur\n");
    repo_.Write("bin/run.sh", "#!/bin/sh\necho run\n", /*executable=*/true);
    fs::create_symlink("README.md", repo_.dir() / "link");
    main_sha_ = repo_.CommitAll("first\n");
    repo_.Git({"checkout", "--quiet", "-b", "prod"});
    repo_.Write("prod.txt", "prod only\n");
    prod_sha_ = repo_.CommitAll(kMessage);
    options_.url = repo_.dir().string();
  }

  void TearDown() override { ExpectNothingNamedPwned(); }

  // Nothing the tests ran may have executed a ref or message as shell.
  void ExpectNothingNamedPwned() const {
    EXPECT_FALSE(fs::exists("pwned"));
    EXPECT_FALSE(fs::exists("/tmp/pwned"));
    for (const auto& e : fs::recursive_directory_iterator(tree_.path())) {
      EXPECT_NE(e.path().filename(), "pwned") << e.path();
    }
  }

  CommitInfo ResolveOk(const std::string& branch, const std::string& revision = "") {
    auto info = mirror_.Resolve(options_, branch, revision);
    EXPECT_TRUE(info.ok()) << info.status().message();
    return info.ok() ? *info : CommitInfo{};
  }

  // Writes an object as given, unchecked (--literally), as a forger would. Returns its id.
  std::string HashObject(const std::string& type, const std::string& content) {
    fs::path file = tree_ / "object";
    std::ofstream(file, std::ios::binary) << content;
    return repo_.Git({"hash-object", "-w", "--literally", "-t", type, file.string()});
  }

  // One raw tree entry: "<mode> <name>\0<20-byte id>".
  static std::string TreeEntry(const std::string& mode, const std::string& name,
                               const std::string& hex_id) {
    std::string entry = mode + " " + name + '\0';
    for (size_t i = 0; i + 1 < hex_id.size(); i += 2) {
      entry += static_cast<char>(std::stoi(hex_id.substr(i, 2), nullptr, 16));
    }
    return entry;
  }

  std::string GitIn(const fs::path& dir, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"-C", dir.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return repo_.Git(argv);
  }

  base::TestTree tree_;
  TestGitRepo repo_{tree_ / "cruddur", "main"};
  GitMirror mirror_{tree_ / "git"};
  FetchOptions options_;
  std::string main_sha_;
  std::string prod_sha_;
};

TEST_F(GitMirrorTest, MirrorPathIsAHashUnderTheRoot) {
  fs::path a = mirror_.MirrorPath("https://github.com/acme/cruddur.git");
  EXPECT_EQ(a.parent_path(), tree_ / "git");
  EXPECT_THAT(a.filename().string(), MatchesRegex("[0-9a-f]{16}\\.git"));
  EXPECT_EQ(a, mirror_.MirrorPath("https://github.com/acme/cruddur.git"));
  EXPECT_NE(a, mirror_.MirrorPath("https://github.com/acme/cruddur"));
  EXPECT_EQ(mirror_.MirrorPath("../../x").parent_path(), tree_ / "git");
}

TEST_F(GitMirrorTest, FetchCreatesTheMirrorOnceAndThenFetchesIntoIt) {
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  fs::path mirror = mirror_.MirrorPath(options_.url);
  ASSERT_TRUE(fs::exists(mirror / "HEAD"));
  EXPECT_FALSE(fs::exists(mirror / ".git"));  // bare
  std::ofstream(mirror / "kiln-marker") << "kept";
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  EXPECT_TRUE(fs::exists(mirror / "kiln-marker"));  // not re-cloned
}

TEST_F(GitMirrorTest, NextFetchSeesNewCommitsAndDeletedBranches) {
  repo_.Git({"branch", "short-lived"});
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  repo_.Write("prod.txt", "second\n");
  std::string next = repo_.CommitAll("second\n");
  repo_.Git({"branch", "-D", "short-lived"});
  EXPECT_EQ(ResolveOk("prod").commit_id, prod_sha_);  // not fetched yet
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  EXPECT_EQ(ResolveOk("prod").commit_id, next);
  EXPECT_EQ(mirror_.Resolve(options_, "short-lived").status().kind(), base::ErrorKind::kNotFound);
}

TEST_F(GitMirrorTest, ResolveGivesTheSourceActionVariables) {
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  CommitInfo info = ResolveOk("prod");
  EXPECT_EQ(info.commit_id, prod_sha_);
  EXPECT_EQ(info.commit_message, std::string(kMessage, sizeof kMessage - 2));  // no final \n
  EXPECT_EQ(info.branch_name, "prod");
  EXPECT_EQ(info.author_date, "2024-03-05T10:11:12+01:00");
  EXPECT_EQ(info.author_name, "Ada \"O'Hara\" $(touch pwned) `id`");
  EXPECT_EQ(info.full_repository_name, "cruddur");
  EXPECT_EQ(ResolveOk("main").commit_id, main_sha_);
}

TEST_F(GitMirrorTest, UnknownBranchOrCommitIsNotFound) {
  EXPECT_EQ(mirror_.Resolve(options_, "prod").status().kind(), base::ErrorKind::kNotFound);
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  EXPECT_EQ(mirror_.Resolve(options_, "nope").status().kind(), base::ErrorKind::kNotFound);
  EXPECT_EQ(mirror_.Resolve(options_, "", "deadbeef").status().kind(), base::ErrorKind::kNotFound);
  EXPECT_EQ(mirror_.Resolve(options_, "").status().kind(), base::ErrorKind::kInvalidInput);
}

TEST_F(GitMirrorTest, BranchNamesThatCouldBeOptionsOrInvalidAreRefused) {
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  const std::string refused[] = {"$(touch pwned)",
                                 "--upload-pack=touch pwned",
                                 "-x",
                                 "a..b",
                                 "a b",
                                 "a\nb",
                                 std::string("pr\0d", 4),
                                 "@{-1}",
                                 "prod~1",
                                 "prod^",
                                 "x:y",
                                 "x.lock",
                                 "x/",
                                 "*",
                                 "a\\b"};
  for (const std::string& name : refused) {
    auto info = mirror_.Resolve(options_, name);
    EXPECT_EQ(info.status().kind(), base::ErrorKind::kInvalidInput) << name;
    EXPECT_THAT(info.status().message(), Not(HasSubstr("\n")));
    EXPECT_EQ(mirror_.ExportClone(options_, prod_sha_, name, tree_ / "clone").kind(),
              base::ErrorKind::kInvalidInput);
  }
}

// RELIABILITY.md B-F1..F3: names git accepts arrive in real webhooks; they work literally.
TEST_F(GitMirrorTest, ShellLookingBranchNamesAreData) {
  const std::string names[] = {"$(touch${IFS}pwned)",
                               "zzz\";echo${IFS}\"hello\";#",
                               "`touch${IFS}pwned`",
                               "a;b",
                               "a|b",
                               "a&b",
                               "a'b",
                               "{a,b}",
                               "<script>",
                               "heads/main"};
  for (const std::string& name : names) repo_.Git({"branch", name, main_sha_});
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  for (const std::string& name : names) {
    CommitInfo info = ResolveOk(name);
    EXPECT_EQ(info.commit_id, main_sha_) << name;
    EXPECT_EQ(info.branch_name, name);
  }
  fs::path clone = tree_ / "clone";
  ASSERT_TRUE(mirror_.ExportClone(options_, main_sha_, names[0], clone).ok());
  EXPECT_EQ(GitIn(clone, {"symbolic-ref", "HEAD"}), "refs/heads/" + names[0]);
}

TEST_F(GitMirrorTest, RevisionsResolveAbbreviatedOrUpperCase) {
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  EXPECT_EQ(ResolveOk("", prod_sha_).commit_id, prod_sha_);
  EXPECT_EQ(ResolveOk("", prod_sha_.substr(0, 7)).commit_id, prod_sha_);
  std::string upper = main_sha_.substr(0, 12);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CommitInfo info = ResolveOk("main", upper);
  EXPECT_EQ(info.commit_id, main_sha_);
  EXPECT_EQ(info.branch_name, "main");
  EXPECT_EQ(info.commit_message, "first");
}

TEST_F(GitMirrorTest, AmbiguousAbbreviationIsInvalidInput) {
  // Root commits written in one git run until two share their first 4 hex digits; the
  // contents are fixed, so the pair is the same on every run.
  std::string empty_tree = repo_.Git({"hash-object", "-w", "-t", "tree", "/dev/null"});
  std::vector<std::string> args = {"hash-object", "-w", "-t", "commit"};
  for (int i = 0; i < 1000; ++i) {
    fs::path file = tree_ / ("commit-" + std::to_string(i));
    std::ofstream(file) << "tree " << empty_tree << "\nauthor A <a@x> 0 +0000\n"
                        << "committer A <a@x> 0 +0000\n\n"
                        << i << "\n";
    args.push_back(file.string());
  }
  std::istringstream ids(repo_.Git(args));
  std::map<std::string, std::string> by_prefix;
  std::string first, second;
  for (std::string id; second.empty() && std::getline(ids, id);) {
    auto [it, fresh] = by_prefix.emplace(id.substr(0, 4), id);
    if (!fresh) std::tie(first, second) = std::pair(it->second, id);
  }
  ASSERT_FALSE(second.empty());
  std::string both =
      repo_.Git({"commit-tree", "-p", first, "-p", second, "-m", "both", empty_tree});
  repo_.Git({"update-ref", "refs/heads/twins", both});
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  auto info = mirror_.Resolve(options_, "", first.substr(0, 4));
  EXPECT_EQ(info.status().kind(), base::ErrorKind::kInvalidInput);
  EXPECT_THAT(info.status().message(), HasSubstr("ambiguous"));
  EXPECT_EQ(ResolveOk("", second.substr(0, 12)).commit_id, second);
}

TEST_F(GitMirrorTest, RevisionsThatAreNotHexAreRefused) {
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  const std::string refused[] = {"-x",          "abc",        "HEAD",
                                 "prod",        "g1234567",   std::string(65, 'a'),
                                 "abcd^{tree}", "abcd..ef01", "--all"};
  for (const std::string& rev : refused) {
    EXPECT_EQ(mirror_.Resolve(options_, "", rev).status().kind(), base::ErrorKind::kInvalidInput)
        << rev;
    EXPECT_EQ(mirror_.ExportTree(options_, rev, tree_ / "out").kind(),
              base::ErrorKind::kInvalidInput);
  }
}

TEST_F(GitMirrorTest, ExportTreeWritesTheCommitsFilesWithoutGit) {
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  fs::path out = tree_ / "out";
  ASSERT_TRUE(mirror_.ExportTree(options_, prod_sha_, out).ok());
  EXPECT_FALSE(fs::exists(out / ".git"));
  EXPECT_EQ(ReadText(out / "README.md"), "# cruddur\n");
  EXPECT_EQ(ReadText(out / "prod.txt"), "prod only\n");
  EXPECT_TRUE(IsExecutable(out / "bin/run.sh"));
  EXPECT_FALSE(IsExecutable(out / "README.md"));
  ASSERT_TRUE(fs::is_symlink(out / "link"));
  EXPECT_EQ(fs::read_symlink(out / "link"), "README.md");

  fs::path older = tree_ / "older";
  ASSERT_TRUE(mirror_.ExportTree(options_, main_sha_.substr(0, 8), older).ok());
  EXPECT_FALSE(fs::exists(older / "prod.txt"));
}

TEST_F(GitMirrorTest, ExportTreeRefusesAnExistingDestOrUnknownCommit) {
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  fs::create_directory(tree_ / "taken");
  EXPECT_EQ(mirror_.ExportTree(options_, prod_sha_, tree_ / "taken").kind(),
            base::ErrorKind::kInvalidInput);
  EXPECT_EQ(mirror_.ExportTree(options_, "deadbeef", tree_ / "out").kind(),
            base::ErrorKind::kNotFound);
  EXPECT_FALSE(fs::exists(tree_ / "out"));
}

// A forged tree (git accepts it unless fsck is on) can name "../x", or hold a symlink and a
// folder of the same name so a later file would be written through the link.
TEST_F(GitMirrorTest, ExportTreeOfAForgedTreeWritesNothingOutsideDest) {
  fs::create_directory(tree_ / "outside");
  std::string blob = HashObject("blob", "pwn\n");
  std::string inner = HashObject("tree", TreeEntry("100644", "evil", blob));
  std::string link = HashObject("blob", (tree_ / "outside").string());
  std::vector<std::string> forged = {
      HashObject("tree", TreeEntry("40000", "..", inner)),
      HashObject("tree", TreeEntry("120000", "lnk", link) + TreeEntry("40000", "lnk", inner))};
  std::vector<std::string> commits;
  for (const std::string& tree : forged) {
    commits.push_back(repo_.Git({"commit-tree", "-m", "forged", tree}));
    repo_.Git(
        {"update-ref", "refs/heads/forged-" + std::to_string(commits.size()), commits.back()});
  }
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  for (const std::string& commit : commits) {
    base::Status status = mirror_.ExportTree(options_, commit, tree_ / "out");
    EXPECT_EQ(status.kind(), base::ErrorKind::kFailed) << status.message();
    EXPECT_FALSE(fs::exists(tree_ / "out"));
    EXPECT_FALSE(fs::exists(tree_ / "evil"));
    EXPECT_TRUE(fs::is_empty(tree_ / "outside"));
  }
}

TEST_F(GitMirrorTest, ExportCloneChecksOutTheBranchAtTheCommit) {
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  fs::path clone = tree_ / "clone";
  ASSERT_TRUE(mirror_.ExportClone(options_, main_sha_, "prod", clone).ok());
  EXPECT_TRUE(fs::is_directory(clone / ".git"));
  EXPECT_EQ(GitIn(clone, {"rev-parse", "HEAD"}), main_sha_);
  EXPECT_EQ(GitIn(clone, {"symbolic-ref", "HEAD"}), "refs/heads/prod");
  EXPECT_EQ(GitIn(clone, {"status", "--porcelain"}), "");
  EXPECT_EQ(GitIn(clone, {"remote", "get-url", "origin"}), options_.url);
  EXPECT_TRUE(IsExecutable(clone / "bin/run.sh"));
  EXPECT_TRUE(fs::is_symlink(clone / "link"));
  EXPECT_FALSE(fs::exists(clone / "prod.txt"));
  EXPECT_EQ(GitIn(clone, {"rev-parse", "origin/prod"}), prod_sha_);
}

TEST_F(GitMirrorTest, ExportCloneWithoutBranchIsDetached) {
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  fs::path clone = tree_ / "clone";
  ASSERT_TRUE(mirror_.ExportClone(options_, prod_sha_.substr(0, 10), "", clone).ok());
  EXPECT_EQ(GitIn(clone, {"rev-parse", "HEAD"}), prod_sha_);
  EXPECT_THROW(GitIn(clone, {"symbolic-ref", "--quiet", "HEAD"}), std::runtime_error);
  EXPECT_EQ(ReadText(clone / "prod.txt"), "prod only\n");
}

TEST_F(GitMirrorTest, ConcurrentFetchesShareOneMirror) {
  base::Status results[4];
  std::vector<std::thread> threads;
  for (size_t i = 0; i < std::size(results); ++i) {
    threads.emplace_back([this, &results, i] {
      GitMirror mirror(tree_ / "git");  // as another process would
      results[i] = mirror.Fetch(options_);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const base::Status& result : results) EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(ResolveOk("prod").commit_id, prod_sha_);
  EXPECT_EQ(std::distance(fs::directory_iterator(tree_ / "git"), fs::directory_iterator()), 2)
      << "the mirror and its lock file, no temps";
}

TEST_F(GitMirrorTest, FileUrlAndPlainPathBothWork) {
  FetchOptions file_url = options_;
  file_url.url = "file://" + repo_.dir().string();
  ASSERT_TRUE(mirror_.Fetch(file_url).ok());
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  EXPECT_NE(mirror_.MirrorPath(file_url.url), mirror_.MirrorPath(options_.url));
  auto info = mirror_.Resolve(file_url, "prod");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->commit_id, prod_sha_);
  EXPECT_EQ(info->full_repository_name, "cruddur");
  EXPECT_EQ(ResolveOk("prod").commit_id, prod_sha_);
}

// Every file under root, read whole, for a search.
std::string AllText(const fs::path& root) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) all += e.path().string() + "\n" + ReadText(e.path()) + "\n";
  }
  return all;
}

// The password of https://user:pass@ goes to git through the credential helper; the mirror's
// config (and every other file of it) holds the URL without user info.
TEST_F(GitMirrorTest, UserInfoOfTheUrlIsNeverWrittenIntoTheMirror) {
  options_.url = "file://alice:s3cr3t-canary@" + repo_.dir().string();
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  fs::path mirror = mirror_.MirrorPath(options_.url);
  EXPECT_EQ(mirror, mirror_.MirrorPath("file://" + repo_.dir().string()));
  EXPECT_THAT(ReadText(mirror / "config"), HasSubstr("url = file://" + repo_.dir().string()));
  std::string all = AllText(tree_ / "git");
  EXPECT_THAT(all, Not(HasSubstr("s3cr3t-canary")));
  EXPECT_THAT(all, Not(HasSubstr("alice")));
  EXPECT_EQ(ResolveOk("prod").commit_id, prod_sha_);
}

// How an older Kiln named a mirror: FNV-1a 64 of the whole URL, user info included.
fs::path OldMirrorPath(const fs::path& root, const std::string& url) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : url) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return root / (std::string(hex) + ".git");
}

// A mirror an older Kiln made was named after the whole URL and kept its user info in its
// config: the next fetch moves it to its new name and rewrites the URL.
TEST_F(GitMirrorTest, AnOlderMirrorWithUserInfoIsRewrittenOnTheNextFetch) {
  std::string clean = "file://" + repo_.dir().string();
  options_.url = "file://alice:s3cr3t-canary@" + repo_.dir().string();
  FetchOptions plain = options_;
  plain.url = clean;
  ASSERT_TRUE(mirror_.Fetch(plain).ok());
  fs::path old_path = OldMirrorPath(tree_ / "git", options_.url);
  ASSERT_NE(old_path, mirror_.MirrorPath(options_.url));
  fs::rename(mirror_.MirrorPath(clean), old_path);
  GitIn(old_path, {"config", "remote.origin.url", options_.url});
  std::ofstream(old_path / "kiln-marker") << "kept";
  ASSERT_THAT(ReadText(old_path / "config"), HasSubstr("s3cr3t-canary"));
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  fs::path mirror = mirror_.MirrorPath(options_.url);
  EXPECT_FALSE(fs::exists(old_path));
  EXPECT_TRUE(fs::exists(mirror / "kiln-marker"));  // moved, not cloned again
  EXPECT_THAT(ReadText(mirror / "config"), HasSubstr("url = " + clean + "\n"));
  EXPECT_THAT(AllText(tree_ / "git"), Not(HasSubstr("s3cr3t-canary")));
  EXPECT_EQ(ResolveOk("prod").commit_id, prod_sha_);
}

TEST_F(GitMirrorTest, FetchRemovesWhatACrashedCloneLeft) {
  fs::path stale = mirror_.MirrorPath(options_.url).string() + ".tmp-Ab12Cd";
  fs::create_directories(stale / "objects");
  ASSERT_TRUE(mirror_.Fetch(options_).ok());
  EXPECT_FALSE(fs::exists(stale));
}

TEST_F(GitMirrorTest, FailedCloneLeavesNoMirrorAndHidesTheToken) {
  options_.url = (tree_ / "missing-s3cr3t-canary").string();
  options_.token = "s3cr3t-canary";
  base::Status status = mirror_.Fetch(options_);
  EXPECT_EQ(status.kind(), base::ErrorKind::kFailed);
  EXPECT_THAT(status.message(), HasSubstr("git clone"));
  EXPECT_THAT(status.message(), Not(HasSubstr("s3cr3t-canary")));
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
  EXPECT_EQ(std::distance(fs::directory_iterator(tree_ / "git"), fs::directory_iterator()), 1)
      << "only the lock file";
}

TEST_F(GitMirrorTest, TimeoutStopsGit) {
  options_.timeout_ms = 0;
  EXPECT_EQ(mirror_.Fetch(options_).kind(), base::ErrorKind::kFailed);
  EXPECT_FALSE(fs::exists(mirror_.MirrorPath(options_.url)));
}

TEST(RepositoryNameFromUrl, TakesTheOwnerAndRepositoryOrTheFolderName) {
  const std::pair<std::string, std::string> cases[] = {
      {"https://github.com/acme/cruddur.git", "acme/cruddur"},
      {"https://github.com/acme/cruddur", "acme/cruddur"},
      {"https://github.com/acme/cruddur/", "acme/cruddur"},
      {"https://x-access-token@github.com:443/acme/cruddur.git", "acme/cruddur"},
      {"git@github.com:acme/cruddur.git", "acme/cruddur"},
      {"github.com:acme/cruddur", "acme/cruddur"},
      {"ssh://git@host/acme/x", "acme/x"},
      {"ssh://git@host:2222/acme/x.git", "acme/x"},
      {"https://gitlab.com/group/sub/repo.git", "group/sub/repo"},
      {"/srv/repos/cruddur", "cruddur"},
      {"/srv/repos/cruddur.git", "cruddur"},
      {"/srv/repos/cruddur/", "cruddur"},
      {"file:///srv/repos/cruddur", "cruddur"},
      {"file:///srv/repos/cruddur.git/", "cruddur"},
      {"./cruddur", "cruddur"},
      {"cruddur", "cruddur"},
  };
  for (const auto& [url, name] : cases) EXPECT_EQ(RepositoryNameFromUrl(url), name) << url;
}

}  // namespace
}  // namespace kiln::source
