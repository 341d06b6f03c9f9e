// Built without MPI (SATURN_MPI=OFF): the sweep runs on one machine only.
#include <cstdlib>

#include "base/error.h"
#include "sweep/mpi.h"

namespace saturn::sweep {

bool launched_by_mpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK");
}

bool mpi_available() {
  return false;
}

std::optional<std::string> run_mpi(const Grid&, const SweepOptions&) {
  throw InputError(
      "this saturn was built without MPI (SATURN_MPI=OFF): rebuild with -DSATURN_MPI=ON to run "
      "a sweep under mpirun");
}

}  // namespace saturn::sweep
