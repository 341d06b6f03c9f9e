// Datasets (JSON Lines, as written by saturn lang sample): any text; examples read back from
// to_json_line are the same examples.
#include <sstream>

#include "lang/dataset.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const saturn::Alphabet alphabet({"a", "b"});
  try {
    std::istringstream in(saturn::fuzz::text(data, size));
    const auto examples = saturn::read_json_lines(in, "fuzz.jsonl", alphabet, 64);
    std::string written;
    for (const auto& e : examples) written += saturn::to_json_line(e, alphabet) + "\n";
    std::istringstream back(written);
    const auto again = saturn::read_json_lines(back, "again.jsonl", alphabet, 64);
    saturn::fuzz::require(again.size() == examples.size(), "same number of examples");
    for (std::size_t i = 0; i < again.size(); ++i) {
      saturn::fuzz::require(again[i].word == examples[i].word, "same words");
      saturn::fuzz::require(again[i].label == examples[i].label, "same labels");
    }
  } catch (const saturn::InputError&) {
  }
  return 0;
}
