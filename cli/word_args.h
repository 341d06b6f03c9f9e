// Commands that take words (`lang check`, `circuit run`): WORD... read verbatim, and
// --words FILE ('-' for stdin), one word per line. CLI11 reads an argument `[a,b]` as its
// vector syntax and splits it into two words (even after `--`) unless the option is set up as
// below; a WordsCommand does that once for every such command. `--` ends the options, so a
// word may start with '-'.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lang/alphabet.h"

namespace saturn::cli {

class WordsCommand : public CLI::App {
 public:
  // Adds the command to `parent`; returns it.
  static WordsCommand* add(CLI::App& parent, const std::string& name,
                           const std::string& description);
  WordsCommand(const std::string& description, const std::string& name);
  // Declares WORD... and --words; call after the command's other positional arguments (WORD
  // takes every positional argument after them).
  void add_words();

  // fn(text as given, word) for each word: the arguments first, then --words FILE's lines.
  // Throws InputError when there is none, on an unknown option, or naming the argument
  // (WORD N) or FILE:LINE of a bad word.
  void for_each_word(const Alphabet& alphabet,
                     const std::function<void(const std::string&, const Word&)>& fn) const;
  bool words_from_file() const { return !file_.empty(); }
  bool has_words() const { return !words_.empty() || !file_.empty(); }

 private:
  std::vector<std::string> words_;
  std::string file_;
};

}  // namespace saturn::cli
