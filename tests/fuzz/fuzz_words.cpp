// Words as users write them (command line, word files): the first byte picks an alphabet,
// the rest is the word; a word that parses is formatted and parsed back to itself.
#include <sstream>

#include "lang/words.h"
#include "tests/fuzz/fuzz_support.h"

SATURN_FUZZ_INIT

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const saturn::Alphabet alphabets[] = {
      saturn::Alphabet({"a", "b"}), saturn::Alphabet({"(", ")", "[", "]"}),
      saturn::Alphabet({"0", "1", "#"}), saturn::Alphabet({"ab", "c", "-", "[x]"})};
  if (size == 0) return 0;
  const auto& alphabet = alphabets[data[0] % 4];
  const std::string t = saturn::fuzz::text(data + 1, size - 1);
  try {
    const saturn::Word w = saturn::parse_word(t, alphabet);
    const std::string shown = saturn::format_word(w, alphabet);
    saturn::fuzz::require(saturn::parse_word(shown, alphabet) == w, "format_word round-trips");
  } catch (const saturn::InputError&) {
  }
  try {
    std::istringstream in(t);
    saturn::read_words(in, "fuzz.txt", alphabet,
                       [&](const std::string& text, const saturn::Word& w) {
                         saturn::fuzz::require(saturn::parse_word(text, alphabet) == w,
                                               "line text parses to the word");
                       });
  } catch (const saturn::InputError&) {
  }
  return 0;
}
