#include "store/artifact_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "base/test_tree.h"

namespace kiln::store {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;
using base::Status;
using ::testing::HasSubstr;

// Any well-formed hash: hand-crafted zips are planted under it.
const std::string kPlanted(64, 'e');

mode_t PermOf(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Every path below root, relative, sorted; links are not followed.
std::vector<std::string> ListAll(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    out.push_back(e.path().lexically_relative(root).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One entry of a hand-crafted zip.
struct ZipEntry {
  std::string name;
  std::string data;
  std::string link;  // non-empty: a symlink entry to this target
  bool dir = false;
};

void PrintTo(const ZipEntry& e, std::ostream* os) {
  *os << e.name << (e.link.empty() ? "" : " -> " + e.link);
}

void WriteZip(const fs::path& path, const std::vector<ZipEntry>& entries) {
  fs::create_directories(path.parent_path());
  archive* a = archive_write_new();
  ASSERT_EQ(archive_write_set_format_zip(a), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const ZipEntry& z : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, z.name.c_str());
    archive_entry_set_filetype(e, z.dir ? AE_IFDIR : z.link.empty() ? AE_IFREG : AE_IFLNK);
    archive_entry_set_perm(e, z.link.empty() ? 0644 : 0777);
    archive_entry_set_size(e, static_cast<la_int64_t>(z.data.size()));
    if (!z.link.empty()) archive_entry_set_symlink(e, z.link.c_str());
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (!z.data.empty()) archive_write_data(a, z.data.data(), z.data.size());
    archive_entry_free(e);
  }
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

class ArtifactStoreTest : public ::testing::Test {
 protected:
  // Zips in the store (temp files excluded).
  std::vector<std::string> StoredZips() {
    std::vector<std::string> out;
    for (const std::string& p : ListAll(tree_ / "store")) {
      if (p.ends_with(".zip") && !p.starts_with("tmp/")) out.push_back(p);
    }
    return out;
  }
  std::vector<std::string> TempFiles() {
    fs::path tmp = tree_ / "store" / "tmp";
    return fs::exists(tmp) ? ListAll(tmp) : std::vector<std::string>{};
  }
  void Plant(const std::vector<ZipEntry>& entries) { WriteZip(store_.PathOf(kPlanted), entries); }

  base::TestTree tree_;
  ArtifactStore store_{tree_ / "store"};
  fs::path dest_ = tree_ / "box" / "dest";
  fs::path outside_ = tree_.Mkdir("box/outside");
};

TEST_F(ArtifactStoreTest, RoundTripKeepsFilesFoldersExecBitAndInsideLinks) {
  tree_.Write("src/top.txt", "top");
  tree_.Write("src/empty.txt", "");
  fs::path script = tree_.Write("src/bin/run.sh", "#!/bin/sh\necho hi\n");
  fs::permissions(script, fs::perms::owner_all);  // 0700: exec bit kept as 0755
  tree_.Write("src/deep/er/still/file", std::string(200000, 'z'));
  tree_.Write("src/\xc3\xbcn\xc3\xaf.txt", "unicode");
  tree_.Symlink("src/link", "deep/er/still/file");
  tree_.Symlink("src/deep/uplink", "../top.txt");
  tree_.Symlink("src/dirlink", "deep");
  auto put = store_.Put(tree_ / "src");
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(put->files, 8u);
  EXPECT_EQ(put->path, store_.PathOf(put->sha256));
  EXPECT_EQ(put->size, fs::file_size(put->path));

  Status got = store_.Get(put->sha256, dest_);
  ASSERT_TRUE(got.ok()) << got.message();
  EXPECT_EQ(ListAll(dest_), ListAll(tree_ / "src"));
  EXPECT_EQ(tree_.Read("box/dest/top.txt"), "top");
  EXPECT_EQ(tree_.Read("box/dest/empty.txt"), "");
  EXPECT_EQ(tree_.Read("box/dest/bin/run.sh"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(tree_.Read("box/dest/link"), std::string(200000, 'z'));
  EXPECT_EQ(tree_.Read("box/dest/deep/uplink"), "top");
  EXPECT_EQ(tree_.Read("box/dest/\xc3\xbcn\xc3\xaf.txt"), "unicode");
  EXPECT_EQ(fs::read_symlink(dest_ / "dirlink"), "deep");
  EXPECT_EQ(PermOf(dest_ / "bin/run.sh"), 0755u);
  EXPECT_EQ(PermOf(dest_ / "top.txt"), 0644u);
}

TEST_F(ArtifactStoreTest, EmptyFolderIsAnEmptyArtifact) {
  auto put = store_.Put(tree_.Mkdir("empty"));
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(put->files, 0u);
  Status got = store_.Get(put->sha256, dest_);
  ASSERT_TRUE(got.ok()) << got.message();
  EXPECT_TRUE(fs::is_directory(dest_));
  EXPECT_TRUE(fs::is_empty(dest_));
}

TEST_F(ArtifactStoreTest, SameTreeGivesSameHashWhateverTheTimesOrder) {
  tree_.Write("a/x.txt", "x");
  tree_.Write("a/sub/y.txt", "y");
  tree_.Symlink("a/l", "x.txt");
  auto first = store_.Put(tree_ / "a");
  ASSERT_TRUE(first.ok()) << first.status().message();

  // The same content made in another order, another place, with other times and modes.
  tree_.Symlink("b/l", "x.txt");
  tree_.Write("b/sub/y.txt", "y");
  fs::path x = tree_.Write("b/x.txt", "x");
  fs::permissions(x, fs::perms::owner_read | fs::perms::owner_write);  // 0600 packs as 0644
  fs::last_write_time(x, fs::file_time_type::clock::now() - std::chrono::hours(50));
  auto second = store_.Put(tree_ / "b");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->sha256, first->sha256);

  fs::last_write_time(tree_ / "a/sub/y.txt",
                      fs::file_time_type::clock::now() + std::chrono::hours(3));
  auto again = store_.Put(tree_ / "a");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->sha256, first->sha256);
  EXPECT_EQ(StoredZips().size(), 1u);
  EXPECT_TRUE(TempFiles().empty());
}

TEST_F(ArtifactStoreTest, DifferentContentGivesDifferentHash) {
  tree_.Write("a/f", "one");
  tree_.Write("b/f", "two");
  fs::path exec = tree_.Write("c/f", "one");
  fs::permissions(exec, fs::perms::owner_exec, fs::perm_options::add);
  tree_.Write("d/g", "one");
  std::vector<std::string> hashes;
  for (const char* dir : {"a", "b", "c", "d"}) {
    auto put = store_.Put(tree_ / dir);
    ASSERT_TRUE(put.ok()) << put.status().message();
    hashes.push_back(put->sha256);
  }
  std::sort(hashes.begin(), hashes.end());
  EXPECT_EQ(std::unique(hashes.begin(), hashes.end()), hashes.end());
  EXPECT_EQ(StoredZips().size(), 4u);
}

TEST_F(ArtifactStoreTest, ConcurrentPutsOfOneTreeStoreItOnce) {
  for (int i = 0; i < 50; ++i) tree_.Write("src/f" + std::to_string(i), std::string(i * 100, 'q'));
  std::vector<std::string> hashes(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < hashes.size(); ++i) {
    threads.emplace_back([&, i] {
      auto put = store_.Put(tree_ / "src");
      hashes[i] = put.ok() ? put->sha256 : put.status().message();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& h : hashes) EXPECT_EQ(h, hashes[0]);
  EXPECT_EQ(StoredZips().size(), 1u);
  EXPECT_TRUE(TempFiles().empty());
  EXPECT_TRUE(store_.Get(hashes[0], dest_).ok());
}

TEST_F(ArtifactStoreTest, GetOfUnknownHashIsNotFound) {
  Status s = store_.Get(std::string(64, '0'), dest_);
  EXPECT_EQ(s.kind(), ErrorKind::kNotFound) << s.message();
}

TEST_F(ArtifactStoreTest, GetOfMalformedHashIsInvalidInput) {
  for (const std::string& sha :
       {std::string("abc"), std::string(63, 'a'), std::string(65, 'a'), std::string(64, 'g'),
        std::string(64, 'A'), "../../../etc/passwd" + std::string(45, 'a'), std::string()}) {
    Status s = store_.Get(sha, dest_);
    EXPECT_EQ(s.kind(), ErrorKind::kInvalidInput) << sha;
  }
  EXPECT_FALSE(fs::exists(dest_));
}

TEST_F(ArtifactStoreTest, PutOfMissingFolderIsNotFound) {
  auto put = store_.Put(tree_ / "nope");
  EXPECT_EQ(put.status().kind(), ErrorKind::kNotFound);
}

TEST_F(ArtifactStoreTest, PutRefusesSymlinksLeadingOutside) {
  tree_.Write("src/f", "f");
  struct Case {
    const char* link;
    fs::path target;
  };
  for (const Case& c :
       {Case{"abs", outside_}, Case{"etc", "/etc"}, Case{"up", "../outside"},
        Case{"sub/up", "../../x"}, Case{"twisty", "sub/../../x"}, Case{"selfish", "sub/.."}}) {
    fs::path link = tree_.Symlink("src/" + std::string(c.link), c.target);
    auto put = store_.Put(tree_ / "src");
    EXPECT_EQ(put.status().kind(), ErrorKind::kInvalidInput) << c.link;
    EXPECT_THAT(put.status().message(), HasSubstr(c.link));
    fs::remove(link);
  }
  EXPECT_TRUE(StoredZips().empty());
  EXPECT_TRUE(TempFiles().empty());
}

TEST_F(ArtifactStoreTest, PutRefusesTreeOverTheLimits) {
  tree_.Write("src/a", std::string(600, 'a'));
  tree_.Write("src/b", std::string(600, 'b'));
  ArtifactStore small_bytes(tree_ / "store", {.max_bytes = 1000});
  EXPECT_EQ(small_bytes.Put(tree_ / "src").status().kind(), ErrorKind::kInvalidInput);
  ArtifactStore few_entries(tree_ / "store", {.max_entries = 1});
  EXPECT_EQ(few_entries.Put(tree_ / "src").status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(StoredZips().empty());
  EXPECT_TRUE(TempFiles().empty());
}

TEST_F(ArtifactStoreTest, GetStopsAZipBombAndRemovesPartialOutput) {
  tree_.Write("src/a", std::string(600, 'a'));
  tree_.Write("src/b", std::string(600, 'b'));
  auto put = store_.Put(tree_ / "src");
  ASSERT_TRUE(put.ok()) << put.status().message();
  ArtifactStore small_bytes(tree_ / "store", {.max_bytes = 1000});
  Status s = small_bytes.Get(put->sha256, dest_);
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidInput);
  EXPECT_THAT(s.message(), HasSubstr("zip bomb"));
  EXPECT_FALSE(fs::exists(dest_));
  ArtifactStore few_entries(tree_ / "store", {.max_entries = 1});
  EXPECT_EQ(few_entries.Get(put->sha256, dest_).kind(), ErrorKind::kInvalidInput);
  EXPECT_FALSE(fs::exists(dest_));
}

TEST_F(ArtifactStoreTest, SamePathTwiceLastOneWins) {
  Plant({{.name = "a", .data = "first"}, {.name = "a", .data = "second"}});
  Status s = store_.Get(kPlanted, dest_);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(tree_.Read("box/dest/a"), "second");
}

// RELIABILITY.md B-D3: a link already in dest is replaced by a file entry, never written through.
TEST_F(ArtifactStoreTest, LinkPlantedInDestIsReplacedNotFollowed) {
  tree_.Write("box/outside/target.txt", "original");
  tree_.Symlink("box/dest/file", outside_ / "target.txt");
  tree_.Symlink("box/dest/dir", outside_);
  Plant({{.name = "file", .data = "new"}});
  Status s = store_.Get(kPlanted, dest_);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(fs::is_symlink(dest_ / "file"));
  EXPECT_EQ(tree_.Read("box/dest/file"), "new");
  EXPECT_EQ(tree_.Read("box/outside/target.txt"), "original");

  Plant({{.name = "dir/passwd", .data = "evil"}});
  s = store_.Get(kPlanted, dest_);
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidInput) << s.message();
  EXPECT_EQ(ListAll(outside_), std::vector<std::string>{"target.txt"});
  EXPECT_TRUE(fs::exists(dest_));  // Get did not create it, so it does not remove it
}

// RELIABILITY.md B-D12: a folder swapped for a link to outside while Get walks through it is
// never followed. Get may succeed or refuse; either way nothing lands outside.
TEST_F(ArtifactStoreTest, FolderSwappedForLinkDuringGetIsNeverFollowed) {
  for (int i = 0; i < 20; ++i) tree_.Write("src/sub/f" + std::to_string(i), "x");
  auto put = store_.Put(tree_ / "src");
  ASSERT_TRUE(put.ok()) << put.status().message();
  std::atomic<bool> stop = false;
  std::thread swapper([&] {
    for (int n = 0; !stop; ++n) {
      std::error_code ec;
      fs::rename(dest_ / "sub", dest_ / ("moved" + std::to_string(n)), ec);
      fs::create_directory_symlink(outside_, dest_ / "sub", ec);
      fs::remove(dest_ / "sub", ec);  // the link only: remove does not follow it
    }
  });
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    std::error_code ec;
    fs::remove_all(dest_, ec);
    fs::create_directories(dest_, ec);
    refused += store_.Get(put->sha256, dest_).ok() ? 0 : 1;
  }
  stop = true;
  swapper.join();
  EXPECT_TRUE(fs::is_empty(outside_)) << refused << " of 300 refused";
}

// RELIABILITY.md S-4 and B-D1..D6: each hand-crafted zip is refused and writes nothing outside.
class ArtifactUnsafeZipTest : public ArtifactStoreTest,
                              public ::testing::WithParamInterface<std::vector<ZipEntry>> {};

TEST_P(ArtifactUnsafeZipTest, IsRefusedAndWritesNothingOutsideDest) {
  std::vector<ZipEntry> entries = GetParam();
  for (ZipEntry& e : entries) {
    if (e.link == "@outside") e.link = outside_.string();
  }
  Plant(entries);
  Status s = store_.Get(kPlanted, dest_);
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidInput) << s.message();
  EXPECT_THAT(s.message(), HasSubstr("refusing artifact entry"));
  EXPECT_FALSE(fs::exists(dest_));  // created by Get, removed again on refusal
  EXPECT_EQ(ListAll(tree_ / "box"), std::vector<std::string>{"outside"});
  EXPECT_FALSE(fs::exists(tree_ / "evil"));
  EXPECT_FALSE(fs::exists("/etc/kiln-zip-slip-probe"));
}

INSTANTIATE_TEST_SUITE_P(
    ZipSlip, ArtifactUnsafeZipTest,
    ::testing::Values(
        std::vector<ZipEntry>{{.name = "../evil", .data = "x"}},
        std::vector<ZipEntry>{{.name = "../../evil", .data = "x"}},
        std::vector<ZipEntry>{{.name = "/abs/evil", .data = "x"}},
        std::vector<ZipEntry>{{.name = "a/../../evil", .data = "x"}},
        std::vector<ZipEntry>{{.name = "ok", .data = "x"}, {.name = "./../evil", .data = "x"}},
        std::vector<ZipEntry>{{.name = "..\\..\\evil", .data = "x"}},
        std::vector<ZipEntry>{{.name = "../evil/", .dir = true}},
        // Not /etc/passwd itself: a regression must not be able to replace the real one.
        std::vector<ZipEntry>{{.name = "link", .link = "/etc"},
                              {.name = "link/kiln-zip-slip-probe", .data = "x"}},
        std::vector<ZipEntry>{{.name = "link", .link = "@outside"},
                              {.name = "link/passwd", .data = "x"}},
        std::vector<ZipEntry>{{.name = "up", .link = "../outside"},
                              {.name = "up/passwd", .data = "x"}},
        std::vector<ZipEntry>{{.name = "a/up", .link = "../../outside"}},
        // "b/.." reads as "." but climbs out when b is a link to ".".
        std::vector<ZipEntry>{{.name = "b", .link = "."}, {.name = "a", .link = "b/.."}},
        // A link inside dest is fine, an entry through it is not.
        std::vector<ZipEntry>{{.name = "sub/f", .data = "x"},
                              {.name = "d", .link = "sub"},
                              {.name = "d/x", .data = "x"}}));

}  // namespace
}  // namespace kiln::store
