#include "pipeline/variables.h"

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace kiln::pipeline {
namespace {

std::string Quote(const std::string& value, Quoting quoting) {
  if (quoting == Quoting::kNone) return value;
  std::string quoted = base::JsonText(nlohmann::json(value));
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

base::Result<std::string> ResolveVariables(const std::string& text, const Namespaces& ns,
                                           Quoting quoting) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t open = text.find("#{", pos);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    std::string ref = text.substr(open + 2, close - open - 2);
    size_t dot = ref.find('.');
    if (dot == std::string::npos)
      return base::InvalidInput("invalid variable reference #{" + ref + "}");
    auto n = ns.find(ref.substr(0, dot));
    if (n == ns.end()) {
      return base::InvalidInput("variable #{" + ref + "}: no namespace '" + ref.substr(0, dot) +
                                "' has been produced");
    }
    auto v = n->second.find(ref.substr(dot + 1));
    if (v == n->second.end()) {
      return base::InvalidInput("variable #{" + ref + "}: namespace '" + n->first +
                                "' has no key '" + ref.substr(dot + 1) + "'");
    }
    out.append(text, pos, open - pos);
    out += Quote(v->second, quoting);
    pos = close + 1;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

}  // namespace kiln::pipeline
