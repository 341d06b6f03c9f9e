// Point files for `saturn keys --points` (JSON, numbers read exactly): any text; small sets
// that load are decided twice, by the double fast paths and by Z3 alone, which must agree.
#include "tests/fuzz/fuzz_support.h"
#include "verify/selectable.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto points = saturn::verify::read_points(saturn::fuzz::text(data, size), "fuzz");
    if (points.size() <= 12 && points.d <= 4) {
      const auto fast = saturn::verify::selectability(points, 1);
      const auto z3 = saturn::verify::selectability(points, 1, nullptr, /*fast=*/false);
      saturn::fuzz::require(fast == z3, "the fast paths agree with Z3 alone");
    }
  } catch (const saturn::InputError&) {
  }
  return 0;
}
