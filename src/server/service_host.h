// The server's services: the deploy layer's ServiceManager on the event loop, and the
// pipeline::Deployer the ECS action calls from its thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>

#include "base/status.h"
#include "pipeline/engine.h"
#include "server/event_hub.h"
#include "spec/kiln_config.h"

namespace kiln::deploy {
class ServiceManager;
}

namespace kiln::server {

class ServiceHost {
 public:
  ServiceHost(boost::asio::io_context& loop, std::filesystem::path state_dir,
              const spec::KilnConfig& config, double time_scale = 1.0);
  ~ServiceHost();
  // Creates the manager (adopting running tasks) when kiln.yml has services. Loop thread,
  // before the loop runs.
  base::Status Start(EventHub& events);
  deploy::ServiceManager* manager() { return manager_.get(); }
  pipeline::Deployer* deployer() { return deployer_.get(); }
  // Stops every task (drained first), then calls done on the loop.
  void Shutdown(std::function<void()> done);

 private:
  boost::asio::io_context& loop_;
  std::filesystem::path state_dir_;
  const spec::KilnConfig& config_;
  double time_scale_ = 1.0;
  std::unique_ptr<deploy::ServiceManager> manager_;
  std::unique_ptr<pipeline::Deployer> deployer_;
};

}  // namespace kiln::server
