// `mpirun -n K saturn sweep GRID --out DIR`: rank 0 prepares DIR, hands the pending tasks out one
// at a time to whichever rank asks (so a slow task does not stall a rank; rank 0 works too, on a
// thread of its own), and gathers the results once every rank is done. Every rank writes its
// own run directories: DIR must be on a filesystem all ranks share.
#pragma once

#include <optional>
#include <string>

#include "sweep/sweep.h"

namespace saturn::sweep {

// True when this process was started by an MPI launcher (mpirun, srun): its environment says so.
bool launched_by_mpi();
// Whether this binary was built with MPI (SATURN_MPI).
bool mpi_available();

// The sweep over all ranks. Returns the summary on rank 0 and nullopt on the others. Throws what
// a task threw (on the rank that ran it; rank 0 reports it too) or InputError for DIR.
std::optional<std::string> run_mpi(const Grid& grid, const SweepOptions& options);

}  // namespace saturn::sweep
