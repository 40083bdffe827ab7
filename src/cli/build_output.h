// Human output for builds: the phase table, like the CodeBuild console's "Phase details".
#pragma once

#include <string>

#include "codebuild/build_record.h"

namespace kiln::cli {

// The phase table and a closing summary line; colour codes only when color is true.
std::string PhaseTable(const codebuild::BuildRecord& r, bool color);

}  // namespace kiln::cli
