// RepositoryNameFromUrl: CodePipeline's FullRepositoryName output variable for any git URL.
#include <string>
#include <string_view>

#include "source/git_mirror.h"

namespace kiln::source {
namespace {

std::string_view StripSuffixes(std::string_view path) {
  while (path.ends_with('/')) path.remove_suffix(1);
  if (path.ends_with(".git")) path.remove_suffix(4);
  while (path.ends_with('/')) path.remove_suffix(1);
  return path;
}

std::string_view LastComponent(std::string_view path) {
  path = StripSuffixes(path);
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The path of a hosted repository without leading slashes: "owner/repo" on GitHub, and the
// full "group/sub/repo" on forges with nested groups.
std::string HostedPath(std::string_view path) {
  path = StripSuffixes(path);
  while (path.starts_with('/')) path.remove_prefix(1);
  return std::string(path);
}

// scp-like syntax, as git defines it: a ':' before any '/', and not a local path.
bool IsScpLike(std::string_view url) {
  size_t colon = url.find(':');
  return colon != std::string_view::npos && colon > 0 && url.find('/') > colon &&
         !url.starts_with('/') && !url.starts_with('.');
}

}  // namespace

std::string RepositoryNameFromUrl(const std::string& url) {
  std::string_view u = url;
  size_t scheme = u.find("://");
  if (scheme != std::string_view::npos) {
    std::string_view rest = u.substr(scheme + 3);
    if (u.substr(0, scheme) == "file") return std::string(LastComponent(rest));
    size_t slash = rest.find('/');
    return slash == std::string_view::npos ? "" : HostedPath(rest.substr(slash));
  }
  if (IsScpLike(u)) return HostedPath(u.substr(u.find(':') + 1));
  return std::string(LastComponent(u));
}

}  // namespace kiln::source
