// libFuzzer target for what Kiln does with a request's bytes before any handler: Beast's
// request parser with the server's header limit, the admission decision on the parsed head
// (admission.h: Host, Origin, credential, Content-Type, limits) and the target's parsing
// (router.h). Built and run by `make fuzz`; corpus in fuzz/corpus/http_request/.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>

#include "server/admission.h"
#include "server/router.h"

namespace {

namespace bhttp = boost::beast::http;
using kiln::server::AdmissionPolicy;

const AdmissionPolicy& Policy() {
  static kiln::server::Auth auth = [] {
    kiln::spec::KilnConfig config;
    config.server.tokens.push_back(
        {.name = "ops", .role = "operate", .sha256 = kiln::server::Sha256Hex("ops-token")});
    auto a = kiln::server::Auth::FromConfig(config);
    return std::move(a.value());
  }();
  static AdmissionPolicy policy = [] {
    AdmissionPolicy p;
    p.auth = &auth;
    p.hosts = {"kiln.example.com"};
    p.webhook_connection = [](std::string_view name) { return name == "cruddur"; };
    return p;
  }();
  return policy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.eager(false);  // the head first, as the server reads it
  boost::beast::error_code ec;
  size_t used = parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  kiln::server::HeadDecision decision = kiln::server::Admit(parser.get().base(), Policy());
  if (decision.refusal) return 0;
  parser.body_limit(decision.body_limit);
  parser.eager(true);
  while (!ec && used < size && !parser.is_done()) {
    size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (n == 0) break;
    used += n;
  }
  kiln::server::Target target;
  auto t = parser.get().target();
  (void)kiln::server::ParseTarget(std::string_view(t.data(), t.size()), &target);
  return 0;
}
