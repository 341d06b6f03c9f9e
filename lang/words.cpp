#include "lang/words.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/error.h"
#include "base/lines.h"

namespace saturn {

Word parse_word(std::string_view text, const Alphabet& alphabet) {
  if (text == "\"\"") return {};
  if (!alphabet.single_char() || text.find(' ') == std::string_view::npos)
    return alphabet.parse(text);
  // FLaRe's main.tok spelling "0 1 1": no symbol name contains a space, so single spaces
  // between single symbols separate them and nothing else. Any other use of a space ("ab a",
  // "a  b", " a") could be a typo as well as a word: refused.
  bool spaced = text.size() % 2 == 1;
  std::string symbols;
  for (std::size_t i = 0; i < text.size() && spaced; ++i) {
    spaced = (text[i] == ' ') == (i % 2 == 1);
    if (i % 2 == 0) symbols += text[i];
  }
  if (!spaced) {
    const std::string shown =
        text.size() <= 60 ? std::string(text) : std::string(text.substr(0, 57)) + "...";
    const std::string example = alphabet.name(0) + " " + alphabet.name(alphabet.size() - 1);
    throw InputError(fmt::format(
        "word '{}': spaces may only separate single symbols, one between every two (as in "
        "'{}'), or be left out",
        shown, example));
  }
  return alphabet.parse(symbols);
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

long count_words(int k, int n, long cap) {
  long p = 1;
  for (int i = 0; i < n; ++i) {
    if (p > cap / std::max(1, k)) return cap + 1;
    p *= k;
  }
  return p;
}

Word word_at(long index, int k, int n) {
  Word w(static_cast<std::size_t>(n));
  for (int t = n - 1; t >= 0; --t) w[t] = static_cast<Symbol>(index % k), index /= k;
  return w;
}

}  // namespace saturn
