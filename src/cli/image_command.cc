// `kiln image bootstrap`: the build images Kiln makes without a registry (exec/image_bootstrap),
// loaded into the engine at DOCKER_HOST.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "exec/docker_client.h"
#include "exec/image_bootstrap.h"
#include "exec/static_binary.h"

namespace kiln::cli {
namespace {

struct ImageArgs {
  bool standard = false;
  bool busybox = false;
  exec::BootstrapOptions options;
};

void Progress(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);  // before a child's output lands on the same stream
}

void PrintImported(const exec::BootstrappedImage& image) {
  double mib = static_cast<double>(image.size) / (1024.0 * 1024.0);
  std::printf("imported %s (%s, %.0f MiB)\n", image.ref.c_str(), image.id.c_str(), mib);
}

int Fail(const base::Status& status) {
  std::fprintf(stderr, "kiln: error: %s\n", status.message().c_str());
  return kExitFailed;
}

int Bootstrap(ImageArgs a) {
  if (auto why = exec::CheckBootstrapOptions(a.options); !why.empty()) {
    std::fprintf(stderr, "kiln: error: %s\n", why.c_str());
    return kExitUsage;
  }
  const bool both = !a.standard && !a.busybox;  // no flag: both
  if (both) a.standard = a.busybox = true;
  std::string debootstrap;
  if (a.standard) {  // refuse before any work rather than after the busybox image
    auto found = exec::StandardPrerequisites();
    if (!found.ok()) {
      std::string hint = both ? " (kiln image bootstrap --busybox needs neither)" : "";
      return Fail(base::Status(found.status().kind(), found.status().message() + hint));
    }
    debootstrap = *found;
  }
  auto client = exec::DockerClient::ConnectFromEnvironment();
  if (!client.ok()) return Fail(client.status());
  const char* path = std::getenv("PATH");
  a.options.docker_cli = exec::FindStaticDockerCli(path ? path : "");
  if (a.options.docker_cli.empty()) Progress("no static docker CLI on this host: images get none");
  a.options.progress = Progress;
  if (a.busybox) {
    auto image = exec::BootstrapBusybox(*client, a.options);
    if (!image.ok()) return Fail(image.status());
    PrintImported(*image);
  }
  if (a.standard) {
    auto image = exec::BootstrapStandard(*client, a.options, debootstrap);
    if (!image.ok()) return Fail(image.status());
    PrintImported(*image);
  }
  return kExitOk;
}

}  // namespace

CommandSpec ImageCommand() {
  return {"image", "make build images without a registry", [](CLI::App* sub) {
            auto a = std::make_shared<ImageArgs>();
            auto which = std::make_shared<std::string>();
            sub->require_subcommand(1);
            auto* boot = AddVerb(sub, "bootstrap",
                                 "load kiln/busybox:1 and kiln/standard:1 into the engine at "
                                 "DOCKER_HOST (both without flags)",
                                 which.get());
            boot->add_flag("--standard", a->standard, "Debian with debootstrap (root, minutes)");
            boot->add_flag("--busybox", a->busybox, "busybox-static (seconds)");
            boot->add_option("--tag-prefix", a->options.tag_prefix, "repository prefix (kiln)");
            boot->add_option("--suite", a->options.suite, "Debian suite (bookworm)");
            boot->add_option("--mirror", a->options.mirror,
                             "Debian mirror (default: the one apt uses here)");
            return [a, which](const GlobalOptions&) {
              return *which == "bootstrap" ? Bootstrap(*a) : kExitUsage;
            };
          }};
}

}  // namespace kiln::cli
