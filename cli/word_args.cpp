#include "cli/word_args.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "base/error.h"
#include "base/read_file.h"
#include "base/suggest.h"
#include "lang/words.h"

namespace saturn::cli {

WordsCommand* WordsCommand::add(CLI::App& parent, const std::string& name,
                                const std::string& description) {
  auto* cmd = parent.add_subcommand(std::make_shared<WordsCommand>(description, name));
  return static_cast<WordsCommand*>(cmd);
}

WordsCommand::WordsCommand(const std::string& description, const std::string& name)
    : CLI::App(description, name) {
  // An unknown option stays with this command, which names it with the way to pass a word that
  // starts with '-' (CLI11's own message gives no hint).
  allow_extras();
  parse_complete_callback([this] {
    auto extras = remaining();
    // With extras allowed, CLI11 hands back the `--` it has obeyed.
    extras.erase(std::remove(extras.begin(), extras.end(), "--"), extras.end());
    if (extras.empty()) return;
    if (extras.front() == "--help-all") throw CLI::CallForAllHelp();  // the root's flag
    std::vector<std::string> flags;
    for (const CLI::Option* o : get_options())
      for (const auto& n : o->get_lnames()) flags.push_back("--" + n);
    const std::string& arg = extras.front();
    std::string command = get_name();  // "lang check", "circuit run", "inspect"
    for (const CLI::App* p = get_parent(); p && p->get_parent(); p = p->get_parent())
      command = p->get_name() + " " + command;
    throw InputError(fmt::format(
        "{}: unknown option '{}'{}; a word that begins with '-' goes after --, as in: saturn "
        "{} ... -- {}",
        command, arg, did_you_mean(arg, flags), command, arg));
  });
}

void WordsCommand::add_words() {
  // CLI11 splits an argument "[a,b]" into values only for an option that allows extra
  // arguments; a positional without them takes further values only while it has fewer than
  // its minimum. So WORD asks for more values than anyone can give and takes them all, each
  // verbatim. (With the minimum unreached, `--` also stays with this command.)
  add_option("WORD", words_,
             "Words, read verbatim (\"\" is the empty word; symbols separated by spaces if any "
             "name is longer than one character; put -- before words that start with '-')")
      ->expected(1 << 30)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->option_text("...");
  add_option("--words", file_, "Read words from FILE, one per line ('-': standard input)");
}

void WordsCommand::for_each_word(
    const Alphabet& alphabet,
    const std::function<void(const std::string&, const Word&)>& fn) const {
  if (words_.empty() && file_.empty()) throw InputError("expected WORD... or --words FILE");
  // Every argument is parsed before the first is used: a bad word stops the command before it
  // prints anything.
  std::vector<Word> parsed;
  for (std::size_t i = 0; i < words_.size(); ++i) {
    try {
      parsed.push_back(parse_word(words_[i], alphabet));
    } catch (const InputError& e) {
      throw InputError(fmt::format("WORD {}: {}", i + 1, e.what()));
    }
  }
  for (std::size_t i = 0; i < words_.size(); ++i) fn(words_[i], parsed[i]);
  if (file_.empty()) return;
  if (file_ == "-") return read_words(std::cin, "<stdin>", alphabet, fn);
  std::ifstream in = open_for_reading(file_, "word file (--words: one word per line)");
  read_words(in, file_, alphabet, fn);
}

}  // namespace saturn::cli
