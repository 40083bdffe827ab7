#include "deploy/revision.h"

namespace kiln::deploy {
namespace {

using Json = nlohmann::json;

base::Result<std::vector<ImageOverride>> FromDefinitions(const Json& array) {
  std::vector<ImageOverride> out;
  for (const Json& item : array) {
    if (!item.is_object() || !item.value("name", Json()).is_string() ||
        !item.value("imageUri", Json()).is_string()) {
      return base::InvalidInput(
          "imagedefinitions.json: each entry needs string 'name' and "
          "'imageUri'");
    }
    out.push_back({item["name"].get<std::string>(), item["imageUri"].get<std::string>()});
  }
  if (out.empty()) return base::InvalidInput("imagedefinitions.json: no image definitions");
  return out;
}

Json* FindContainer(Json& containers, const std::string& name) {
  for (Json& c : containers) {
    if (c.value("name", "") == name) return &c;
  }
  return nullptr;
}

void CarryImages(Json& containers, const Json* previous) {
  if (!previous) return;
  const Json& old = previous->value("containerDefinitions", Json::array());
  for (Json& c : containers) {
    for (const Json& o : old) {
      if (o.value("name", "") != c.value("name", "")) continue;
      if (o.contains("image")) c["image"] = o["image"];
      if (o.contains("imageDigest")) c["imageDigest"] = o["imageDigest"];
    }
  }
}

}  // namespace

base::Result<std::vector<ImageOverride>> ParseImageFile(std::string_view text) {
  Json json = Json::parse(text, nullptr, false);
  if (json.is_array()) return FromDefinitions(json);
  if (json.is_object() && json.value("ImageURI", Json()).is_string()) {
    return std::vector<ImageOverride>{{"", json["ImageURI"].get<std::string>()}};
  }
  return base::InvalidInput(
      "the image file is neither imagedefinitions.json ([{\"name\", \"imageUri\"}]) nor "
      "imageDetail.json ({\"ImageURI\"})");
}

base::Result<Json> NextTaskDefinition(const Json& configured, const Json* previous,
                                      const std::vector<ImageOverride>& overrides) {
  Json next = configured;
  Json& containers = next["containerDefinitions"];
  if (!containers.is_array() || containers.empty()) {
    return base::InvalidInput("the task definition has no container");
  }
  CarryImages(containers, previous);
  std::string unknown;
  for (const ImageOverride& o : overrides) {
    Json* c = o.container.empty() ? &containers.front() : FindContainer(containers, o.container);
    if (!c) {
      unknown += (unknown.empty() ? "'" : ", '") + o.container + "'";
      continue;
    }
    (*c)["image"] = o.image_uri;
    c->erase("imageDigest");
  }
  if (!unknown.empty()) {
    std::string names;
    for (const Json& c : containers) names += (names.empty() ? "" : ", ") + c.value("name", "");
    return base::InvalidInput(
        "the image file names containers that the task definition does "
        "not have: " +
        unknown + " (it has: " + names + ")");
  }
  return next;
}

std::vector<size_t> UnresolvedContainers(const Json& task_definition) {
  std::vector<size_t> out;
  const Json& containers = task_definition.value("containerDefinitions", Json::array());
  for (size_t i = 0; i < containers.size(); ++i) {
    if (!containers[i].value("imageDigest", Json()).is_string()) out.push_back(i);
  }
  return out;
}

}  // namespace kiln::deploy
