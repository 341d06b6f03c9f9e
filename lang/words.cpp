#include "lang/words.h"

#include "base/error.h"
#include "base/lines.h"

namespace saturn {

Word parse_word(std::string_view text, const Alphabet& alphabet) {
  return text == "\"\"" ? Word{} : alphabet.parse(text);
}

std::string format_word(const Word& word, const Alphabet& alphabet) {
  return word.empty() ? "\"\"" : alphabet.format(word);
}

void read_words(std::istream& in, const std::string& source, const Alphabet& alphabet,
                const std::function<void(const std::string& text, const Word& word)>& fn) {
  LineReader lines(in, source);
  std::string line;
  while (lines.next(line)) {
    Word w;
    try {
      w = parse_word(line, alphabet);
    } catch (const InputError& e) {
      lines.fail(e.what());
    }
    fn(line.empty() ? "\"\"" : line, w);
  }
}

}  // namespace saturn
