// FLaRe dataset directories: any bytes, split at the first two NULs into main.tok, labels.txt
// and next-symbols.jsonl (absent without a second NUL), read as dyck-2 with labels and next
// symbols checked. Once per run, also a directory whose main.tok or labels.txt is a directory
// (issue 23: an exit 1 with the library's text, 8 of 600 fuzzed imports): refused as InputError.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lang/builtin.h"
#include "lang/flare.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

namespace {

bool directories_refused(const saturn::Language& language) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("saturn-fuzz-flare-" + std::to_string(::getpid()));
  bool refused = true;
  for (const char* as_directory : {"main.tok", "labels.txt", "next-symbols.jsonl"}) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const char* name : {"main.tok", "labels.txt", "next-symbols.jsonl"}) {
      if (std::string(name) == as_directory)
        fs::create_directories(dir / name);
      else
        std::ofstream(dir / name) << (std::string(name) == "main.tok" ? "( )\n" : "1\n");
    }
    try {
      saturn::read_flare(dir, language.alphabet(), &language);
      refused = false;
    } catch (const saturn::InputError&) {
    }
  }
  fs::remove_all(dir);
  return refused;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto language = saturn::resolve_language("dyck-2");
  static const bool directories_checked = directories_refused(*language);
  saturn::fuzz::require(directories_checked, "a directory in place of a file is refused");
  const std::string text = saturn::fuzz::text(data, size);
  const std::size_t a = text.find('\0');
  const std::size_t b = a == std::string::npos ? a : text.find('\0', a + 1);
  std::istringstream tok(text.substr(0, a));
  std::istringstream labels(a == std::string::npos ? "" : text.substr(a + 1, b - a - 1));
  std::istringstream next(b == std::string::npos ? "" : text.substr(b + 1));
  try {
    // Continuations searched up to 64 symbols: the count tables stay small.
    saturn::NextSymbolsCheck check{64};
    const auto examples = saturn::read_flare(tok, labels, b == std::string::npos ? nullptr : &next,
                                             "fuzz", language->alphabet(), language.get(), &check);
    for (const auto& e : examples)
      saturn::fuzz::require(language->accepts(e.word) == (e.label == 1), "labels were checked");
  } catch (const saturn::InputError&) {
  }
  return 0;
}
