// Bundle safety: symlink chains that lead out, entries written through links, and bombs are
// refused with the entry named, for archives and directories alike (RELIABILITY S-4).
#include "deploy/bundle_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace kiln::deploy {
namespace {

namespace fs = std::filesystem;

// One archive entry: 'f' file (text = content), 'd' folder, 'l' symlink (text = target),
// 'h' hard link (text = the earlier entry).
struct TarEntry {
  std::string name;
  char type = 'f';
  std::string text;
};

void WriteTarGz(const fs::path& path, const std::vector<TarEntry>& entries) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const TarEntry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_perm(entry, e.type == 'd' ? 0755 : 0644);
    archive_entry_set_filetype(entry, e.type == 'd'   ? AE_IFDIR
                                      : e.type == 'l' ? AE_IFLNK
                                                      : AE_IFREG);
    if (e.type == 'l') archive_entry_set_symlink(entry, e.text.c_str());
    if (e.type == 'h') archive_entry_set_hardlink(entry, e.text.c_str());
    if (e.type == 'f') archive_entry_set_size(entry, la_int64_t(e.text.size()));
    ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << e.name;
    if (e.type == 'f') archive_write_data(a, e.text.data(), e.text.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class BundleSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kiln-bundle-safety-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "art");
  }
  void TearDown() override { fs::remove_all(root_); }

  // Imports an archive of these entries; the error message, or "" on success.
  std::string ImportArchive(const std::vector<TarEntry>& entries, BundleLimits limits = {}) {
    const std::string name = "b" + std::to_string(++archives_) + ".tgz";
    WriteTarGz(root_ / "art" / name, entries);
    BundleStore store(root_ / "bundles", limits);
    auto imported = store.Import(name, root_ / "art");
    if (imported.ok()) {
      last_ = store.PathOf(*imported);
      return "";
    }
    EXPECT_EQ(imported.status().kind(), base::ErrorKind::kInvalidInput);
    return imported.status().message();
  }
  std::string ImportDir(const std::string& dir, BundleLimits limits = {}) {
    BundleStore store(root_ / "bundles", limits);
    auto imported = store.Import(dir, root_ / "art");
    if (imported.ok()) {
      last_ = store.PathOf(*imported);
      return "";
    }
    return imported.status().message();
  }
  // Nothing was left outside the bundle store's own folder by a refused import.
  void ExpectNothingEscaped() {
    for (const auto& entry : fs::directory_iterator(root_)) {
      EXPECT_TRUE(entry.path().filename() == "art" || entry.path().filename() == "bundles")
          << entry.path();
    }
  }

  fs::path root_;
  fs::path last_;
  int archives_ = 0;
};

TEST_F(BundleSafetyTest, SymlinkChainsLeadingOutAreRefusedNamingTheEntry) {
  struct Case {
    std::vector<TarEntry> entries;
    std::string expected;
  };
  const std::vector<Case> cases = {
      // a -> . makes a/b the root's own b: writing through a link.
      {{{"a", 'l', "."}, {"a/b", 'l', ".."}}, "entry 'a/b': path goes through symlink 'a'"},
      // Lexically "a/.." is the root; through a -> . it is the root's parent.
      {{{"a", 'l', "."}, {"c", 'l', "a/.."}}, "entry 'c': symlink points outside the bundle"},
      // d/l -> .. is the root; d/l/.. is above it.
      {{{"d", 'd'}, {"d/l", 'l', ".."}, {"c", 'l', "d/l/.."}},
       "entry 'c': symlink points outside the bundle"},
      // A chain of three links, then a walk up from its end.
      {{{"x", 'l', "."}, {"y", 'l', "x"}, {"z", 'l', "y/x/../../.."}},
       "entry 'z': symlink points outside the bundle"},
      // The link c -> x/.. was fine while x was a folder; x -> . would make it the parent.
      {{{"c", 'l', "x/.."}, {"x", 'l', "."}},
       "entry 'x': symlink replaces a folder or an earlier entry"},
      // A symlink, then a file written through it.
      {{{"sub", 'd'}, {"s", 'l', "sub"}, {"s/evil", 'f', "x"}},
       "entry 's/evil': path goes through symlink 's'"},
      {{{"abs", 'l', "/etc"}}, "entry 'abs': symlink points outside the bundle"},
      {{{"up", 'l', "../../etc"}}, "entry 'up': symlink points outside the bundle"},
      // A hard link to a symlink is the same link in another folder, where ../f leads out.
      {{{"f", 'f', "x"}, {"d/l", 'l', "../f"}, {"m", 'h', "d/l"}},
       "entry 'm': hard link target 'd/l' is not an earlier file of the bundle"},
  };
  for (const Case& c : cases) {
    const std::string message = ImportArchive(c.entries);
    EXPECT_NE(message.find(c.expected), std::string::npos)
        << "expected: " << c.expected << "\ngot: " << message;
    EXPECT_EQ(message.rfind("bundle 'b", 0), 0u) << message;
  }
  ExpectNothingEscaped();
}

TEST_F(BundleSafetyTest, InternalRelativeSymlinksStillWork) {
  const std::string message = ImportArchive({{"app", 'd'},
                                             {"app/run.sh", 'f', "echo hi\n"},
                                             {"bin/run", 'l', "../app/run.sh"},
                                             {"current", 'l', "app"},
                                             {"self", 'l', "."},
                                             {"again", 'l', "current/../bin/run"},
                                             {"copy", 'h', "app/run.sh"}});
  ASSERT_EQ(message, "");
  EXPECT_EQ(ReadAll(last_ / "bin" / "run"), "echo hi\n");
  EXPECT_EQ(ReadAll(last_ / "current" / "run.sh"), "echo hi\n");
  EXPECT_EQ(ReadAll(last_ / "again"), "echo hi\n");
  EXPECT_EQ(ReadAll(last_ / "copy"), "echo hi\n");
  EXPECT_TRUE(fs::is_symlink(last_ / "bin" / "run"));
}

TEST_F(BundleSafetyTest, ArchiveBombStopsAtTheSizeLimit) {
  // 2 MiB of zeros gzips to a few KiB.
  const std::string message = ImportArchive(
      {{"small", 'f', "x"}, {"big", 'f', std::string(2 << 20, '\0')}}, {.max_bytes = 1 << 20});
  EXPECT_NE(
      message.find("entry 'big': unpacked size exceeds 1 MiB (limit server.limits.bundle_bytes)"),
      std::string::npos)
      << message;
  EXPECT_EQ(ImportArchive({{"big", 'f', std::string(1 << 20, 'y')}}, {.max_bytes = 1 << 20}), "");
}

TEST_F(BundleSafetyTest, ArchiveBombStopsAtTheEntryLimit) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < 60; ++i) entries.push_back({"d/f" + std::to_string(i), 'f', ""});
  const std::string message = ImportArchive(entries, {.max_entries = 50});
  EXPECT_NE(
      message.find("entry 'd/f50': more than 50 entries (limit server.limits.bundle_entries)"),
      std::string::npos)
      << message;
  entries.resize(50);
  EXPECT_EQ(ImportArchive(entries, {.max_entries = 50}), "");
}

TEST_F(BundleSafetyTest, DirectoryBundlesObeyTheSameRules) {
  const fs::path good = root_ / "art" / "good";
  fs::create_directories(good / "app");
  std::ofstream(good / "app" / "run.sh") << "echo hi\n";
  fs::create_symlink("../app/run.sh", good / "app" / "link");
  EXPECT_EQ(ImportDir("good"), "");
  EXPECT_EQ(ReadAll(last_ / "app" / "link"), "echo hi\n");

  const fs::path chain = root_ / "art" / "chain";
  fs::create_directories(chain);
  fs::create_symlink(".", chain / "a");
  fs::create_symlink("a/..", chain / "c");
  std::string message = ImportDir("chain");
  EXPECT_NE(message.find("bundle 'chain': entry 'c': symlink points outside the bundle"),
            std::string::npos)
      << message;

  EXPECT_NE(ImportDir("good", {.max_bytes = 4})
                .find("entry 'app/run.sh': unpacked size exceeds 4 bytes (limit "
                      "server.limits.bundle_bytes)"),
            std::string::npos);
  EXPECT_NE(ImportDir("good", {.max_entries = 2}).find("(limit server.limits.bundle_entries)"),
            std::string::npos);
  ExpectNothingEscaped();
}

}  // namespace
}  // namespace kiln::deploy
