// Reference machines: deterministic machines over configurations (finite control, counters,
// stacks). Every language carries one; counting, sampling, DFA extraction and bounded
// equivalence all work through this interface, which is public so users can add their own.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lang/alphabet.h"

namespace saturn {

// A configuration: registers at fixed offsets (DFA states, counter values, flags) and stacks
// (bracket stacks, tapes). Each component of a machine owns a slice, assigned by a layout.
struct Config {
  std::vector<std::int64_t> regs;
  std::vector<std::vector<Symbol>> stacks;
  bool operator==(const Config&) const = default;
};

// What determines a configuration's future; see Machine::key.
using Key = std::vector<std::int64_t>;

using SymbolSet = std::bitset<256>;
inline SymbolSet all_symbols(int k) {
  SymbolSet s;
  for (int i = 0; i < k; ++i) s.set(i);
  return s;
}

// Hands out register offsets and stack indices to the components of a machine.
class ConfigLayout {
 public:
  int add_regs(int n) {
    int at = regs_;
    regs_ += n;
    return at;
  }
  int add_stack() { return stacks_++; }
  Config empty_config() const {
    Config c;
    c.regs.assign(regs_, 0);
    c.stacks.assign(stacks_, {});
    return c;
  }

 private:
  int regs_ = 0, stacks_ = 0;
};

// What a machine uses, from which its language class follows.
struct MachineResources {
  bool finite = true;  // finitely many reachable configurations: a DFA exists
  int counters = 0;    // unbounded integer registers
  int stacks = 0;      // unbounded stacks
};

class Machine {
 public:
  virtual ~Machine() = default;

  // Claims this machine's registers and stacks (and its children's). Called once, before use.
  virtual void assign(ConfigLayout& layout) = 0;
  // Writes the start configuration into c (which has the layout's shape).
  virtual void start(Config& c) const = 0;
  // Reads one symbol. A machine never fails a step: rejection is a state it can't leave.
  virtual void step(Config& c, Symbol s) const = 0;
  virtual bool accepting(const Config& c) const = 0;

  // The key of c with `remaining` symbols still to read, appended to out. Contract:
  // if key(c, r) == key(c', r) then for every length l <= r the accepted continuations of
  // length l from c and c' are the same set of words over `future` (or, when count_only,
  // equally many words). Returns false, having appended nothing useful, when no
  // continuation of length <= r over `future` is accepted (c is dead for r).
  // `future` is a superset of the symbols any accepted continuation can contain; composites
  // narrow it (an `all` may use its siblings' knowledge), which keeps count tables small.
  virtual bool key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
                   Key& out) const = 0;

  // A superset of the symbols that can occur in an accepted continuation of c.
  virtual SymbolSet future_symbols(const Config&) const { return SymbolSet().set(); }

  virtual MachineResources resources() const = 0;
  // One line for `saturn lang show`, e.g. "all(dfa 3 states, counts [#a-#b == 0])".
  virtual std::string summary() const = 0;
};

// A machine together with its configuration layout: the object users step through.
class Runner {
 public:
  explicit Runner(std::shared_ptr<Machine> machine);
  Config start() const;
  void step(Config& c, Symbol s) const { machine_->step(c, s); }
  bool accepting(const Config& c) const { return machine_->accepting(c); }
  bool accepts(const Word& w) const;
  const Machine& machine() const { return *machine_; }
  std::shared_ptr<Machine> shared() const { return machine_; }

 private:
  std::shared_ptr<Machine> machine_;
  ConfigLayout layout_;
};

// Serialises a whole configuration (registers, then each stack with its height): an exact key.
void append_config(const Config& c, Key& out);

}  // namespace saturn
