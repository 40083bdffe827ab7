// Test-only helpers for the deploy tests: a tiny python3 HTTP service packaged as a bundle, a
// loop on its own thread, a kiln.yml around the service, and a blocking HTTP GET.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include "deploy/process_watch.h"
#include "deploy/service_manager.h"
#include "exec/process.h"
#include "spec/kiln_config.h"

namespace kiln::deploy::testing {

namespace fs = std::filesystem;

// The service: GET /api/health-check answers {"success": true, "ver": N} (500 when failing).
inline std::string AppSource(int version, bool failing) {
  return "import json, os\n"
         "from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer\n"
         "class H(BaseHTTPRequestHandler):\n"
         "    protocol_version = 'HTTP/1.1'\n"
         "    def do_GET(self):\n"
         "        code = " +
         std::string(failing ? "500" : "200") +
         "\n"
         "        data = json.dumps({'success': code == 200, 'ver': " +
         std::to_string(version) +
         "}).encode()\n"
         "        self.send_response(code)\n"
         "        self.send_header('Content-Length', str(len(data)))\n"
         "        self.end_headers()\n"
         "        self.wfile.write(data)\n"
         "    def log_message(self, *args):\n"
         "        pass\n"
         "ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n";
}

// Writes bundle/app-v<N>.tar.gz under artifact_dir and returns its relative path.
inline std::string MakeBundle(const fs::path& artifact_dir, int version, bool failing = false) {
  fs::path src = artifact_dir / ("src-" + std::to_string(version) + (failing ? "f" : ""));
  fs::create_directories(src);
  std::ofstream(src / "app.py") << AppSource(version, failing);
  fs::create_directories(artifact_dir / "bundle");
  std::string rel =
      "bundle/app-v" + std::to_string(version) + (failing ? "-failing" : "") + ".tar.gz";
  auto r = exec::Capture(
      {"tar", "-czf", (artifact_dir / rel).string(), "-C", src.string(), "app.py"}, "");
  EXPECT_TRUE(r.ok() && r->exit_code == 0);
  return rel;
}

inline std::string ImageDefinitions(const std::string& uri) {
  return R"([{"name":"web","imageUri":")" + uri + R"("}])";
}

inline spec::KilnConfig ServiceConfig(int desired, int min_percent, int max_percent) {
  std::string yaml =
      "clusters:\n  local: { provider: process }\n"
      "services:\n  web:\n    cluster: local\n    desiredCount: " +
      std::to_string(desired) +
      "\n"
      "    taskDefinition:\n      containerDefinitions:\n"
      "        - name: web\n          image: bundle/web.tar.gz\n"
      "          command: [python3, app.py]\n"
      "    deploymentConfiguration:\n"
      "      minimumHealthyPercent: " +
      std::to_string(min_percent) +
      "\n"
      "      maximumPercent: " +
      std::to_string(max_percent) +
      "\n"
      "      deploymentCircuitBreaker: { enable: true, rollback: true }\n"
      "    stopTimeout: 3\n"
      "    healthCheckGracePeriodSeconds: 10\n"
      "    loadBalancer:\n      listen: 127.0.0.1:0\n"
      "      healthCheck: { path: /api/health-check, matcher: \"200\", interval: 3, timeout: 2, "
      "healthyThreshold: 2, unhealthyThreshold: 2 }\n"
      "      deregistrationDelay: 2\n";
  spec::ParsedConfig parsed = spec::ParseKilnConfig(yaml, "kiln.yml");
  EXPECT_TRUE(parsed.config.has_value())
      << (parsed.diagnostics.empty() ? "" : parsed.diagnostics[0].ToString());
  return parsed.config ? *parsed.config : spec::KilnConfig{};
}

// A blocking GET of path on 127.0.0.1:port; "" on any error.
inline std::string HttpGet(uint16_t port, const std::string& path) {
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::address_v4::loopback(), port});
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(request));
    std::string response;
    boost::system::error_code ec;
    boost::asio::read(socket, boost::asio::dynamic_buffer(response), ec);
    return response;
  } catch (const std::exception&) {
    return "";
  }
}

// An io_context running on its own thread; Run executes fn on it and waits for the result.
// With netns (a network namespace's path), the thread enters it first: sockets made on the
// loop live there (entered() says whether that worked).
class LoopThread {
 public:
  explicit LoopThread(std::string netns = "")
      : guard_(io_.get_executor()), thread_([this, netns] {
          entered_ = netns.empty() || EnterNetns(netns);
          io_.run();
        }) {}
  ~LoopThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  boost::asio::io_context& io() { return io_; }
  bool entered() {
    return Run([this] { return entered_; });
  }
  template <typename Fn>
  auto Run(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto future = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return future.get();
  }

 private:
  static bool EnterNetns(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) ::close(fd);
    return ok;
  }
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  bool entered_ = false;
  std::thread thread_;
};

// busybox httpd on the task's PORT serving /api/health-check {"ver": $VER}, none if $BROKEN:
// the container tests' app (images differ by their ENV only).
inline constexpr char kBusyboxServe[] =
    "if [ -n \"$SLOW\" ]; then sleep 600; fi; "
    "mkdir -p /www/api && if [ -z \"$BROKEN\" ]; then echo \"{\\\"ver\\\": $VER}\" "
    "> /www/api/health-check; fi; echo serving $VER on $PORT; "
    "exec httpd -f -p 127.0.0.1:$PORT -h /www";

// GETs of /api/health-check through port on a thread of its own until Stop, counting the
// answers that are not 200 (the first one kept). run wraps the loop (e.g. to enter a netns).
class LoadClient {
 public:
  using Wrap = std::function<void(const std::function<void()>&)>;
  explicit LoadClient(
      uint16_t port, Wrap run = [](const std::function<void()>& f) { f(); })
      : thread_([this, port, run] {
          run([&] {
            while (!stop_) {
              std::string r = HttpGet(port, "/api/health-check");
              ++sent_;
              if (r.rfind("HTTP/1.1 200", 0) == 0) continue;
              if (failed_++ == 0) first_failure_ = r.substr(0, 300);
            }
          });
        }) {}
  ~LoadClient() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int sent() const { return sent_; }
  int failed() const { return failed_; }
  const std::string& first_failure() const { return first_failure_; }  // after Stop

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0}, failed_{0};
  std::string first_failure_;
  std::thread thread_;
};

inline bool Alive(int64_t pid) {
  return pid > 0 && ::kill(pid_t(pid), 0) == 0 && ProcessToken(pid_t(pid)) != "";
}

}  // namespace kiln::deploy::testing
