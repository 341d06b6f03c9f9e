// Spec files (TOML): any text; a language that loads answers membership and counts short
// lengths, and its counts agree with brute force over the words.
#include "lang/count.h"
#include "lang/spec.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto language = saturn::load_spec(saturn::fuzz::text(data, size), "fuzz.toml");
    const int k = language->alphabet().size();
    saturn::CountTable table(language, 20000);
    for (int n = 0; n <= 4 && k <= 4; ++n) {
      // Every word of length n, against the count table.
      long accepted = 0, total = 1;
      for (int i = 0; i < n; ++i) total *= k;
      saturn::Word w(n);
      for (long i = 0; i < total; ++i) {
        long x = i;
        for (int t = n - 1; t >= 0; --t) w[t] = static_cast<saturn::Symbol>(x % k), x /= k;
        accepted += language->accepts(w);
      }
      saturn::fuzz::require(table.accepted(n) == accepted, "counts equal brute force");
    }
  } catch (const saturn::InputError&) {
  }
  return 0;
}
