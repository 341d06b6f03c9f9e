// [sweep]: the task pool shared by `saturn sweep` and `saturn theory` (sweep/pool.h).
#include <catch2/catch.hpp>

#include <omp.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>

#include "sweep/pool.h"

using namespace saturn;

TEST_CASE("run_pool_local runs every pending task once, with the threads asked for", "[sweep]") {
  const std::vector<int> pending = {4, 0, 9, 2, 7};
  std::mutex mutex;
  std::multiset<int> ran, done;
  std::atomic<bool> wrong_threads{false};
  sweep::run_pool_local(
      pending, 3, 2,
      [&](int t) {
        if (omp_get_max_threads() != 2) wrong_threads = true;
        std::lock_guard lock(mutex);
        ran.insert(t);
      },
      [&](int t) { done.insert(t); });
  CHECK(ran == std::multiset<int>(pending.begin(), pending.end()));
  CHECK(done == ran);
  CHECK_FALSE(wrong_threads);
}

TEST_CASE("run_pool_local stops after a failure and rethrows it", "[sweep]") {
  std::vector<int> pending(100);
  for (int i = 0; i < 100; ++i) pending[i] = i;
  std::atomic<int> ran{0};
  int done = 0;
  CHECK_THROWS_WITH(sweep::run_pool_local(
                        pending, 1, 1,
                        [&](int t) {
                          ++ran;
                          if (t == 3) throw std::runtime_error("task 3 failed");
                        },
                        [&](int) { ++done; }),
                    "task 3 failed");
  CHECK(ran == 4);  // one job: tasks 0..3, then nothing new
  CHECK(done == 3);
}
