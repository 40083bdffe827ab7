#include "registry/config_file.h"

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace kiln::registry {
namespace {

// A JSON string is a YAML double-quoted scalar: paths with any character stay one value.
std::string Quoted(const std::string& s) { return base::JsonText(nlohmann::json(s)); }

}  // namespace

std::string ConfigYaml(const Paths& paths, const std::string& listen, const std::string& secret) {
  return "# Written by Kiln at each start; edits are lost.\n"
         "version: 0.1\n"
         "log:\n"
         "  level: warn\n"
         "  accesslog:\n"
         "    disabled: true\n"
         "storage:\n"
         "  filesystem:\n"
         "    rootdirectory: " +
         Quoted(paths.data().string()) +
         "\n"
         "  delete:\n"
         "    enabled: true\n"
         "http:\n"
         "  addr: " +
         Quoted(listen) +
         "\n"
         "  secret: " +
         Quoted(secret) +
         "\n"
         "auth:\n"
         "  htpasswd:\n"
         "    realm: kiln\n"
         "    path: " +
         Quoted(paths.htpasswd().string()) + "\n";
}

base::Status WriteConfig(const Paths& paths, const std::string& listen) {
  if (auto st = MakePrivateDir(paths.dir); !st.ok()) return st;
  if (auto st = MakePrivateDir(paths.data()); !st.ok()) return st;
  auto secret = RandomHex(32);
  if (!secret.ok()) return secret.status();
  return WritePrivateFile(paths.config(), ConfigYaml(paths, listen, *secret));
}

}  // namespace kiln::registry
