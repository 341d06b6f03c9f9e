// FLaRe's dataset format (Butoi et al. 2025, rycolab/neural-network-recognizers,
// string_sampling/sample_dataset.py), both ways. A dataset directory holds
//   main.tok            one example per line: its symbols separated by single spaces (an empty
//                       line is the empty word);
//   labels.txt          one label per line, 0 or 1;
//   next-symbols.jsonl  optional: one line per *positive* example, in order: a JSON array of
//                       |w| + 1 objects {"s": "the symbols that may follow prefix w[:i], sorted,
//                       space-separated", "e": whether w[:i] itself is accepted}.
#pragma once

#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <vector>

#include "lang/dataset.h"

namespace saturn {

// How next-symbols.jsonl is checked against a language. FLaRe's sets are unbounded: s may
// follow the prefix p when some accepted word of any length begins with p s. With a DFA that is
// decided exactly (the state after p s can reach acceptance). Without one, continuations are
// searched up to `max_length` symbols: a listed symbol with none is counted as unconfirmed
// (not refused: a longer one may exist), and an unlisted symbol is refused when an accepted
// word no longer than the example itself begins with p s.
struct NextSymbolsCheck {
  int max_length = 0;    // in: 0 means twice the longest word in main.tok, at least 16
  bool exact = false;    // out: the language has a DFA (every set was decided)
  long unconfirmed = 0;  // out: listed symbols without an accepted continuation found
};

// Reads DIR's files. Errors name FILE:LINE (unknown symbols, a label other than 0 or 1, files of
// different lengths). With `check_against`, a label the language disagrees with is refused, and
// so is a next-symbols.jsonl entry: an `e` flag that is not the prefix's membership, an `s` set
// that is not the next symbols (NextSymbolsCheck; `next_check` may be null for the defaults).
std::vector<Example> read_flare(const std::filesystem::path& dir, const Alphabet& alphabet,
                                const Language* check_against = nullptr,
                                NextSymbolsCheck* next_check = nullptr);
// The same from streams (next: null when there is no next-symbols.jsonl); messages name the
// files inside `dir_name`.
std::vector<Example> read_flare(std::istream& main_tok, std::istream& labels, std::istream* next,
                                const std::string& dir_name, const Alphabet& alphabet,
                                const Language* check_against = nullptr,
                                NextSymbolsCheck* next_check = nullptr);

// `saturn lang import` (the CLI and the Python package): read_flare checked against `language`
// (unless `check_labels` is false), with next-symbol sets searched up to `next_max_length`
// (0..100000; 0: NextSymbolsCheck's default; InputError naming --next-max-length otherwise).
// When the data does not read as `language` but as FLaRe's own spelling of it (the built-in
// flare-NAME), the error says so. `note`, when not null, gets the note on listed next symbols
// without a continuation found (languages without a DFA), or "" when there is none.
std::vector<Example> import_flare(const std::filesystem::path& dir, const Language& language,
                                  bool check_labels, int next_max_length, std::string* note);
// --next-max-length of `lang import`: throws InputError unless 0..100000.
void check_import_next_max_length(int next_max_length);

// FLaRe's unbounded next-symbol sets for `w` where they are decidable (languages with a DFA);
// nullopt for the others.
std::optional<NextTargets> exact_next_targets(const Language& language, const Word& w);

// The next-symbol targets `lang sample --format flare` writes for `w`: FLaRe's unbounded sets
// where a DFA decides them (exact_next_targets), else the sets bounded by `max_length`
// (Sampler::next_targets, the sampler being over the same language).
NextTargets flare_next_targets(Sampler& sampler, const Word& w, int max_length);

// Writes DIR/main.tok, labels.txt and, when every positive example has next-symbol targets,
// next-symbols.jsonl; each through a temporary file renamed into place by commit().
class FlareWriter {
 public:
  FlareWriter(const std::filesystem::path& dir, const Alphabet& alphabet, bool next_symbols);
  ~FlareWriter();
  void write(const Example& example);
  void commit();

 private:
  struct Files;
  const Alphabet& alphabet_;
  bool next_;
  std::unique_ptr<Files> files_;
};

}  // namespace saturn
