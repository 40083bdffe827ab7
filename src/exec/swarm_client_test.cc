// SwarmClient against a recording engine on a unix socket: what reaches the engine with a
// registry login (X-Registry-Auth on service create and update), and that the login never
// comes back in an error message.
#include "exec/swarm_client.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "base/fd.h"
#include "base/test_tree.h"
#include "exec/docker_wire.h"

namespace kiln::exec {
namespace {

// Answers every request at once and keeps each one's head (request line and headers).
class RecordingEngine {
 public:
  RecordingEngine() : path_((tree_ / "engine.sock").string()) {
    listener_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listener_.get(), 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RecordingEngine() {
    stop_ = true;
    thread_.join();
  }
  const std::string& socket_path() const { return path_; }
  // The head of the last request whose target contains `part`.
  std::string Head(const std::string& part) {
    std::lock_guard lock(mu_);
    for (auto it = heads_.rbegin(); it != heads_.rend(); ++it) {
      if (it->substr(0, it->find("\r\n")).find(part) != std::string::npos) return *it;
    }
    return "";
  }
  std::atomic<bool> refuse_update = false;  // 500 quoting the request's X-Registry-Auth

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{.fd = listener_.get(), .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      base::UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (c.valid()) Answer(c.get());
    }
  }
  void Answer(int fd) {
    std::string head;
    char ch;
    while (!head.ends_with("\r\n\r\n") && ::read(fd, &ch, 1) == 1) head += ch;
    size_t length_at = head.find("Content-Length: ");
    size_t length = length_at == std::string::npos ? 0 : std::stoul(head.substr(length_at + 16));
    for (size_t i = 0; i < length && ::read(fd, &ch, 1) == 1; ++i) {
    }
    {
      std::lock_guard lock(mu_);
      heads_.push_back(head);
    }
    std::string line = head.substr(0, head.find("\r\n"));
    int status = 200;
    std::string body = "{}";
    if (line.find("/version") != std::string::npos) {
      body = R"({"Version":"fake","ApiVersion":"1.41","MinAPIVersion":"1.12"})";
    } else if (line.find("/_ping") != std::string::npos) {
      body = "OK";
    } else if (line.find("/services/create") != std::string::npos) {
      body = R"({"ID":"svc1"})";
    } else if (line.find("/update") != std::string::npos && refuse_update) {
      size_t at = head.find("X-Registry-Auth: ");
      std::string quoted =
          at == std::string::npos ? "" : head.substr(at + 17, head.find('\r', at) - at - 17);
      status = 500;
      body = R"({"message":"bad login )" + quoted + R"("})";
    }
    std::string answer =
        "HTTP/1.1 " + std::to_string(status) +
        " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
  }

  base::TestTree tree_;
  std::string path_;
  base::UniqueFd listener_;
  std::atomic<bool> stop_ = false;
  std::mutex mu_;
  std::vector<std::string> heads_;
  std::thread thread_;
};

const SwarmServiceSpec kSpec{.name = "kiln-web", .image = "127.0.0.1:5000/web:1"};
const RegistryAuth kLogin{
    .username = "kiln", .password = "pw-Secret-1", .server_address = "127.0.0.1:5000"};

SwarmClient Connect(const RecordingEngine& engine) {
  auto client = DockerClient::Connect({.socket_path = engine.socket_path()});
  EXPECT_TRUE(client.ok()) << client.status().message();
  return SwarmClient(*client);
}

TEST(SwarmClientTest, ServiceCreateAndUpdateCarryTheRegistryLogin) {
  RecordingEngine engine;
  SwarmClient client = Connect(engine);
  auto id = client.CreateService(kSpec, kLogin);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(*id, "svc1");
  std::string header = "X-Registry-Auth: " + RegistryAuthHeader(kLogin) + "\r\n";
  EXPECT_NE(engine.Head("/services/create").find(header), std::string::npos)
      << engine.Head("/services/create");
  ASSERT_TRUE(client.UpdateService("svc1", 7, kSpec, false, kLogin).ok());
  EXPECT_NE(engine.Head("/update?version=7").find(header), std::string::npos);
}

TEST(SwarmClientTest, NoLoginNoHeader) {
  RecordingEngine engine;
  SwarmClient client = Connect(engine);
  ASSERT_TRUE(client.CreateService(kSpec).ok());
  EXPECT_EQ(engine.Head("/services/create").find("X-Registry-Auth"), std::string::npos);
  ASSERT_TRUE(client.UpdateService("svc1", 8, kSpec).ok());
  EXPECT_EQ(engine.Head("/update?version=8").find("X-Registry-Auth"), std::string::npos);
}

TEST(SwarmClientTest, AnEngineErrorQuotingTheLoginIsMasked) {
  RecordingEngine engine;
  engine.refuse_update = true;
  SwarmClient client = Connect(engine);
  auto st = client.UpdateService("svc1", 9, kSpec, false, kLogin);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad login ********"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find(RegistryAuthHeader(kLogin)), std::string::npos) << st.message();
}

}  // namespace
}  // namespace kiln::exec
