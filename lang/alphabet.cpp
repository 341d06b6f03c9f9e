#include "lang/alphabet.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "lang/error.h"

namespace saturn {

Alphabet::Alphabet(std::vector<std::string> names) : names_(std::move(names)) {
  if (names_.empty()) throw InputError("empty alphabet");
  if (names_.size() > 255) throw InputError("alphabet has more than 255 symbols");
  std::set<std::string> seen;
  for (const auto& n : names_) {
    if (n.empty()) throw InputError("empty symbol name in alphabet");
    if (std::any_of(n.begin(), n.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n'; }))
      throw InputError(fmt::format("symbol name '{}' contains white space", n));
    if (!seen.insert(n).second)
      throw InputError(fmt::format("duplicate symbol '{}' in alphabet", n));
    if (n.size() != 1) single_char_ = false;
  }
}

std::optional<Symbol> Alphabet::find(std::string_view name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<Symbol>(i);
  return std::nullopt;
}

std::string Alphabet::format(const Word& word) const {
  std::string out;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (!single_char_ && i > 0) out += ' ';
    out += names_[word[i]];
  }
  return out;
}

Word Alphabet::parse(std::string_view text) const {
  Word word;
  auto lookup = [&](std::string_view name) {
    auto s = find(name);
    if (!s) {
      std::string known;
      for (const auto& n : names_) known += (known.empty() ? "" : " ") + n;
      throw InputError(
          fmt::format("unknown symbol '{}' in word '{}' (alphabet: {})", name, text, known));
    }
    word.push_back(*s);
  };
  if (single_char_) {
    for (char c : text) lookup(std::string_view(&c, 1));
  } else {
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && text[i] == ' ') ++i;
      std::size_t j = i;
      while (j < text.size() && text[j] != ' ') ++j;
      if (j > i) lookup(text.substr(i, j - i));
      i = j;
    }
  }
  return word;
}

}  // namespace saturn
