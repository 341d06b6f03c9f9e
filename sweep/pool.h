// The task pool under `saturn sweep` and `saturn theory`: tasks are indices, run(i) runs one.
// Locally `jobs` threads take the next pending task; under mpirun rank 0 hands tasks out one at
// a time to whichever rank asks (so a slow task does not stall a rank) and works on a thread of
// its own. Neither knows what a task is: a grid point (sweep/) or a suite's training run (theory/).
#pragma once

#include <functional>
#include <vector>

namespace saturn::sweep {

// run(task) for every task of `pending`, `jobs` at a time, each on a thread whose OpenMP thread
// count is `threads`. done(task) after each (serialised). After a failure no new task starts;
// the first exception is rethrown once the running ones end.
void run_pool_local(const std::vector<int>& pending, int jobs, int threads,
                    const std::function<void(int)>& run, const std::function<void(int)>& done);

// MPI_Init_thread / MPI_Finalize around its lifetime; only the main thread calls MPI. Throws
// InputError when saturn was built without MPI.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  // Collective: whether `flag` is true on any rank.
  bool any(bool flag) const;

 private:
  int rank_ = 0, size_ = 1;
};

// Collective: `pending` (read on rank 0 only) over every rank. run(task) on the rank that got it,
// with `threads` OpenMP threads; done(task, rank) on rank 0 after each. Every rank returns once
// all tasks are done or one failed, and not before every rank is through (so calls in a row
// never mix). A worker rank whose task threw rethrows it; rank 0 throws InputError "rank R:
// what" for any failure. Returns false on a rank that did not throw when some rank failed.
bool run_pool_mpi(const MpiSession& mpi, const std::vector<int>& pending, int threads,
                  const std::function<void(int)>& run,
                  const std::function<void(int task, int rank)>& done);

// This process's rank as its launcher's environment says (0 when not started by mpirun/srun):
// known before MPI_Init and after MPI_Finalize.
int launched_rank();

// Threads per task under mpirun: `requested`, else this node's cores shared among its ranks.
int rank_threads(int requested);

}  // namespace saturn::sweep
