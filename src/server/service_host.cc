#include "server/service_host.h"

#include <poll.h>

#include <boost/asio/post.hpp>
#include <future>

#include "base/files.h"
#include "base/ids.h"
#include "codebuild/container_executor.h"
#include "deploy/service_manager.h"
#include "registry/access.h"

namespace kiln::server {
namespace asio = boost::asio;

namespace {

// The ECS deploy action, from an action thread: reads the image file from the input artifact,
// asks the manager (on the loop) for a deployment, and waits for its outcome, the timeout or
// the execution's cancellation.
class LoopDeployer : public pipeline::Deployer {
 public:
  LoopDeployer(asio::io_context& loop, deploy::ServiceManager& manager, EventHub& events)
      : loop_(loop), manager_(manager), events_(events) {}

  Outcome Deploy(const Request& r) override {
    std::filesystem::path file = r.artifact_dir / r.file_name;
    if (!base::IsInside(r.artifact_dir, file)) return {false, "FileName escapes the artifact", ""};
    auto text = base::ReadFile(file, 1 << 20);
    if (!text.ok()) {
      return {false, "the input artifact has no " + r.file_name + ": " + text.status().message(),
              ""};
    }
    auto state = std::make_shared<std::promise<deploy::DeploymentOutcome>>();
    auto started = std::make_shared<std::promise<base::Result<std::string>>>();
    // The service fails the deployment itself at DeploymentTimeout (and rolls it back); the
    // wait here lasts a little longer to report that outcome rather than a bare timeout.
    deploy::DeployInput input{
        .image_file = *text, .artifact_dir = r.artifact_dir, .timeout_ms = r.timeout_ms};
    std::string service = r.service;
    asio::post(loop_, [this, service, input, state, started] {
      auto id = manager_.Deploy(
          service, input, [state](const deploy::DeploymentOutcome& o) { state->set_value(o); });
      started->set_value(id);
    });
    auto id = started->get_future().get();
    if (!id.ok()) return {false, id.status().message(), ""};
    events_.Publish("service", "", r.execution_id,
                    {{"serviceName", service}, {"deploymentId", *id}, {"status", "IN_PROGRESS"}});
    auto future = state->get_future();
    constexpr int64_t kOutcomeGraceMs = 10'000;
    int64_t deadline = base::MonotonicMillis() + r.timeout_ms + kOutcomeGraceMs;
    while (future.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
      if (base::MonotonicMillis() > deadline) {
        return {false,
                "deployment " + *id + " did not reach a steady state within " +
                    std::to_string(r.timeout_ms / 60'000) + " minutes",
                *id};
      }
      pollfd p{r.cancel_fd, POLLIN, 0};
      if (r.cancel_fd >= 0 && ::poll(&p, 1, 100) > 0) {
        return {false, "abandoned while deployment " + *id + " was in progress", *id};
      }
      if (r.cancel_fd < 0) future.wait_for(std::chrono::milliseconds(100));
    }
    deploy::DeploymentOutcome o = future.get();
    events_.Publish("service", "", r.execution_id,
                    {{"serviceName", service},
                     {"deploymentId", *id},
                     {"status", o.rollout_state},
                     {"reason", o.reason}});
    std::string summary =
        o.succeeded
            ? "service " + service + " reached a steady state at revision " +
                  std::to_string(o.revision)
            : "deployment of revision " + std::to_string(o.revision) + " failed: " + o.reason +
                  (o.rollback_revision > 0
                       ? " (rolled back to revision " + std::to_string(o.rollback_revision) + ")"
                       : "");
    return {o.succeeded, summary, *id};
  }

 private:
  asio::io_context& loop_;
  deploy::ServiceManager& manager_;
  EventHub& events_;
};

}  // namespace

// Service images from kiln.yml's registry are pulled with its current login (read at each
// pull: the password rotates), as builds' images are (codebuild::PullAuthFor).
static deploy::PullAuth RegistryPullAuth(const spec::KilnConfig& config,
                                         const std::filesystem::path& state) {
  return [&config, state](const std::string& image) -> std::optional<exec::RegistryAuth> {
    auto access = registry::ResolveAccess(config, state);
    if (!access.ok() || !*access) return std::nullopt;
    auto auth = codebuild::PullAuthFor(spec::BuildEnvironment{.image = image}, *access, {});
    return auth.ok() ? *auth : std::nullopt;
  };
}

ServiceHost::ServiceHost(asio::io_context& loop, std::filesystem::path state_dir,
                         const spec::KilnConfig& config, double time_scale)
    : loop_(loop), state_dir_(std::move(state_dir)), config_(config), time_scale_(time_scale) {}

ServiceHost::~ServiceHost() = default;

base::Status ServiceHost::Start(EventHub& events) {
  if (config_.services.empty()) return base::Status::Ok();
  auto manager = deploy::ServiceManager::Create(
      loop_, {.state_dir = state_dir_,
              .config = &config_,
              .time_scale = time_scale_,
              .bundle_limits = {.max_bytes = config_.server.limits.bundle_bytes,
                                .max_entries = config_.server.limits.bundle_entries},
              .pull_auth = RegistryPullAuth(config_, state_dir_)});
  if (!manager.ok()) return manager.status();
  manager_ = std::move(*manager);
  if (auto st = manager_->Start(); !st.ok()) return st;
  deployer_ = std::make_unique<LoopDeployer>(loop_, *manager_, events);
  return base::Status::Ok();
}

void ServiceHost::Shutdown(std::function<void()> done) {
  if (!manager_) return done();
  manager_->Shutdown(std::move(done));
}

}  // namespace kiln::server
