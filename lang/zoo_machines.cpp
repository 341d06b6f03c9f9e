#include "lang/zoo_machines.h"

namespace saturn {
namespace {

constexpr Symbol kMark = 2;  // '#' in the alphabet {0, 1, #}

// Registers: phase (0 before '#', 1 after, 2 failed). Stack: the symbols before '#'.
class MarkedReversal : public Machine {
 public:
  void assign(ConfigLayout& l) override {
    reg_ = l.add_regs(1);
    stack_ = l.add_stack();
  }
  void start(Config& c) const override {
    c.regs[reg_] = 0;
    c.stacks[stack_].clear();
  }
  void step(Config& c, Symbol s) const override {
    auto& phase = c.regs[reg_];
    auto& st = c.stacks[stack_];
    if (phase == 0) {
      if (s == kMark)
        phase = 1;
      else
        st.push_back(s);
    } else if (phase == 1) {
      if (s == kMark || st.empty() || st.back() != s)
        phase = 2;
      else
        st.pop_back();
    }
  }
  bool accepting(const Config& c) const override {
    return c.regs[reg_] == 1 && c.stacks[stack_].empty();
  }
  bool key(const Config& c, int r, const SymbolSet&, bool count_only, Key& out) const override {
    const auto phase = c.regs[reg_];
    const auto h = static_cast<std::int64_t>(c.stacks[stack_].size());
    // Before '#': u # (w u)^R has length 2|u| + 1 + h. After: exactly h symbols remain.
    if (phase == 2 || (phase == 0 && (r < h + 1 || (r - 1 - h) % 2)) || (phase == 1 && r != h))
      return false;
    out.push_back(phase);
    out.push_back(h);
    if (!count_only) out.insert(out.end(), c.stacks[stack_].begin(), c.stacks[stack_].end());
    return true;
  }
  MachineResources resources() const override { return {false, 0, 1}; }
  std::string summary() const override { return "stack: push before '#', pop and match after"; }

 private:
  int reg_ = 0, stack_ = 0;
};

// Tape: the word so far. A palindrome x of length n is fixed by its first ceil(n/2) symbols.
class Palindrome : public Machine {
 public:
  explicit Palindrome(bool even_only) : even_only_(even_only) {}
  void assign(ConfigLayout& l) override { tape_ = l.add_stack(); }
  void start(Config& c) const override { c.stacks[tape_].clear(); }
  void step(Config& c, Symbol s) const override { c.stacks[tape_].push_back(s); }
  bool accepting(const Config& c) const override {
    const auto& t = c.stacks[tape_];
    if (even_only_ && t.size() % 2) return false;
    for (std::size_t i = 0; i < t.size() / 2; ++i)
      if (t[i] != t[t.size() - 1 - i]) return false;
    return true;
  }
  bool key(const Config& c, int r, const SymbolSet&, bool count_only, Key& out) const override {
    const auto& t = c.stacks[tape_];
    const int d = static_cast<int>(t.size()), n = d + r;
    if (even_only_ && n % 2) return false;
    if (!count_only) {
      append_config(c, out);
      return true;
    }
    const int free = (n + 1) / 2;  // symbols that determine the palindrome
    if (d <= free) {
      out.push_back(0);
      out.push_back(free - d);  // 2^(free - d) completions
      return true;
    }
    // The prefix already overlaps its mirror image: t[i] == t[n-1-i] for i in [r, d).
    for (int i = r; i < d; ++i)
      if (t[i] != t[n - 1 - i]) return false;
    out.push_back(1);  // exactly one completion
    return true;
  }
  MachineResources resources() const override { return {false, 0, 1}; }
  std::string summary() const override {
    return even_only_ ? "tape: the word so far; accept even-length palindromes"
                      : "tape: the word so far; accept palindromes";
  }

 private:
  bool even_only_;
  int tape_ = 0;
};

// Registers: phase (0 before '#', 1 after, 2 failed), position matched after '#'. Tape: w.
class MarkedCopy : public Machine {
 public:
  void assign(ConfigLayout& l) override {
    reg_ = l.add_regs(2);
    tape_ = l.add_stack();
  }
  void start(Config& c) const override {
    c.regs[reg_] = c.regs[reg_ + 1] = 0;
    c.stacks[tape_].clear();
  }
  void step(Config& c, Symbol s) const override {
    auto& phase = c.regs[reg_];
    auto& pos = c.regs[reg_ + 1];
    const auto& w = c.stacks[tape_];
    if (phase == 0) {
      if (s == kMark)
        phase = 1;
      else
        c.stacks[tape_].push_back(s);
    } else if (phase == 1) {
      if (pos >= static_cast<std::int64_t>(w.size()) || w[pos] != s)
        phase = 2;
      else
        ++pos;
    }
  }
  bool accepting(const Config& c) const override {
    return c.regs[reg_] == 1 &&
           c.regs[reg_ + 1] == static_cast<std::int64_t>(c.stacks[tape_].size());
  }
  bool key(const Config& c, int r, const SymbolSet&, bool count_only, Key& out) const override {
    const auto phase = c.regs[reg_];
    const auto len = static_cast<std::int64_t>(c.stacks[tape_].size());
    const auto left = len - c.regs[reg_ + 1];
    // Before '#': u # w u has length 2|u| + 1 + |w|. After: the rest of w, exactly.
    if (phase == 2 || (phase == 0 && (r < len + 1 || (r - 1 - len) % 2)) ||
        (phase == 1 && r != left))
      return false;
    if (!count_only) {
      append_config(c, out);
      return true;
    }
    out.push_back(phase);
    out.push_back(phase == 0 ? len : left);
    return true;
  }
  MachineResources resources() const override { return {false, 0, 1}; }
  std::string summary() const override { return "queue: store w before '#', match it after"; }

 private:
  int reg_ = 0, tape_ = 0;
};

}  // namespace

std::shared_ptr<Machine> make_marked_reversal() {
  return std::make_shared<MarkedReversal>();
}
std::shared_ptr<Machine> make_palindrome(bool even_only) {
  return std::make_shared<Palindrome>(even_only);
}
std::shared_ptr<Machine> make_marked_copy() {
  return std::make_shared<MarkedCopy>();
}

}  // namespace saturn
