// The HTTP balancer's message rules (internal to load_balancer_http.cc): which framing it
// trusts, which header blocks it refuses, and the hop-by-hop headers it never passes on.
// A proxy that frames a message differently from the server behind it lets one client hide a
// second request inside the first (request smuggling), so anything ambiguous is refused.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::deploy::lb {

// Why the message's length cannot be trusted, or nullopt. RFC 9112 section 6: refused are
// Transfer-Encoding together with Content-Length, any transfer coding list other than exactly
// "chunked" (all Transfer-Encoding lines together, case-insensitive), and Content-Length
// values that are not one and the same number; and in HTTP/1.0 (version 10) any
// Transfer-Encoding, which 1.0 did not have (RFC 9112 section 6.1).
std::optional<std::string> FramingProblem(const boost::beast::http::fields& fields,
                                          unsigned version);

// Why a raw request header block (request line through the blank line) is refused, or
// nullopt: obs-fold (a line starting with space or tab, RFC 9112 section 5.2), which the
// parser would silently unfold.
std::optional<std::string> HeaderBlockProblem(std::string_view block);

// Removes the hop-by-hop headers (RFC 9110 section 7.6.1): those named by Connection,
// Connection itself, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade and every Proxy-*.
// The balancer frames each hop itself.
void StripHopByHop(boost::beast::http::fields& fields);

}  // namespace kiln::deploy::lb
