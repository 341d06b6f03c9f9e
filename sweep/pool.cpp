#include "sweep/pool.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>

#include "sweep/sweep.h"

namespace saturn::sweep {

void run_pool_local(const std::vector<int>& pending, int jobs, int threads,
                    const std::function<void(int)>& run, const std::function<void(int)>& done) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  auto worker = [&] {
    omp_set_num_threads(threads);
    while (!failed) {
      const std::size_t i = next++;
      if (i >= pending.size()) return;
      try {
        run(pending[i]);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
      std::lock_guard lock(mutex);
      done(pending[i]);
    }
  };
  std::vector<std::thread> workers;
  for (int j = 0; j < std::max(1, jobs); ++j) workers.emplace_back(worker);
  for (auto& w : workers) w.join();
  if (error) std::rethrow_exception(error);
}

int launched_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}

int rank_threads(int requested) {
  if (requested > 0) return requested;
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  return threads_per_task(local ? std::max(1, std::atoi(local)) : 1, 0);
}

}  // namespace saturn::sweep
