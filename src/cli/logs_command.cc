// `kiln logs BUILD_ID [-f]`: a build's log, from the state dir or through --server; -f
// follows it until the build ends.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "base/fd.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/remote_commands.h"
#include "store/store.h"

namespace kiln::cli {
namespace {

struct LogsArgs {
  std::string build_id;
  bool follow = false;
};

// Copies what the file holds past *offset to stdout.
void Drain(int fd, off_t* offset) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, *offset);
    if (n <= 0) return;
    std::fwrite(buf, 1, static_cast<size_t>(n), stdout);
    *offset += n;
  }
}

int LocalLogs(const GlobalOptions& g, const LogsArgs& a) {
  auto store = store::Store::Open((StateDir(g) / "kiln.db").string());
  if (!store.ok()) {
    std::fprintf(stderr, "kiln: error: %s\n", store.status().message().c_str());
    return kExitInternal;
  }
  auto row = (*store)->GetBuild(a.build_id);
  if (!row.ok() || !*row) {
    std::fprintf(stderr, "kiln: error: no build %s in %s\n", a.build_id.c_str(),
                 StateDir(g).c_str());
    return kExitUsage;
  }
  base::UniqueFd fd(::open((*row)->log_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    std::fprintf(stderr, "kiln: error: log %s: %s\n", (*row)->log_path.c_str(), strerror(errno));
    return kExitInternal;
  }
  off_t offset = 0;
  std::string status = (*row)->status;
  for (;;) {
    Drain(fd.get(), &offset);
    std::fflush(stdout);
    if (!a.follow || (status != "IN_PROGRESS" && status != "QUEUED")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto now = (*store)->GetBuild(a.build_id);
    if (now.ok() && *now) status = (*now)->status;
  }
  Drain(fd.get(), &offset);
  return status == "SUCCEEDED" || status == "IN_PROGRESS" ? kExitOk : kExitFailed;
}

}  // namespace

CommandSpec LogsCommand() {
  return {"logs", "print a build's log (-f: follow it while it runs)", [](CLI::App* sub) {
            auto a = std::make_shared<LogsArgs>();
            sub->add_option("build", a->build_id, "build id (PROJECT:UUID)")->required();
            sub->add_flag("-f,--follow", a->follow, "follow the log until the build ends");
            return [a](const GlobalOptions& g) {
              if (ServerUrl(g).empty()) return LocalLogs(g, *a);
              auto api = ApiClient::FromGlobal(g);
              if (!api.ok()) {
                std::fprintf(stderr, "kiln: error: %s\n", api.status().message().c_str());
                return kExitUsage;
              }
              return RemoteLogs(*api, a->build_id, a->follow);
            };
          }};
}

}  // namespace kiln::cli
