#include "codebuild/engine.h"

#include "codebuild/build_run.h"

namespace kiln::codebuild {

BuildRecord RunBuild(const BuildRequest& request) { return BuildRun(request).Run(); }

}  // namespace kiln::codebuild
