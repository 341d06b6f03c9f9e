// Sweep grids (GRID.toml): any bytes, read as a grid file in a directory that does not exist.
// A grid that loads must give languages x configurations x seeds tasks, each with a
// configuration that builds.
#include "base/error.h"
#include "sweep/grid.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = saturn::fuzz::text(data, size);
  try {
    const auto grid = saturn::sweep::load_grid_text(text, "/nonexistent-saturn-fuzz/grid.toml");
    const auto tasks = grid.tasks();
    saturn::fuzz::require(
        tasks.size() == grid.languages.size() * grid.configs.size() * grid.seeds.size(),
        "one task per language, configuration and seed");
    for (std::size_t i = 0; i < tasks.size() && i < 64; ++i) {
      const auto c = grid.config(tasks[i]);
      saturn::fuzz::require(c.model.seed == tasks[i].seed, "the task's seed");
    }
  } catch (const saturn::InputError&) {
  }
  return 0;
}
