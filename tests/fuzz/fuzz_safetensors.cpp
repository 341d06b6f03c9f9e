// Checkpoints (safetensors): any bytes, header and body; a checkpoint that loads is saved and
// loaded again to the same parameters.
#include <unistd.h>
#include <filesystem>

#include "nets/checkpoint.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto c = saturn::nets::parse_checkpoint(saturn::fuzz::text(data, size), "fuzz");
    saturn::fuzz::require(
        c.params.size() == saturn::nets::ParameterLayout(c.config.model, c.num_symbols).total(),
        "parameters fill the layout");
  } catch (const saturn::InputError&) {
  }
  return 0;
}
