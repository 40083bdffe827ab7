// Globs with CodeBuild's artifact rules: `*` and `?` stay within one path component,
// `**` crosses components (also zero of them), `[abc]`/`[a-z]`/`[!a]` classes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::base {

// True when the '/'-separated relative path matches pattern.
bool GlobMatch(std::string_view pattern, std::string_view path);

// The leading components of pattern that hold no wildcard, '/'-joined ("a/b" for "a/b/*.c",
// "" for "**/*"; the whole pattern when it has no wildcard). Empty and "." components dropped.
std::string GlobLiteralPrefix(std::string_view pattern);

// True when some component of pattern holds a wildcard, a class or an escape.
bool GlobHasWildcards(std::string_view pattern);

// Every regular file or symlink under root (recursively, not following directory symlinks)
// whose path relative to root matches pattern; relative paths, sorted. A pattern naming a
// directory ("dir" or "dir/") selects the whole tree under it, as CodeBuild does.
// Symlinks on the pattern's literal prefix ("dist" in "dist/*.js") are followed to start the
// walk; callers that must stay inside root check where the returned paths lead.
// Unreadable folders are skipped. Cost: one walk, pruned where the pattern cannot match.
std::vector<std::string> GlobFiles(const std::filesystem::path& root, std::string_view pattern);

// Directories (and symlinks to directories, not descended) under root, root excluded, whose
// relative path matches pattern; relative paths, sorted. For `base-directory: 'my-build*'`.
std::vector<std::string> GlobDirectories(const std::filesystem::path& root,
                                         std::string_view pattern);

}  // namespace kiln::base
