// The seed's story with containers on the single-node swarm (label `swarm`): the build runs in
// a container on the swarm's engine, the service is a Swarm service rolled by Swarm's update,
// Kiln's load balancer in front; see cruddur_service_fixture.h.
#include "../cruddur_service_fixture.h"

namespace kiln::e2e {
namespace {

class CruddurSwarmTest : public CruddurServiceFixture {
 protected:
  CruddurSwarmTest() : CruddurServiceFixture(KILN_SWARM_ENGINE_DIR, "swarm") {}
};

TEST_F(CruddurSwarmTest, PushesRollSwarmTasksWithoutAFailedRequest) { RunTheStory(); }

}  // namespace
}  // namespace kiln::e2e
