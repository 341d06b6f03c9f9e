// The building blocks of spec-file languages: one machine per key of an [accept] table
// (regex/dfa, counts/prefix_counts, mod, brackets) and the boolean composites all/any/not.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "lang/count_expr.h"
#include "lang/dfa.h"
#include "lang/machine.h"

namespace saturn {

// A regular constraint: the word is accepted by a DFA (from `regex` or `dfa`).
class DfaMachine : public Machine {
 public:
  DfaMachine(Dfa dfa, std::string label);
  void assign(ConfigLayout& layout) override { reg_ = layout.add_regs(1); }
  void start(Config& c) const override { c.regs[reg_] = dfa_.start(); }
  void step(Config& c, Symbol s) const override;
  bool accepting(const Config& c) const override;
  bool key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
           Key& out) const override;
  SymbolSet future_symbols(const Config& c) const override;
  MachineResources resources() const override { return {true, 0, 0}; }
  std::string summary() const override;
  const Dfa& dfa() const { return dfa_; }

 private:
  Dfa dfa_;
  std::string label_;
  std::vector<int> distance_;      // shortest accepted continuation per state, -1 if none
  std::vector<SymbolSet> future_;  // symbols on some accepting path from each state
  int reg_ = 0;
};

// Linear constraints over symbol counts: on the whole word (`counts`) and on every prefix,
// the empty one and the whole word included (`prefix_counts`). One counter per distinct form.
class CountsMachine : public Machine {
 public:
  CountsMachine(const std::vector<CountConstraint>& whole,
                const std::vector<CountConstraint>& prefix, const Alphabet& alphabet);
  void assign(ConfigLayout& layout) override;
  void start(Config& c) const override;
  void step(Config& c, Symbol s) const override;
  bool accepting(const Config& c) const override;
  bool key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
           Key& out) const override;
  MachineResources resources() const override {
    return {false, static_cast<int>(forms_.size()), 0};
  }
  std::string summary() const override;

  // Constraints over pairwise disjoint sets of symbols: the language is the interleaving of
  // independent parts. One part per group of forms sharing a symbol; symbols in no form are
  // left out. Fewer than two parts when the constraints do not split.
  struct Part {
    std::vector<Symbol> symbols;                 // in the full alphabet, increasing
    std::vector<CountConstraint> whole, prefix;  // over `symbols` (coefficients re-indexed)
  };
  std::vector<Part> independent_parts() const;
  // The whole-word constraints, and whether any constraint is on prefixes.
  std::vector<CountConstraint> whole_constraints() const;
  bool has_prefix_constraints() const;

 private:
  struct Test {
    int form;
    CmpOp op;
    std::int64_t rhs;
    bool prefix;
  };
  bool holds(const Config& c, const Test& t) const;
  std::vector<std::vector<std::int64_t>> forms_;  // coefficient vectors, distinct
  std::vector<Test> tests_;
  Alphabet alphabet_;
  int reg_ = 0;  // forms_.size() counter values, then one "a prefix test failed" flag
};

// Residues of linear forms modulo m: a finite-state constraint.
class ModMachine : public Machine {
 public:
  ModMachine(std::vector<ModConstraint> constraints, const Alphabet& alphabet);
  void assign(ConfigLayout& layout) override {
    reg_ = layout.add_regs(static_cast<int>(cons_.size()));
  }
  void start(Config& c) const override;
  void step(Config& c, Symbol s) const override;
  bool accepting(const Config& c) const override;
  bool key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
           Key& out) const override;
  MachineResources resources() const override { return {true, 0, 0}; }
  std::string summary() const override;
  const std::vector<ModConstraint>& constraints() const { return cons_; }

 private:
  std::vector<ModConstraint> cons_;
  Alphabet alphabet_;
  int reg_ = 0;
};

// Properly nested and matched brackets (other symbols ignored), optionally with a depth bound.
class BracketsMachine : public Machine {
 public:
  BracketsMachine(std::vector<std::pair<Symbol, Symbol>> pairs, std::optional<int> max_depth,
                  const Alphabet& alphabet);
  void assign(ConfigLayout& layout) override;
  void start(Config& c) const override;
  void step(Config& c, Symbol s) const override;
  bool accepting(const Config& c) const override;
  bool key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
           Key& out) const override;
  MachineResources resources() const override;
  std::string summary() const override;

 private:
  std::vector<int> open_of_;   // per symbol: bracket type it opens, or -1
  std::vector<int> close_of_;  // per symbol: bracket type it closes, or -1
  int types_;
  std::optional<int> max_depth_;
  std::string label_;
  int reg_ = 0, stack_ = 0;  // reg_: "mismatch seen" flag
};

// Boolean composites of sub-machines.
class AllMachine : public Machine {
 public:
  explicit AllMachine(std::vector<std::shared_ptr<Machine>> parts) : parts_(std::move(parts)) {}
  const std::vector<std::shared_ptr<Machine>>& parts() const { return parts_; }
  void assign(ConfigLayout& layout) override;
  void start(Config& c) const override;
  void step(Config& c, Symbol s) const override;
  bool accepting(const Config& c) const override;
  bool key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
           Key& out) const override;
  SymbolSet future_symbols(const Config& c) const override;
  MachineResources resources() const override;
  std::string summary() const override;

 private:
  std::vector<std::shared_ptr<Machine>> parts_;
};

class AnyMachine : public Machine {
 public:
  explicit AnyMachine(std::vector<std::shared_ptr<Machine>> parts) : parts_(std::move(parts)) {}
  const std::vector<std::shared_ptr<Machine>>& parts() const { return parts_; }
  void assign(ConfigLayout& layout) override;
  void start(Config& c) const override;
  void step(Config& c, Symbol s) const override;
  bool accepting(const Config& c) const override;
  bool key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
           Key& out) const override;
  SymbolSet future_symbols(const Config& c) const override;
  MachineResources resources() const override;
  std::string summary() const override;

 private:
  std::vector<std::shared_ptr<Machine>> parts_;
};

class NotMachine : public Machine {
 public:
  explicit NotMachine(std::shared_ptr<Machine> part) : part_(std::move(part)) {}
  const Machine& part() const { return *part_; }
  void assign(ConfigLayout& layout) override { part_->assign(layout); }
  void start(Config& c) const override { part_->start(c); }
  void step(Config& c, Symbol s) const override { part_->step(c, s); }
  bool accepting(const Config& c) const override { return !part_->accepting(c); }
  bool key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
           Key& out) const override;
  MachineResources resources() const override { return part_->resources(); }
  std::string summary() const override { return "not(" + part_->summary() + ")"; }

 private:
  std::shared_ptr<Machine> part_;
};

}  // namespace saturn
