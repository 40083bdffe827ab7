#include "exec/static_binary.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kiln::exec {
namespace {

TEST(IsStaticElf, BusyboxStaticIsAndTheDynamicShellIsNot) {
  if (::access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "busybox-static not installed";
  auto busybox = IsStaticElf("/bin/busybox");
  ASSERT_TRUE(busybox.ok()) << busybox.status().message();
  EXPECT_TRUE(*busybox);
  auto sh = IsStaticElf("/bin/sh");  // dash, linked against libc
  ASSERT_TRUE(sh.ok()) << sh.status().message();
  EXPECT_FALSE(*sh);
}

TEST(IsStaticElf, RefusesWhatIsNotAnElfExecutable) {
  auto dir = std::filesystem::temp_directory_path();
  auto script = dir / ("kiln-elf-" + std::to_string(::getpid()));
  std::ofstream(script) << "#!/bin/sh\necho hi\n";
  EXPECT_EQ(IsStaticElf(script.string()).status().kind(), base::ErrorKind::kInvalidInput);
  std::ofstream(script) << "\x7f"
                           "ELF";  // truncated header
  EXPECT_EQ(IsStaticElf(script.string()).status().kind(), base::ErrorKind::kInvalidInput);
  std::filesystem::remove(script);
  EXPECT_EQ(IsStaticElf("/nonexistent/kiln").status().kind(), base::ErrorKind::kIo);
}

TEST(FindInPath, TakesTheFirstExecutableAndSkipsEmptyEntries) {
  EXPECT_EQ(FindInPath("sh", "/nonexistent::/bin:/usr/bin"), "/bin/sh");
  EXPECT_EQ(FindInPath("kiln-no-such-tool", "/bin:/usr/bin"), "");
  EXPECT_EQ(FindInPath("sh", ""), "");
}

TEST(FindStaticDockerCli, NeverReturnsADynamicBinary) {
  std::string cli = FindStaticDockerCli("/usr/local/bin:/usr/bin:/bin");
  if (cli.empty()) GTEST_SKIP() << "no static docker CLI here";
  auto is_static = IsStaticElf(cli);
  ASSERT_TRUE(is_static.ok());
  EXPECT_TRUE(*is_static) << cli;
}

}  // namespace
}  // namespace kiln::exec
