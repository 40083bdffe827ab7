// The sections of kiln.yml, each read from its top-level node. Problems go to the reader;
// names used across sections (secrets, clusters, connections) are left as the reader's pending
// references, checked once the whole file is read. Internal to src/spec.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "spec/kiln_config.h"
#include "spec/kiln_config_reader.h"

namespace kiln::spec::kiln_yml {

std::vector<Connection> ParseConnections(ConfigReader& reader, const YAML::Node& node);
std::vector<Project> ParseProjects(ConfigReader& reader, const YAML::Node& node);
std::vector<Cluster> ParseClusters(ConfigReader& reader, const YAML::Node& node);
std::vector<Service> ParseServices(ConfigReader& reader, const YAML::Node& node);
std::vector<Schedule> ParseSchedules(ConfigReader& reader, const YAML::Node& node);
std::vector<PipelineRef> ParsePipelines(ConfigReader& reader, const YAML::Node& node);

// `parameters` or `secrets` (section names which): name -> {file:}/{env:}/${...}.
std::map<std::string, ValueRef> ParseValueSources(ConfigReader& reader, const YAML::Node& node,
                                                  const std::string& section);

// `server`; its tokens are appended to `server.tokens`.
void ParseServer(ConfigReader& reader, const YAML::Node& node, ServerSettings& server);
// projects.NAME.environment's CodeBuild fields (kiln_config_environment.cc).
void ParseBuildEnvironment(ConfigReader& reader, const std::vector<YamlEntry>& fields,
                           const std::string& what, BuildEnvironment& env);
// registry (kiln_config_environment.cc).
void ParseRegistry(ConfigReader& reader, const YAML::Node& node, Registry& registry);
// server.hosts and server.limits (kiln_config_server.cc).
void ParseServerHosts(ConfigReader& reader, const YAML::Node& node,
                      std::vector<std::string>& hosts);
void ParseServerLimits(ConfigReader& reader, const YAML::Node& node, ServerLimits& limits);
// A list of tokens (server.tokens, or `tokens` at the top level), appended to `tokens`.
void ParseTokens(ConfigReader& reader, const YAML::Node& node, const std::string& what,
                 std::vector<TokenSpec>& tokens);

}  // namespace kiln::spec::kiln_yml
