// Revisions (DESIGN.md vocabulary): immutable task definitions with concrete images. A
// deployment makes the next revision from kiln.yml's task definition, the previous revision's
// images, and the deploy input's image file (imagedefinitions.json or imageDetail.json).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kiln::deploy {

struct ImageOverride {
  std::string container;  // empty: the only (or first) container (imageDetail.json)
  std::string image_uri;
};

// Parses imagedefinitions.json ([{name, imageUri}], CodePipeline ECS action) or
// imageDetail.json ({ImageURI}). kInvalidInput names what is wrong; an empty array too.
base::Result<std::vector<ImageOverride>> ParseImageFile(std::string_view text);

// The next task definition: a copy of `configured` (kiln.yml's taskDefinition), each
// container taking image and imageDigest from the same-named container of `previous` (may be
// null), then the overrides applied (image set, imageDigest cleared until the bundle is
// imported). kInvalidInput naming every override whose container does not exist.
base::Result<nlohmann::json> NextTaskDefinition(const nlohmann::json& configured,
                                                const nlohmann::json* previous,
                                                const std::vector<ImageOverride>& overrides);

// Containers of a task definition whose image has no imageDigest yet, by index.
std::vector<size_t> UnresolvedContainers(const nlohmann::json& task_definition);

}  // namespace kiln::deploy
