// What the server's request handlers share. Built once by the daemon (daemon.cc).
#pragma once

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "server/auth.h"
#include "server/event_hub.h"
#include "server/file_watch.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/runner.h"
#include "spec/kiln_config.h"
#include "spec/pipeline.h"
#include "store/store.h"

namespace kiln::deploy {
class ServiceManager;
}

namespace kiln::server {

// The pipelines the server runs: the current definition of each, and its stored version.
struct CatalogEntry {
  spec::Pipeline pipeline;
  int64_t version = 0;
  std::string definition_json;
};
using Catalog = std::map<std::string, CatalogEntry>;

// One thread that owns a Store and runs write jobs in order (writes never block the loop;
// one writer means no lock contention between the server's own writes).
class StoreWorker {
 public:
  explicit StoreWorker(std::filesystem::path db_path);
  ~StoreWorker();
  // Runs job(store) on the worker thread; store is null if the database could not be opened.
  void Post(std::function<void(store::Store*)> job);

 private:
  void Loop();
  std::filesystem::path db_path_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void(store::Store*)>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

struct ServerContext {
  boost::asio::io_context& loop;
  std::filesystem::path state_dir;
  const spec::KilnConfig& config;
  const Catalog& catalog;
  store::Store& reads;  // loop-affine
  StoreWorker& writer;
  EventHub& events;
  Metrics& metrics;
  Runner& runner;
  Auth& auth;        // loop-affine (the local token can be rotated)
  FileWatch& files;  // loop-affine: log tails wait on it
  std::map<std::string, std::string> webhook_secrets;  // connection name -> resolved secret
  deploy::ServiceManager* services = nullptr;          // loop-affine; null without services
  // Pipeline state JSON by pipeline name, dropped on any event of that pipeline.
  std::map<std::string, std::string> state_cache;
  // Requests waiting for a build to end (POST .../builds?wait=true), by build id.
  std::multimap<std::string, std::shared_ptr<Exchange>> build_waiters;
};

}  // namespace kiln::server
