// The labels on Kiln's build containers, and recovery from a crash that left some behind.
//
// Every build container carries kiln.build=<build id> and kiln.state=<StateLabel(state dir)>:
// the second says which Kiln made it, so two Kilns (two state dirs) on one engine never
// remove each other's containers. A container outlives its build only when Kiln died without
// its cleanup (SIGKILL, a crash, the host losing power); `kiln serve` removes those at start.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace kiln::codebuild {

inline constexpr char kBuildLabel[] = "kiln.build";
inline constexpr char kStateLabel[] = "kiln.state";

// The first 16 hex digits of the sha256 of the state dir's canonical absolute path (the same
// dir named through a symlink or a relative path gives the same value).
std::string StateLabel(const std::filesystem::path& state_dir);

struct OrphanSweep {
  bool engine = false;  // an engine answered at DOCKER_HOST (or the default socket)
  size_t removed = 0;   // containers of this state dir removed
  size_t services = 0;  // job services of this state dir removed (RemoveOrphanBuildJobs)
  std::string note;     // without an engine: why (for a debug line)
};

// Force-removes every container labelled with this state dir's kiln.state, whatever its
// build: call it only when none of this state dir's builds can be running (the daemon's
// start, before its runner starts). No engine is not an error (engine = false, note = why);
// an engine that fails the list or a removal is.
base::Result<OrphanSweep> RemoveOrphanBuildContainers(const std::filesystem::path& state_dir);

// The same on a swarm cluster whose manager answers at swarm_engine (unix:///...): the build
// job services labelled with this state dir's kiln.state (which stops their tasks), then the
// containers with that label left on the manager's engine, where Kiln's jobs run. No engine
// answering is not an error (engine = false, note = why).
base::Result<OrphanSweep> RemoveOrphanBuildJobs(const std::filesystem::path& state_dir,
                                                const std::string& swarm_engine);

}  // namespace kiln::codebuild
