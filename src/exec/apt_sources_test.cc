#include "exec/apt_sources.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kiln::exec {
namespace {

TEST(DebianMirrorIn, OneLineFormatSkipsCommentsSourcesAndSecurity) {
  const char* list =
      "# deb http://commented.example/debian bookworm main\n"
      "deb-src http://src.example/debian bookworm main\n"
      "deb http://security.debian.org/debian-security bookworm-security main\n"
      "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian/ "
      "bookworm main contrib\n"
      "deb http://second.example/debian bookworm main\n";
  EXPECT_EQ(DebianMirrorIn(list, false), "http://mirror.example/debian");
  EXPECT_EQ(DebianMirrorIn("deb cdrom:[Debian]/ bookworm main\n", false), std::nullopt);
  EXPECT_EQ(DebianMirrorIn("deb [broken http://x/debian bookworm main\n", false), std::nullopt);
  EXPECT_EQ(DebianMirrorIn("", false), std::nullopt);
}

TEST(DebianMirrorIn, Deb822TakesTheFirstEnabledMainArchiveStanza) {
  const char* sources =
      "Types: deb\n"
      "URIs: http://disabled.example/debian\n"
      "Suites: bookworm\n"
      "Enabled: no\n"
      "\n"
      "Types: deb\n"
      "# http://snapshot.debian.org/archive/debian-security/20250520T000000Z\n"
      "URIs: http://deb.debian.org/debian-security\n"
      "Suites: bookworm-security\n"
      "\n"
      "Types: deb-src deb\n"
      "URIs: http://deb.example.org/debian/\n"
      "Suites: bookworm bookworm-updates\n"
      "Components: main\n";
  EXPECT_EQ(DebianMirrorIn(sources, true), "http://deb.example.org/debian");
  EXPECT_EQ(DebianMirrorIn("Types: deb-src\nURIs: http://x/debian\nSuites: bookworm\n", true),
            std::nullopt);
  EXPECT_EQ(DebianMirrorIn("garbage without colons\n\n\n", true), std::nullopt);
}

TEST(DetectDebianMirror, ReadsSourcesListThenTheDirectoryInNameOrder) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("kiln-apt-" + std::to_string(::getpid()));
  fs::create_directories(dir / "sources.list.d");
  EXPECT_EQ(DetectDebianMirror(dir.string()), std::nullopt);
  std::ofstream(dir / "sources.list.d" / "b.sources")
      << "Types: deb\nURIs: https://b.example/debian\nSuites: trixie\n";
  std::ofstream(dir / "sources.list.d" / "a.sources")
      << "Types: deb\nURIs: https://a.example/debian-security\nSuites: trixie-security\n";
  EXPECT_EQ(DetectDebianMirror(dir.string()), "https://b.example/debian");
  std::ofstream(dir / "sources.list") << "deb http://list.example/debian trixie main\n";
  EXPECT_EQ(DetectDebianMirror(dir.string()), "http://list.example/debian");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln::exec
