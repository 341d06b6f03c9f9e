#include "lang/alphabet.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

#include "base/error.h"

namespace saturn {

Alphabet::Alphabet(std::vector<std::string> names) : names_(std::move(names)) {
  if (names_.empty()) throw InputError("empty alphabet");
  if (names_.size() > 255) throw InputError("alphabet has more than 255 symbols");
  std::set<std::string> seen;
  for (const auto& n : names_) {
    if (n.empty()) throw InputError("empty symbol name in alphabet");
    if (std::any_of(n.begin(), n.end(), [](char c) {
          return c == ' ' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        }))
      throw InputError(
          fmt::format("symbol name '{}' contains white space or a control character", n));
    if (n == "\"" || n == "\"\"")
      throw InputError(
          fmt::format("symbol name '{}' is reserved: \"\" is how the empty word is written", n));
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
  word.reserve(single_char_ ? text.size() : 0);
  auto lookup = [&](std::string_view name) {
    auto s = find(name);
    if (!s) {
      std::string known;
      for (const auto& n : names_) known += (known.empty() ? "" : " ") + n;
      const std::string shown =
          text.size() <= 60 ? std::string(text) : std::string(text.substr(0, 57)) + "...";
      throw InputError(fmt::format("unknown symbol '{}' at symbol {} of word '{}' (alphabet: {})",
                                   name.size() <= 40 ? name : name.substr(0, 40), word.size() + 1,
                                   shown, known));
    }
    word.push_back(*s);
  };
  if (single_char_) {
    // One table lookup per character: words can be long.
    std::array<int, 256> index;
    index.fill(-1);
    for (std::size_t i = 0; i < names_.size(); ++i)
      index[static_cast<unsigned char>(names_[i][0])] = static_cast<int>(i);
    for (char c : text) {
      const int s = index[static_cast<unsigned char>(c)];
      if (s < 0) lookup(std::string_view(&c, 1));
      word.push_back(static_cast<Symbol>(s));
    }
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
