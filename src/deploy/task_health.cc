#include "deploy/task_health.h"

#include <boost/asio/steady_timer.hpp>

#include "base/ids.h"
#include "deploy/health_probe.h"

namespace kiln::deploy {
namespace {

constexpr int64_t kNoCheckHealthyAfterMs = 1000;

struct Checker {
  explicit Checker(boost::asio::io_context& loop) : timer(loop) {}
  boost::asio::steady_timer timer;
  Health state = Health::kUnknown;
  int successes = 0, failures = 0;
  std::string last_failure;
};

}  // namespace

const char* HealthName(Health health) {
  switch (health) {
    case Health::kHealthy:
      return "HEALTHY";
    case Health::kUnhealthy:
      return "UNHEALTHY";
    case Health::kUnknown:
      break;
  }
  return "UNKNOWN";
}

struct TaskHealth::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context& loop, TaskHealthOptions options, OnChange on_change)
      : loop(loop),
        opt(std::move(options)),
        on_change(std::move(on_change)),
        idle(loop),
        start_ms(base::MonotonicMillis() - opt.started_ago_ms) {}

  boost::asio::io_context& loop;
  TaskHealthOptions opt;
  OnChange on_change;
  boost::asio::steady_timer idle;  // the no-check rule's timer
  int64_t start_ms;
  std::unique_ptr<Checker> container, balancer;
  Health overall = Health::kUnknown;
  bool stopped = false;

  int64_t Age() const { return base::MonotonicMillis() - start_ms; }

  void Start() {
    if (opt.external_container) {
      container = std::make_unique<Checker>(loop);
      opt.container.reset();
    } else if (opt.container) {
      container = std::make_unique<Checker>(loop);
    }
    if (opt.balancer) balancer = std::make_unique<Checker>(loop);
    // As Docker and ELB do, the first check runs one interval after the start.
    if (opt.container) Schedule(*container, opt.container->interval_ms, &Impl::RunContainer);
    if (balancer) Schedule(*balancer, opt.balancer->interval_ms, &Impl::RunBalancer);
    if (!container && !balancer) StartIdle();
  }

  void StartIdle() {
    idle.expires_after(
        std::chrono::milliseconds(std::max<int64_t>(0, kNoCheckHealthyAfterMs - Age())));
    idle.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      self->overall = Health::kHealthy;
      self->on_change(Health::kHealthy, "");
    });
  }

  void Schedule(Checker& c, int64_t delay_ms, void (Impl::*run)()) {
    c.timer.expires_after(std::chrono::milliseconds(delay_ms));
    c.timer.async_wait([self = shared_from_this(), run](const boost::system::error_code& ec) {
      if (!ec && !self->stopped) ((*self).*run)();
    });
  }

  void RunContainer() {
    const ContainerHealthCheck& check = *opt.container;
    ProbeCommand(loop, check.command, opt.command_env, opt.command_cwd, check.timeout_ms,
                 [self = shared_from_this()](ProbeResult r) { self->OnContainer(std::move(r)); });
  }

  void OnContainer(ProbeResult r) {
    if (stopped) return;
    const ContainerHealthCheck& check = *opt.container;
    Checker& c = *container;
    if (r.ok) {
      c.failures = 0;
      c.state = Health::kHealthy;
    } else if (Age() >= check.start_period_ms) {  // ECS: startPeriod failures do not count
      c.last_failure = r.detail;
      if (++c.failures >= check.retries) c.state = Health::kUnhealthy;
    }
    Schedule(c, check.interval_ms, &Impl::RunContainer);
    Update(c.last_failure);
  }

  void SetContainer(Health health, const std::string& reason) {
    if (stopped || !container || !opt.external_container) return;
    container->state = health;
    if (health == Health::kUnhealthy) container->last_failure = reason;
    Update(container->last_failure);
  }

  void RunBalancer() {
    const BalancerHealthCheck& check = *opt.balancer;
    auto done = [self = shared_from_this()](ProbeResult r) { self->OnBalancer(std::move(r)); };
    if (check.http) {
      ProbeHttp(loop, opt.port, check, done);
    } else {
      ProbeTcp(loop, opt.port, check.timeout_ms, done);
    }
  }

  void OnBalancer(ProbeResult r) {
    if (stopped) return;
    const BalancerHealthCheck& check = *opt.balancer;
    Checker& c = *balancer;
    if (r.ok) {
      c.failures = 0;
      if (++c.successes >= check.healthy_threshold) c.state = Health::kHealthy;
    } else if (Age() >= opt.grace_period_ms) {  // ECS: healthCheckGracePeriodSeconds
      c.successes = 0;
      c.last_failure = r.detail;
      if (++c.failures >= check.unhealthy_threshold) c.state = Health::kUnhealthy;
    } else {
      c.successes = 0;
    }
    Schedule(c, check.interval_ms, &Impl::RunBalancer);
    Update(c.last_failure);
  }

  Health Combined() const {
    bool all_healthy = true;
    for (const Checker* c : {container.get(), balancer.get()}) {
      if (!c) continue;
      if (c->state == Health::kUnhealthy) return Health::kUnhealthy;
      all_healthy = all_healthy && c->state == Health::kHealthy;
    }
    return all_healthy ? Health::kHealthy : Health::kUnknown;
  }

  void Update(const std::string& failure) {
    Health now = Combined();
    if (now == overall) return;
    overall = now;
    on_change(now, now == Health::kUnhealthy ? "health check failed: " + failure : "");
  }

  void Stop() {
    stopped = true;
    on_change = nullptr;
    idle.cancel();
    if (container) container->timer.cancel();
    if (balancer) balancer->timer.cancel();
  }
};

TaskHealth::TaskHealth(boost::asio::io_context& loop, TaskHealthOptions options, OnChange on_change)
    : impl_(std::make_shared<Impl>(loop, std::move(options), std::move(on_change))) {
  impl_->Start();
}

TaskHealth::~TaskHealth() { impl_->Stop(); }

Health TaskHealth::health() const { return impl_->overall; }

void TaskHealth::SetContainer(Health health, const std::string& reason) {
  impl_->SetContainer(health, reason);
}

}  // namespace kiln::deploy
