// A formal language: alphabet, reference machine, class, and (for regular languages) its
// minimal DFA. Built-ins come from the zoo (builtin.h), user languages from spec files (spec.h).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "lang/alphabet.h"
#include "lang/dfa.h"
#include "lang/machine.h"

namespace saturn {

class Language {
 public:
  // `declared_class` overrides the class derived from the machine's resources (for C++
  // machines such as w w^R whose machine keeps a whole tape).
  Language(std::string name, std::string description, Alphabet alphabet,
           std::shared_ptr<Machine> machine, std::string spec_text = "",
           std::string declared_class = "");

  const std::string& name() const { return name_; }
  const std::string& description() const { return description_; }
  // Where the language comes from ("FLaRe, CH", "Tomita 1982", "textbook", ...); empty if unsaid.
  const std::string& source() const { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }
  // For languages counted by enumerating values (binary arithmetic, bracketed expressions): the
  // longest length counted exactly in under about 30 s on one core (README). 0: no such limit
  // is stated (the count table grows polynomially, or is bounded by --table-limit alone).
  int enumeration_limit() const { return enumeration_limit_; }
  void set_enumeration_limit(int length) { enumeration_limit_ = length; }
  const Alphabet& alphabet() const { return alphabet_; }
  const Runner& runner() const { return runner_; }
  const Machine& machine() const { return runner_.machine(); }
  // "regular", "counter", "deterministic-cf", "cf" or "cs": the class of the reference machine.
  const std::string& language_class() const { return class_; }
  // "minimal DFA: 5 states", "2 counters", ...
  const std::string& class_detail() const { return class_detail_; }
  // The TOML the language was defined by (empty for C++ machines): stored in checkpoints.
  const std::string& spec_text() const { return spec_text_; }
  // The minimal complete DFA, for regular languages.
  const std::optional<Dfa>& dfa() const { return dfa_; }

  bool accepts(const Word& w) const { return runner_.accepts(w); }

 private:
  std::string name_, description_, source_;
  int enumeration_limit_ = 0;
  Alphabet alphabet_;
  Runner runner_;
  std::string spec_text_;
  std::string class_, class_detail_;
  std::optional<Dfa> dfa_;
};

// The DFA of a finite-state machine, by breadth-first exploration of its configurations.
// Throws LimitError past max_states reachable configurations or max_bytes held by them.
Dfa explore_dfa(const Runner& runner, int num_symbols, int max_states = 200000,
                std::size_t max_bytes = std::size_t(256) << 20);

}  // namespace saturn
