#include "deploy/lb_http_rules.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <vector>

namespace kiln::deploy::lb {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The comma-separated elements of every line of `name`, trimmed; empty elements dropped
// (RFC 9110 section 5.6.1 lets a list have them).
std::vector<std::string> ListElements(const http::fields& fields, http::field name) {
  std::vector<std::string> elements;
  auto [first, last] = fields.equal_range(name);
  for (auto it = first; it != last; ++it) {
    std::string_view value(it->value().data(), it->value().size());
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = std::min(value.find(',', start), value.size());
      std::string_view element = Trim(value.substr(start, end - start));
      if (!element.empty()) elements.emplace_back(element);
      start = end + 1;
    }
  }
  return elements;
}

bool IsDecimal(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<std::string> LengthProblem(const http::fields& fields) {
  const std::vector<std::string> lengths = ListElements(fields, http::field::content_length);
  for (const std::string& length : lengths) {
    if (!IsDecimal(length)) return "invalid Content-Length";
    if (length != lengths.front()) return "conflicting Content-Length values";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> FramingProblem(const http::fields& fields, unsigned version) {
  const bool has_coding = fields.count(http::field::transfer_encoding) > 0;
  const bool has_length = fields.count(http::field::content_length) > 0;
  if (has_coding && has_length) return "both Transfer-Encoding and Content-Length";
  if (has_coding && version < 11) return "Transfer-Encoding in HTTP/1.0";
  if (has_coding) {
    const std::vector<std::string> codings = ListElements(fields, http::field::transfer_encoding);
    if (codings.size() != 1 || !beast::iequals(codings.front(), "chunked")) {
      return "Transfer-Encoding other than chunked";
    }
  }
  return LengthProblem(fields);
}

std::optional<std::string> HeaderBlockProblem(std::string_view block) {
  for (size_t eol = block.find("\r\n"); eol != std::string_view::npos && eol + 2 < block.size();
       eol = block.find("\r\n", eol + 2)) {
    const char next = block[eol + 2];
    if (next == ' ' || next == '\t') return "folded header line (obs-fold)";
  }
  return std::nullopt;
}

void StripHopByHop(http::fields& fields) {
  std::vector<std::string> named = ListElements(fields, http::field::connection);
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const beast::string_view name = it->name_string();
    if (name.size() >= 6 && beast::iequals(name.substr(0, 6), "proxy-")) {
      named.emplace_back(name.data(), name.size());
    }
  }
  for (const std::string& name : named) fields.erase(name);
  for (http::field field :
       {http::field::connection, http::field::keep_alive, http::field::te, http::field::trailer,
        http::field::transfer_encoding, http::field::upgrade}) {
    fields.erase(field);
  }
}

}  // namespace kiln::deploy::lb
