// FLaRe dataset directories: any bytes, split at the first two NULs into main.tok, labels.txt
// and next-symbols.jsonl (absent without a second NUL), read as dyck-2 with labels checked.
#include <sstream>

#include "lang/builtin.h"
#include "lang/flare.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto language = saturn::resolve_language("dyck-2");
  const std::string text = saturn::fuzz::text(data, size);
  const std::size_t a = text.find('\0');
  const std::size_t b = a == std::string::npos ? a : text.find('\0', a + 1);
  std::istringstream tok(text.substr(0, a));
  std::istringstream labels(a == std::string::npos ? "" : text.substr(a + 1, b - a - 1));
  std::istringstream next(b == std::string::npos ? "" : text.substr(b + 1));
  try {
    const auto examples = saturn::read_flare(tok, labels, b == std::string::npos ? nullptr : &next,
                                             "fuzz", language->alphabet(), language.get());
    for (const auto& e : examples)
      saturn::fuzz::require(language->accepts(e.word) == (e.label == 1), "labels were checked");
  } catch (const saturn::InputError&) {
  }
  return 0;
}
