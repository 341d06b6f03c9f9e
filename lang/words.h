// Words as users write them, on the command line and in word files: symbols as in
// Alphabet::parse, and `""` for the empty word (no symbol may be named `"` or `""`, so the
// spelling is never ambiguous). A word is read verbatim: nothing but the alphabet's own rule
// splits it. Over single-character names, a word may also be written with one space between
// every two symbols, as FLaRe's main.tok does ("0 1 1" is 011): no symbol name contains a space,
// so that reading is unambiguous; any other space ("01 1", "0  1", " 0") is refused.
#pragma once

#include <functional>
#include <istream>
#include <string>
#include <string_view>

#include "lang/alphabet.h"

namespace saturn {

Word parse_word(std::string_view text, const Alphabet& alphabet);
// The spelling parse_word reads back: `""` for the empty word.
std::string format_word(const Word& word, const Alphabet& alphabet);

// One word per line (an empty line is the empty word, like `""`); calls fn(text, word) in
// order. Errors name SOURCE:LINE.
void read_words(std::istream& in, const std::string& source, const Alphabet& alphabet,
                const std::function<void(const std::string& text, const Word& word)>& fn);

// Enumerating all words of one length (verify's enumeration, loop's all-words faithfulness):
// k^n, or cap + 1 once it passes cap (never wraps); and the index-th word of length n over k
// symbols in symbol order (the last symbol fastest).
long count_words(int k, int n, long cap);
Word word_at(long index, int k, int n);

}  // namespace saturn
