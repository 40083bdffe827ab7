// Test support shared by the engine fixtures' suites (docker_test_engine.h,
// swarm_test_engine.h): reaching the engine a CTest fixture started with scripts/test-engine.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include "exec/docker_client.h"

namespace kiln::exec::testing {

// The first line of a file; empty when there is none.
inline std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A client of the engine that scripts/test-engine started in dir (it writes dir/docker-host,
// or dir/unavailable with the reason it could not), or nullopt with the reason in *why.
inline std::optional<DockerClient> EngineInDir(const std::string& dir, const std::string& fixture,
                                               std::string* why) {
  std::string host = ReadLine(dir + "/docker-host");
  if (host.empty()) {
    std::string reason = ReadLine(dir + "/unavailable");
    *why = reason.empty() ? "the " + fixture + " fixture did not run (" + dir + ")" : reason;
    return std::nullopt;
  }
  auto endpoint = ParseDockerHost(host);
  if (!endpoint.ok()) {
    *why = endpoint.status().message();
    return std::nullopt;
  }
  auto client = DockerClient::Connect(*endpoint);
  if (!client.ok()) {
    *why = client.status().message();
    return std::nullopt;
  }
  return std::move(*client);
}

// A loopback port nothing listens on right now (the kernel's pick, released again); 0 if the
// kernel would not say.
inline int FreeLoopbackPort() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(s);
  return ok ? ntohs(a.sin_port) : 0;
}

// GET / from 127.0.0.1:port over a plain socket, in the calling thread's network namespace:
// the whole answer, or "" if nothing answers.
inline std::string HttpGetLoopback(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string request = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(s, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(s, buf, sizeof buf, 0)) > 0;) answer.append(buf, n);
    }
  }
  ::close(s);
  return answer;
}

}  // namespace kiln::exec::testing
