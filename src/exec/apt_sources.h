// Where this host's apt gets Debian from: the mirror `kiln image bootstrap --standard` hands
// to debootstrap, so it works wherever apt works (a proxy, a snapshot, a local mirror).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kiln::exec {

inline constexpr char kDefaultDebianMirror[] = "http://deb.debian.org/debian";

// The first `deb` URI of the Debian archive in one sources file: one-line format
// (sources.list: `deb [opts] URI SUITE COMPONENTS...`) unless deb822 is true (*.sources
// stanzas: Types/URIs/Suites/Enabled). Security and backport-style archives, whose suites
// all carry a '-' suffix (bookworm-security, bookworm-updates), are skipped: debootstrap
// needs the main archive. nullopt when there is none.
std::optional<std::string> DebianMirrorIn(std::string_view text, bool deb822);

// The mirror from apt_dir/sources.list, then apt_dir/sources.list.d/*.sources and *.list in
// name order; nullopt when none names one (the caller falls back to kDefaultDebianMirror).
std::optional<std::string> DetectDebianMirror(const std::string& apt_dir = "/etc/apt");

}  // namespace kiln::exec
