// Training configurations (flat TOML): any text; a configuration that loads is written back
// and read again to the same keys and values.
#include "nets/run_config.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    saturn::nets::RunConfig config;
    config.load_text(saturn::fuzz::text(data, size), "fuzz.toml");
    saturn::nets::RunConfig again;
    again.load_text(config.to_toml(), "round-trip.toml");
    saturn::fuzz::require(again.to_map() == config.to_map(), "to_toml round-trips");
  } catch (const saturn::InputError&) {
  }
  return 0;
}
