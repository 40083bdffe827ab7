// Test helper: a real temporary directory tree, removed when the test ends. Tests only.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kiln::base {

class TestTree {
 public:
  TestTree() {
    std::string templ = "/tmp/kiln-test-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = templ;
  }
  ~TestTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TestTree(const TestTree&) = delete;
  TestTree& operator=(const TestTree&) = delete;

  const std::filesystem::path& path() const { return root_; }
  std::filesystem::path operator/(std::string_view rel) const { return root_ / rel; }

  // Writes content to rel, creating parent folders.
  std::filesystem::path Write(std::string_view rel, std::string_view content = "x") const {
    std::filesystem::path p = root_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::filesystem::path Mkdir(std::string_view rel) const {
    std::filesystem::create_directories(root_ / rel);
    return root_ / rel;
  }
  // Creates the symlink rel -> target (target written as given: relative or absolute).
  std::filesystem::path Symlink(std::string_view rel, const std::filesystem::path& target) const {
    std::filesystem::path p = root_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::filesystem::create_symlink(target, p);
    return p;
  }
  std::string Read(std::string_view rel) const {
    std::ifstream in(root_ / rel, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::filesystem::path root_;
};

}  // namespace kiln::base
