// The seed's story with containers on the private Docker engine (label `engine`): see
// cruddur_service_fixture.h.
#include "../cruddur_service_fixture.h"

namespace kiln::e2e {
namespace {

class CruddurServiceTest : public CruddurServiceFixture {
 protected:
  CruddurServiceTest() : CruddurServiceFixture(KILN_TEST_ENGINE_DIR, "docker") {}
};

TEST_F(CruddurServiceTest, PushesRollContainerTasksWithoutAFailedRequest) { RunTheStory(); }

}  // namespace
}  // namespace kiln::e2e
