// Built without MPI (SATURN_MPI=OFF): the sweep runs on one machine only.
#include <cstdlib>

#include "base/error.h"
#include "sweep/mpi.h"
#include "sweep/pool.h"

namespace saturn::sweep {

namespace {
[[noreturn]] void no_mpi() {
  throw InputError(
      "this saturn was built without MPI (SATURN_MPI=OFF): rebuild with -DSATURN_MPI=ON to run "
      "under mpirun");
}
}  // namespace

MpiSession::MpiSession() {
  no_mpi();
}
MpiSession::~MpiSession() = default;
bool MpiSession::any(bool flag) const {
  return flag;
}

bool run_pool_mpi(const MpiSession&, const std::vector<int>&, int, const std::function<void(int)>&,
                  const std::function<void(int, int)>&) {
  no_mpi();
}

bool launched_by_mpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK");
}

bool mpi_available() {
  return false;
}

std::optional<std::string> run_mpi(const Grid&, const SweepOptions&) {
  no_mpi();
}

}  // namespace saturn::sweep
