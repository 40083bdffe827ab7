// libFuzzer target for the spec parsers: buildspec, pipeline (JSON/YAML), kiln.yml and
// CloudFormation import. The first byte picks the parser; none may crash, hang or throw.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/buildspec.h"
#include "spec/cloudformation.h"
#include "spec/kiln_config.h"
#include "spec/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      (void)kiln::spec::ParseBuildspec(text, "fuzz.yml");
      break;
    case 1: {
      auto p = kiln::spec::ParsePipeline(text, "fuzz.json");
      if (p.pipeline) (void)kiln::spec::ValidatePipeline(*p.pipeline, "fuzz.json");
      break;
    }
    case 2:
      (void)kiln::spec::ParseKilnConfig(text, "kiln.yml");
      break;
    case 3:
      (void)kiln::spec::ImportCloudFormation(text, "template.yaml", {});
      break;
  }
  return 0;
}
