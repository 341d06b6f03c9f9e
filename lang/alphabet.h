// Alphabets, symbols and words. A symbol is a small integer id into an ordered list of
// names; words print as plain strings when every name is one character, else space-separated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace saturn {

using Symbol = std::uint16_t;
using Word = std::vector<Symbol>;

class Alphabet {
 public:
  Alphabet() = default;
  // Throws InputError on an empty list, a duplicate, or a name that is empty or has spaces.
  explicit Alphabet(std::vector<std::string> names);

  int size() const { return static_cast<int>(names_.size()); }
  const std::string& name(Symbol s) const { return names_[s]; }
  const std::vector<std::string>& names() const { return names_; }
  std::optional<Symbol> find(std::string_view name) const;

  // True when every symbol name is a single character, so words print without separators.
  bool single_char() const { return single_char_; }

  std::string format(const Word& word) const;
  // Parses a word in the format above; throws InputError naming the unknown symbol.
  Word parse(std::string_view text) const;

  bool operator==(const Alphabet& other) const { return names_ == other.names_; }

 private:
  std::vector<std::string> names_;
  bool single_char_ = true;
};

}  // namespace saturn
