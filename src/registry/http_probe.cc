#include "registry/http_probe.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "base/fd.h"

namespace kiln::registry {
namespace {

struct HostPort {
  std::string host, port;
};

base::Result<HostPort> Split(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return base::InvalidInput("not HOST:PORT: '" + address + "'");
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  // A server listening on every address is reached through loopback.
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  return HostPort{host, address.substr(colon + 1)};
}

// A connected socket with send/receive timeouts, or an error naming the address.
base::Result<base::UniqueFd> Connect(const std::string& address, int64_t timeout_ms) {
  auto hp = Split(address);
  if (!hp.ok()) return hp.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  if (int rc = ::getaddrinfo(hp->host.c_str(), hp->port.c_str(), &hints, &list); rc != 0) {
    return base::Status(base::ErrorKind::kFailed, address + ": " + ::gai_strerror(rc));
  }
  timeval tv{.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
  int err = ECONNREFUSED;
  base::UniqueFd fd;
  for (addrinfo* ai = list; ai && !fd.valid(); ai = ai->ai_next) {
    base::UniqueFd s(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!s.valid()) continue;
    ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // also bounds connect
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(s.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      fd = std::move(s);
    } else {
      err = errno;
    }
  }
  ::freeaddrinfo(list);
  if (!fd.valid()) return base::IoError("connect " + address, err);
  return fd;
}

}  // namespace

base::Result<int> HttpGetStatus(const std::string& address, const std::string& path,
                                int64_t timeout_ms) {
  auto fd = Connect(address, timeout_ms);
  if (!fd.ok()) return fd.status();
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + address + "\r\n\r\n";
  if (!base::WriteAll(fd->get(), request.data(), request.size())) {
    return base::IoError("send to " + address, errno);
  }
  std::string head;
  char buf[512];
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    ssize_t n = ::recv(fd->get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 401 Unauthorized"
  if (!head.starts_with("HTTP/") || head.find(' ') == std::string::npos) {
    return base::Status(base::ErrorKind::kFailed, address + " gave no HTTP answer");
  }
  std::string_view code = std::string_view(head).substr(head.find(' ') + 1, 3);
  if (code.size() != 3 || code.find_first_not_of("0123456789") != std::string_view::npos) {
    return base::Status(base::ErrorKind::kFailed, address + " gave no HTTP status");
  }
  return (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
}

}  // namespace kiln::registry
