#include "codebuild/build_containers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace kiln::codebuild {
namespace {
namespace fs = std::filesystem;

TEST(StateLabel, IsSixteenHexOfTheCanonicalPath) {
  char tmpl[] = "/tmp/kiln-label-XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  fs::create_directories(dir / "a");
  fs::create_directory_symlink(dir / "a", dir / "link");
  std::string label = StateLabel(dir / "a");
  EXPECT_EQ(label.size(), 16u);
  EXPECT_EQ(label.find_first_not_of("0123456789abcdef"), std::string::npos) << label;
  EXPECT_EQ(StateLabel(dir / "link"), label);
  EXPECT_EQ(StateLabel(dir / "a" / ""), label);
  EXPECT_EQ(StateLabel(dir / "a" / ".." / "a"), label);
  EXPECT_NE(StateLabel(dir / "b"), label);
  // sha256("/") starts 8a5edab2...: the value is the digest's hex, not some other hash.
  EXPECT_EQ(StateLabel("/"), "8a5edab282632443");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln::codebuild
