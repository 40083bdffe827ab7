#include "server/file_watch.h"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <fstream>

#include "base/test_tree.h"

namespace kiln::server {
namespace {

namespace fs = std::filesystem;

void Append(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::app) << text;
}

// Runs the loop until fn's condition holds or 2 s passed.
void RunUntil(boost::asio::io_context& loop, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    loop.run_for(std::chrono::milliseconds(10));
    loop.restart();
  }
}

TEST(FileWatchTest, AWriteWakesEveryWaiterOnceAndACancelledOneNever) {
  base::TestTree tree;
  fs::path log = tree.path() / "build.log";
  Append(log, "first\n");
  boost::asio::io_context loop;
  FileWatch files(loop);
  int a = 0, b = 0, cancelled = 0;
  ASSERT_NE(files.Once(log, [&] { ++a; }), 0u);
  ASSERT_NE(files.Once(log, [&] { ++b; }), 0u);
  uint64_t c = files.Once(log, [&] { ++cancelled; });
  files.Cancel(c);
  loop.run_for(std::chrono::milliseconds(50));
  loop.restart();
  EXPECT_EQ(a + b, 0) << "nothing was written yet";
  Append(log, "second\n");
  RunUntil(loop, [&] { return a == 1 && b == 1; });
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  Append(log, "third\n");
  loop.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(a, 1) << "once: a waiter is called for one change only";
  EXPECT_EQ(cancelled, 0);
}

TEST(FileWatchTest, AMissingFileCannotBeWatched) {
  base::TestTree tree;
  boost::asio::io_context loop;
  FileWatch files(loop);
  EXPECT_EQ(files.Once(tree.path() / "absent.log", [] {}), 0u);
  files.Cancel(12345);  // unknown tokens are ignored
}

}  // namespace
}  // namespace kiln::server
