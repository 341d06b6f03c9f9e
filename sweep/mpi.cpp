#include "sweep/mpi.h"

#include <fmt/format.h>
#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "base/error.h"
#include "base/interrupt.h"
#include "nets/run_dir.h"

namespace saturn::sweep {

namespace {

constexpr int kTagRequest = 1;  // worker -> 0: {finished task or -1, 0 ok / 1 failed}
constexpr int kTagAssign = 2;   // 0 -> worker: task index, or -1 to stop
constexpr int kTagError = 3;    // worker -> 0: the failure's message, before its request
constexpr int kTagStatus = 4;   // 0 -> all: whether DIR could be prepared

// MPI_Init_thread / MPI_Finalize around the sweep; only the main thread calls MPI.
class Session {
 public:
  Session() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  ~Session() { MPI_Finalize(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  int rank = 0, size = 1;
};

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown error";
  }
}

// Threads per task: the cores of this node shared among the ranks on it.
int rank_threads(int requested) {
  if (requested > 0) return requested;
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  return threads_per_task(local ? std::max(1, std::atoi(local)) : 1, 0);
}

void worker(const Grid& grid, const SweepOptions& o, int threads) {
  const auto tasks = grid.tasks();
  int msg[2] = {-1, 0};
  std::exception_ptr error;
  for (;;) {
    MPI_Send(msg, 2, MPI_INT, 0, kTagRequest, MPI_COMM_WORLD);
    int next = -1;
    MPI_Recv(&next, 1, MPI_INT, 0, kTagAssign, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (next < 0) break;
    try {
      run_task(grid, tasks[next], o.out, threads);
      msg[0] = next;
    } catch (...) {
      error = std::current_exception();
      const std::string text = what_of(error);
      MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, kTagError, MPI_COMM_WORLD);
      msg[0] = next;
      msg[1] = 1;
    }
  }
  if (error) std::rethrow_exception(error);
}

std::string coordinate(const Session& mpi, const Grid& grid, const SweepOptions& o, int threads) {
  const auto tasks = grid.tasks();
  const auto pending = pending_tasks(grid, o.out);
  std::mutex mutex;
  std::size_t next = 0, done = tasks.size() - pending.size();
  bool failed = false;
  std::string failure;
  const auto t0 = std::chrono::steady_clock::now();
  if (!o.quiet)
    fmt::print(stderr, "[sweep] {} tasks, {} done; {} ranks, {} thread{} per task\n", tasks.size(),
               done, mpi.size, threads, threads == 1 ? "" : "s");
  // Under the mutex: the next task to hand out, or -1.
  auto take = [&]() -> int {
    if (failed || interrupted() || next >= pending.size()) return -1;
    return pending[next++];
  };
  auto finished = [&](int task, int rank) {
    ++done;
    if (o.quiet) return;
    const Task& t = tasks[task];
    fmt::print(stderr, "[sweep] {}/{} done  ({} {} seed {} on rank {}, {:.0f} s)\n", done,
               tasks.size(), grid.languages[t.language].name, grid.configs[t.config].id, t.seed,
               rank, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  // Rank 0's own share, on a thread that never calls MPI.
  std::thread local([&] {
    for (;;) {
      int task;
      {
        std::lock_guard lock(mutex);
        task = take();
      }
      if (task < 0) return;
      try {
        run_task(grid, tasks[task], o.out, threads);
        std::lock_guard lock(mutex);
        finished(task, 0);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failed) failure = fmt::format("rank 0: {}", what_of(std::current_exception()));
        failed = true;
        return;
      }
    }
  });
  int stopped = 0;
  while (stopped < mpi.size - 1) {
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
        finished(msg[0], source);
      }
      task = take();
    }
    MPI_Send(&task, 1, MPI_INT, source, kTagAssign, MPI_COMM_WORLD);
    if (task < 0) ++stopped;
  }
  local.join();
  if (failed) throw InputError(failure);
  check_interrupt();
  return gather(grid, o.out);
}

}  // namespace

bool launched_by_mpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK");
}

bool mpi_available() {
  return true;
}

std::optional<std::string> run_mpi(const Grid& grid, const SweepOptions& o) {
  if (o.jobs > 1)
    throw InputError("--jobs: under mpirun every rank runs one task at a time; use more ranks");
  Session mpi;
  const int threads = rank_threads(o.threads);
  // Rank 0 prepares DIR; the others wait to hear whether it could.
  int ok = 1;
  std::string error;
  if (mpi.rank == 0) {
    try {
      prepare_out(grid, o);
    } catch (const InputError& e) {
      ok = 0;
      error = e.what();
    }
  }
  // Rank 0 holds DIR's lock for the whole sweep: one sweep at a time in DIR.
  std::optional<nets::RunDirectory> lock;
  if (mpi.rank == 0 && ok) {
    try {
      lock.emplace(o.out, nets::RunDirectory::Mode::resume);
    } catch (const InputError& e) {
      ok = 0;
      error = e.what();
    }
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  (void)kTagStatus;
  if (!ok) {
    if (mpi.rank == 0) throw InputError(error);
    return std::nullopt;
  }
  if (mpi.rank != 0) {
    worker(grid, o, threads);
    return std::nullopt;
  }
  return coordinate(mpi, grid, o, threads);
}

}  // namespace saturn::sweep
