#include "cli/threads_option.h"

#include <omp.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "base/threads.h"

namespace {

// OpenMP threads that wait for work (at the end of every parallel loop) spin by default: on a
// machine whose cores are busy, a spinning thread takes the core its partner needs, and a
// training run was measured 10-40x slower than on one thread. A short spin, then sleep: the
// default here is GOMP_SPINCOUNT=1000 (libgomp then reports PASSIVE). Measured on 2 cores,
// the demo's recipe (bench/contention.sh, medians): idle, 0 spins cost 9% against the old
// spinning default and 1,000 spins nothing; with one core busy, 1,000 spins are 1.3x the
// one-thread time, 3,000 spins 1.6x, 30,000 2.5x. libgomp reads its variables once, in its own
// constructor, before main() runs: a setenv in main() is too late, and even one in
// .preinit_array (which runs before every library's constructor) is not seen by its spin count
// (OMP_DISPLAY_ENV=verbose). So, unless the user chose a policy (OMP_WAIT_POLICY or
// GOMP_SPINCOUNT), the process starts itself again, before any library's constructor, with
// GOMP_SPINCOUNT=1000 added to its environment (a few milliseconds). If that exec fails (no
// /proc), it runs on as it is.
void passive_wait_by_default(int, char** argv, char** envp) {
  std::size_t n = 0;
  for (; envp[n]; ++n)
    if (!std::strncmp(envp[n], "OMP_WAIT_POLICY=", 16) ||
        !std::strncmp(envp[n], "GOMP_SPINCOUNT=", 15))
      return;
  // Not under valgrind (its preload would be left behind by the exec).
  for (std::size_t i = 0; i < n; ++i)
    if (!std::strncmp(envp[i], "LD_PRELOAD=", 11) && std::strstr(envp[i], "vgpreload")) return;
  // The binary's real path, so that the process keeps its name (ps, pgrep, killall read the
  // name of the file executed: /proc/self/exe would rename it 'exe'). Started through the
  // dynamic loader (ld-linux ... saturn), the path is the loader's: run on as it is.
  static char path[4096];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return;
  path[length] = '\0';
  const char* name = std::strrchr(path, '/');
  if (!std::strncmp(name ? name + 1 : path, "ld-", 3)) return;
  // malloc, not new: this runs before the C++ runtime's own initialisation.
  auto** env = static_cast<char**>(std::malloc((n + 2) * sizeof(char*)));
  if (!env) return;
  std::memcpy(env, envp, n * sizeof(char*));
  env[n] = const_cast<char*>("GOMP_SPINCOUNT=1000");
  env[n + 1] = nullptr;
  ::execve(path, argv, env);
  std::free(env);
}

__attribute__((section(".preinit_array"),
               used)) void (*passive_wait_hook)(int, char**, char**) = passive_wait_by_default;

}  // namespace

namespace saturn::cli {

void add_threads_option(CLI::App* cmd) {
  // The environment's default first, when the command starts parsing; the flag overrides it.
  cmd->preparse_callback([](std::size_t) {
    const char* env = std::getenv("SATURN_THREADS");
    if (env && *env) omp_set_num_threads(parse_thread_count(env, "SATURN_THREADS"));
  });
  cmd->add_option_function<std::string>(
         "--threads",
         [](const std::string& text) {
           omp_set_num_threads(parse_thread_count(text, "--threads"));
         },
         "Threads this command uses (default: SATURN_THREADS, else OMP_NUM_THREADS, else every "
         "core)")
      ->type_name("T");
}

}  // namespace saturn::cli
