#include "server/router.h"

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace kiln::server {
namespace {

bool Decode(std::string_view in, std::string* out, bool plus_is_space) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_is_space) {
      *out += ' ';
    } else if (c != '%') {
      *out += c;
    } else {
      if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        return false;
      }
      *out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
  }
  return true;
}

}  // namespace

bool Target::Is(std::initializer_list<std::string_view> pattern) const {
  if (pattern.size() != segments.size()) return false;
  size_t i = 0;
  for (std::string_view p : pattern) {
    if (p != "*" && p != segments[i]) return false;
    ++i;
  }
  return true;
}

std::string Target::Query(const std::string& key, const std::string& fallback) const {
  auto it = query.find(key);
  return it == query.end() ? fallback : it->second;
}

bool ParseTarget(std::string_view target, Target* out) {
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (!path.starts_with('/')) return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) {
      std::string seg;
      if (!Decode(path.substr(start, end - start), &seg, false)) return false;
      out->segments.push_back(std::move(seg));
    }
    start = end + 1;
  }
  if (q == std::string_view::npos) return true;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    std::string k, v;
    if (!Decode(pair.substr(0, eq), &k, true)) return false;
    if (eq != std::string_view::npos && !Decode(pair.substr(eq + 1), &v, true)) return false;
    out->query[k] = v;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return true;
}

Response JsonResponse(unsigned status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = base::JsonText(body);
  return r;
}

}  // namespace kiln::server
