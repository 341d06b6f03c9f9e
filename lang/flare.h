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
#include <vector>

#include "lang/dataset.h"

namespace saturn {

// Reads DIR's files. Errors name FILE:LINE (unknown symbols, a label other than 0 or 1, files of
// different lengths). With `check_against`, a label the language disagrees with is refused.
std::vector<Example> read_flare(const std::filesystem::path& dir, const Alphabet& alphabet,
                                const Language* check_against = nullptr);
// The same from streams (next: null when there is no next-symbols.jsonl); messages name the
// files inside `dir_name`.
std::vector<Example> read_flare(std::istream& main_tok, std::istream& labels, std::istream* next,
                                const std::string& dir_name, const Alphabet& alphabet,
                                const Language* check_against = nullptr);

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
