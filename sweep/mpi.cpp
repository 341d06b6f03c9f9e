#include "sweep/mpi.h"

#include <fmt/format.h>
#include <mpi.h>
#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "base/error.h"
#include "base/interrupt.h"
#include "nets/run_dir.h"
#include "sweep/pool.h"

namespace saturn::sweep {

namespace {

constexpr int kTagRequest = 1;  // worker -> 0: {finished task or -1, 0 ok / 1 failed}
constexpr int kTagAssign = 2;   // 0 -> worker: task index, or -1 to stop
constexpr int kTagError = 3;    // worker -> 0: the failure's message, before its request

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown error";
  }
}

void worker(int threads, const std::function<void(int)>& run, std::exception_ptr& error) {
  omp_set_num_threads(threads);
  int msg[2] = {-1, 0};
  for (;;) {
    MPI_Send(msg, 2, MPI_INT, 0, kTagRequest, MPI_COMM_WORLD);
    int next = -1;
    MPI_Recv(&next, 1, MPI_INT, 0, kTagAssign, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (next < 0) break;
    try {
      run(next);
      msg[0] = next;
    } catch (...) {
      error = std::current_exception();
      const std::string text = what_of(error);
      MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, kTagError, MPI_COMM_WORLD);
      msg[0] = next;
      msg[1] = 1;
    }
  }
}

// Rank 0: hands out `pending`, runs its own share on a thread that never calls MPI. Returns the
// first failure's text ("rank R: what"), empty when none.
std::string coordinate(const MpiSession& mpi, const std::vector<int>& pending, int threads,
                       const std::function<void(int)>& run,
                       const std::function<void(int, int)>& done) {
  std::mutex mutex;
  std::size_t next = 0;
  bool failed = false;
  std::string failure;
  // Under the mutex: the next task to hand out, or -1.
  auto take = [&]() -> int {
    if (failed || interrupted() || next >= pending.size()) return -1;
    return pending[next++];
  };
  std::thread local([&] {
    omp_set_num_threads(threads);
    for (;;) {
      int task;
      {
        std::lock_guard lock(mutex);
        task = take();
      }
      if (task < 0) return;
      try {
        run(task);
        std::lock_guard lock(mutex);
        done(task, 0);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failed) failure = fmt::format("rank 0: {}", what_of(std::current_exception()));
        failed = true;
        return;
      }
    }
  });
  int stopped = 0;
  while (stopped < mpi.size() - 1) {
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, kTagRequest, MPI_COMM_WORLD, &flag, &status);
    if (!flag) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    const int source = status.MPI_SOURCE;
    int msg[2];
    MPI_Recv(msg, 2, MPI_INT, source, kTagRequest, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    int task;
    {
      std::lock_guard lock(mutex);
      if (msg[1] != 0) {
        MPI_Status s;
        MPI_Probe(source, kTagError, MPI_COMM_WORLD, &s);
        int n = 0;
        MPI_Get_count(&s, MPI_CHAR, &n);
        std::string text(static_cast<std::size_t>(n), '\0');
        MPI_Recv(text.data(), n, MPI_CHAR, source, kTagError, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (!failed) failure = fmt::format("rank {}: {}", source, text);
        failed = true;
      } else if (msg[0] >= 0) {
        done(msg[0], source);
      }
      task = take();
    }
    MPI_Send(&task, 1, MPI_INT, source, kTagAssign, MPI_COMM_WORLD);
    if (task < 0) ++stopped;
  }
  local.join();
  return failure;
}

}  // namespace

MpiSession::MpiSession() {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() {
  MPI_Finalize();
}

bool MpiSession::any(bool flag) const {
  int mine = flag ? 1 : 0, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return all != 0;
}

bool run_pool_mpi(const MpiSession& mpi, const std::vector<int>& pending, int threads,
                  const std::function<void(int)>& run,
                  const std::function<void(int task, int rank)>& done) {
  std::exception_ptr error;
  std::string failure;
  if (mpi.rank() == 0)
    failure = coordinate(mpi, pending, threads, run, done);
  else
    worker(threads, run, error);
  // Every rank through before any returns: the next call's requests never meet this one's.
  const bool failed = mpi.any(error || !failure.empty());
  if (error) std::rethrow_exception(error);
  if (!failure.empty()) throw InputError(failure);
  return !failed;
}

bool launched_by_mpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK");
}

bool mpi_available() {
  return true;
}

std::optional<std::string> run_mpi(const Grid& grid, const SweepOptions& o) {
  if (o.jobs > 1)
    throw InputError("--jobs: under mpirun every rank runs one task at a time; use more ranks");
  MpiSession mpi;
  const int threads = rank_threads(o.threads);
  // Rank 0 prepares DIR; the others wait to hear whether it could.
  int ok = 1;
  std::string error;
  if (mpi.rank() == 0) {
    try {
      prepare_out(grid, o);
    } catch (const InputError& e) {
      ok = 0;
      error = e.what();
    }
  }
  // Rank 0 holds DIR's lock for the whole sweep: one sweep at a time in DIR.
  std::optional<nets::RunDirectory> lock;
  if (mpi.rank() == 0 && ok) {
    try {
      lock.emplace(o.out, nets::RunDirectory::Mode::resume);
    } catch (const InputError& e) {
      ok = 0;
      error = e.what();
    }
  }
  if (mpi.any(!ok)) {
    if (mpi.rank() == 0) throw InputError(error);
    return std::nullopt;
  }
  const auto tasks = grid.tasks();
  std::vector<int> pending;
  std::size_t done = 0;
  const auto t0 = std::chrono::steady_clock::now();
  if (mpi.rank() == 0) {
    pending = pending_tasks(grid, o.out);
    done = tasks.size() - pending.size();
    if (!o.quiet)
      fmt::print(stderr, "[sweep] {} tasks, {} done; {} ranks, {} thread{} per task\n",
                 tasks.size(), done, mpi.size(), threads, threads == 1 ? "" : "s");
  }
  const bool all_ran = run_pool_mpi(
      mpi, pending, threads, [&](int task) { run_task(grid, tasks[task], o.out, threads); },
      [&](int task, int rank) {
        ++done;
        if (o.quiet) return;
        const Task& t = tasks[task];
        fmt::print(stderr, "[sweep] {}/{} done  ({} {} seed {} on rank {}, {:.0f} s)\n", done,
                   tasks.size(), grid.languages[t.language].name, grid.configs[t.config].id, t.seed,
                   rank,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      });
  if (mpi.rank() != 0 || !all_ran) return std::nullopt;
  check_interrupt();
  return gather(grid, o.out);
}

}  // namespace saturn::sweep
