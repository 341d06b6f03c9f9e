#include "lang/zoo_tasks.h"

#include <boost/multiprecision/cpp_int.hpp>

#include <algorithm>
#include <functional>
#include <map>

namespace saturn {
namespace {

using Tape = std::vector<Symbol>;

// ---- w # f(w) -------------------------------------------------------------------------------

// Registers: phase (0 before '#', 1 after, 2 failed), position matched after '#'.
// Stacks: w, then f(w) (computed when '#' is read).
class TransductionMachine : public Machine {
 public:
  TransductionMachine(Transduction kind, int k) : kind_(kind), marker_(static_cast<Symbol>(k)) {}
  void assign(ConfigLayout& l) override {
    reg_ = l.add_regs(2);
    tape_ = l.add_stack();
    target_ = l.add_stack();
  }
  void start(Config& c) const override {
    c.regs[reg_] = c.regs[reg_ + 1] = 0;
    c.stacks[tape_].clear();
    c.stacks[target_].clear();
  }
  void step(Config& c, Symbol s) const override {
    auto& phase = c.regs[reg_];
    auto& pos = c.regs[reg_ + 1];
    if (phase == 0) {
      if (s == marker_) {
        c.stacks[target_] = transduce(c.stacks[tape_]);
        phase = 1;
      } else {
        c.stacks[tape_].push_back(s);
      }
    } else if (phase == 1) {
      const Tape& t = c.stacks[target_];
      if (pos < static_cast<std::int64_t>(t.size()) && t[pos] == s)
        ++pos;
      else
        phase = 2;
    }
  }
  bool accepting(const Config& c) const override {
    return c.regs[reg_] == 1 &&
           c.regs[reg_ + 1] == static_cast<std::int64_t>(c.stacks[target_].size());
  }
  bool key(const Config& c, int r, const SymbolSet&, bool count_only, Key& out) const override {
    const auto phase = c.regs[reg_];
    if (phase == 2) return false;
    if (phase == 0) {
      // u # f(w u) has length |u| + 1 + ratio (|w| + |u|): one completion per u of that length.
      const std::int64_t m = static_cast<std::int64_t>(c.stacks[tape_].size());
      const std::int64_t ratio = kind_ == Transduction::kDuplicate ? 2 : 1;
      const std::int64_t rest = r - 1 - ratio * m;
      if (rest < 0 || rest % (1 + ratio)) return false;
      if (!count_only) return append_config(c, out), true;
      out.push_back(0);
      out.push_back(m);
      return true;
    }
    // After '#': exactly the rest of f(w).
    if (r != static_cast<std::int64_t>(c.stacks[target_].size()) - c.regs[reg_ + 1]) return false;
    if (!count_only) return append_config(c, out), true;
    out.push_back(1);
    return true;
  }
  MachineResources resources() const override { return {false, 0, 2}; }
  std::string summary() const override {
    switch (kind_) {
      case Transduction::kBucketSort:
        return "tape: w before '#'; after it, match w sorted";
      case Transduction::kOddsFirst:
        return "tape: w before '#'; after it, match w's odd positions, then its even ones";
      case Transduction::kDuplicate:
        return "tape: w before '#'; after it, match w w";
    }
    return "";
  }

 private:
  Tape transduce(const Tape& w) const {
    Tape out;
    switch (kind_) {
      case Transduction::kBucketSort:
        out = w;
        std::sort(out.begin(), out.end());
        break;
      case Transduction::kOddsFirst:
        for (std::size_t i = 0; i < w.size(); i += 2) out.push_back(w[i]);
        for (std::size_t i = 1; i < w.size(); i += 2) out.push_back(w[i]);
        break;
      case Transduction::kDuplicate:
        out = w;
        out.insert(out.end(), w.begin(), w.end());
        break;
    }
    return out;
  }

  Transduction kind_;
  Symbol marker_;
  int reg_ = 0, tape_ = 0, target_ = 0;
};

// ---- missing duplicate ----------------------------------------------------------------------

constexpr Symbol kMissing = 2;  // '_' in {0, 1, _}

// Registers: position of '_' (-1 before it), failed (a second '_'). Stack: the word so far.
class MissingDuplicate : public Machine {
 public:
  void assign(ConfigLayout& l) override {
    reg_ = l.add_regs(2);
    tape_ = l.add_stack();
  }
  void start(Config& c) const override {
    c.regs[reg_] = -1;
    c.regs[reg_ + 1] = 0;
    c.stacks[tape_].clear();
  }
  void step(Config& c, Symbol s) const override {
    auto& t = c.stacks[tape_];
    if (s == kMissing) {
      if (c.regs[reg_] >= 0) c.regs[reg_ + 1] = 1;
      c.regs[reg_] = static_cast<std::int64_t>(t.size());
    }
    t.push_back(s);
  }
  bool accepting(const Config& c) const override {
    const auto& t = c.stacks[tape_];
    const std::size_t n = t.size() / 2;
    if (c.regs[reg_ + 1] || c.regs[reg_] < 0 || t.size() % 2) return false;
    for (std::size_t i = 0; i < n; ++i)
      if (value(c, i) != value(c, i + n)) return false;
    return true;
  }
  bool key(const Config& c, int r, const SymbolSet&, bool count_only, Key& out) const override {
    const auto& t = c.stacks[tape_];
    const std::int64_t d = static_cast<std::int64_t>(t.size()), total = d + r;
    const bool seen = c.regs[reg_] >= 0;
    if (c.regs[reg_ + 1] || total % 2 || total < 2) return false;
    const std::int64_t n = total / 2;
    std::int64_t ones = 0;  // of the first half's symbols still to be copied
    if (d > n) {
      // The second half so far must copy the first (with '_' read as 1); the rest is the copy
      // of first[d-n..n), with one of its 1s replaced by '_' if '_' is still to come.
      for (std::int64_t j = n; j < d; ++j)
        if (value(c, j) != value(c, j - n)) return false;
      if (!seen) {
        for (std::int64_t j = d - n; j < n; ++j) ones += t[j] == 1;
        if (ones == 0) return false;
      }
    } else if (!seen) {
      for (auto s : t) ones += s == 1;
    }
    if (!count_only) return append_config(c, out), true;
    // First half: the number of completions follows from d, '_' seen, and (if not) the 1s read.
    // Second half: one completion once '_' is seen, else one per remaining 1 to copy.
    out.push_back(d > n ? 1 : 0);
    out.push_back(d > n ? 0 : d);
    out.push_back(seen);
    out.push_back(ones);
    return true;
  }
  MachineResources resources() const override { return {false, 0, 1}; }
  std::string summary() const override {
    return "tape: the word so far; accept w w with one 1 written as '_'";
  }

 private:
  // Symbol i of the word with '_' read as 1.
  int value(const Config& c, std::size_t i) const {
    return static_cast<std::int64_t>(i) == c.regs[reg_] ? 1 : c.stacks[tape_][i];
  }
  int reg_ = 0, tape_ = 0;
};

// ---- stack manipulation ---------------------------------------------------------------------

constexpr Symbol kPush = 2, kPop = 3, kHash = 4;

// Register: the phase. Stack: the stack.
class StackManipulation : public Machine {
 public:
  enum Phase { kInitial, kOperations, kPushed, kFinal, kFailed };

  void assign(ConfigLayout& l) override {
    reg_ = l.add_regs(1);
    stack_ = l.add_stack();
  }
  void start(Config& c) const override {
    c.regs[reg_] = kInitial;
    c.stacks[stack_].clear();
  }
  void step(Config& c, Symbol s) const override {
    auto& phase = c.regs[reg_];
    auto& st = c.stacks[stack_];
    const bool bit = s < 2;
    switch (phase) {
      case kFinal:  // after '#': the final stack, top first
        if (st.empty() || st.back() != s) {
          phase = kFailed;
        } else {
          st.pop_back();
        }
        return;
      case kPushed:  // after PUSH: the bit pushed
        if (bit) {
          st.push_back(s);
          phase = kOperations;
        } else {
          phase = kFailed;
        }
        return;
      case kInitial:
      case kOperations:
        if (bit && phase == kInitial) {
          st.push_back(s);
        } else if (s == kPush) {
          phase = kPushed;
        } else if (s == kPop && !st.empty()) {
          st.pop_back();
          phase = kOperations;
        } else if (s == kHash) {
          phase = kFinal;
        } else {
          phase = kFailed;  // a bit after the operations began, or POP on an empty stack
        }
        return;
      default:
        return;
    }
  }
  bool accepting(const Config& c) const override {
    return c.regs[reg_] == kFinal && c.stacks[stack_].empty();
  }
  bool key(const Config& c, int r, const SymbolSet&, bool count_only, Key& out) const override {
    // The stack's contents matter only after '#', where exactly its height remains.
    const auto phase = c.regs[reg_];
    const auto h = static_cast<std::int64_t>(c.stacks[stack_].size());
    // Shortest completions: '#' and the stack; after PUSH, a bit, '#' and the stack.
    if (phase == kFailed || (phase == kFinal && r != h) ||
        ((phase == kInitial || phase == kOperations) && r < h + 1) ||
        (phase == kPushed && r < h + 3))
      return false;
    if (!count_only) return append_config(c, out), true;
    out.push_back(phase);
    out.push_back(phase == kFinal ? 0 : h);
    return true;
  }
  MachineResources resources() const override { return {false, 0, 1}; }
  std::string summary() const override {
    return "stack: push the initial stack, run PUSH/POP, pop and match after '#'";
  }

 private:
  int reg_ = 0, stack_ = 0;
};

// ---- binary arithmetic ----------------------------------------------------------------------

using boost::multiprecision::cpp_int;

cpp_int from_bits(const Tape& bits) {  // least significant first
  cpp_int x = 0;
  for (std::size_t i = bits.size(); i-- > 0;) x = (x << 1) | bits[i];
  return x;
}

Tape to_bits(cpp_int x) {  // without high zeros: 0 is the empty tape
  Tape bits;
  for (; x > 0; x >>= 1) bits.push_back(static_cast<Symbol>(static_cast<unsigned>(x & 1)));
  return bits;
}

// Registers: phase (0 reading x, 1 reading y, 2 reading z, 3 failed), bits of z matched.
// Stacks: x, y, the bits z must have (computed when '=' is read).
class BinaryArithmetic : public Machine {
 public:
  explicit BinaryArithmetic(BinaryOp op) : op_(op) {}
  void assign(ConfigLayout& l) override {
    reg_ = l.add_regs(2);
    x_ = l.add_stack();
    y_ = l.add_stack();
    target_ = l.add_stack();
  }
  void start(Config& c) const override {
    c.regs[reg_] = c.regs[reg_ + 1] = 0;
    c.stacks[x_].clear();
    c.stacks[y_].clear();
    c.stacks[target_].clear();
  }
  void step(Config& c, Symbol s) const override {
    auto& phase = c.regs[reg_];
    const bool bit = s < 2;
    const Symbol equals = op_ == BinaryOp::kSqrt ? 2 : 3;
    if (phase == 0 || phase == 1) {
      Tape& operand = c.stacks[phase == 0 ? x_ : y_];
      if (bit) {
        operand.push_back(s);
      } else if (operand.empty()) {
        phase = 3;
      } else if (phase == 0 && op_ != BinaryOp::kSqrt && s == 2) {
        phase = 1;
      } else if (s == equals && (phase == 1 || op_ == BinaryOp::kSqrt)) {
        c.stacks[target_] = result(c);
        phase = 2;
      } else {
        phase = 3;
      }
    } else if (phase == 2) {
      auto& pos = c.regs[reg_ + 1];
      const Tape& t = c.stacks[target_];
      const Symbol expected = pos < static_cast<std::int64_t>(t.size()) ? t[pos] : 0;
      if (s == expected)
        ++pos;
      else
        phase = 3;
    }
  }
  bool accepting(const Config& c) const override {
    const auto pos = c.regs[reg_ + 1];
    return c.regs[reg_] == 2 && pos >= 1 &&
           pos >= static_cast<std::int64_t>(c.stacks[target_].size());
  }
  bool key(const Config& c, int r, const SymbolSet&, bool count_only, Key& out) const override {
    const auto phase = c.regs[reg_];
    if (phase == 3) return false;
    if (phase == 2) {
      // Exactly one completion: the rest of z's bits, then high zeros.
      const auto need = std::max<std::int64_t>(
          {1, static_cast<std::int64_t>(c.stacks[target_].size()), c.regs[reg_ + 1]});
      if (c.regs[reg_ + 1] + r < need) return false;
      if (!count_only) return append_config(c, out), true;
      out.push_back(2);
      return true;
    }
    // Shortest completion: [op, a y bit,] '=', a z bit, plus a first bit of the operand.
    const bool empty = c.stacks[phase == 0 ? x_ : y_].empty();
    const int shortest = (phase == 0 && op_ != BinaryOp::kSqrt ? 4 : 2) + (empty ? 1 : 0);
    if (r < shortest) return false;
    if (count_only && op_ == BinaryOp::kAdd && phase == 1) {
      // Completions of x + y... depend on x and y only through their sum and y's length.
      out.push_back(1);
      out.push_back(static_cast<std::int64_t>(c.stacks[y_].size()));
      out.push_back(empty);
      const Tape sum = to_bits(from_bits(c.stacks[x_]) + from_bits(c.stacks[y_]));
      out.insert(out.end(), sum.begin(), sum.end());
      return true;
    }
    // Otherwise the values themselves: exact counting enumerates them (see the README).
    append_config(c, out);
    return true;
  }
  MachineResources resources() const override { return {false, 0, 3}; }
  std::string summary() const override {
    switch (op_) {
      case BinaryOp::kAdd:
        return "tapes: x and y, then match the bits of x + y (least significant first)";
      case BinaryOp::kMultiply:
        return "tapes: x and y, then match the bits of x * y (least significant first)";
      case BinaryOp::kSqrt:
        return "tape: x, then match the bits of floor(sqrt(x)) (least significant first)";
    }
    return "";
  }

 private:
  Tape result(const Config& c) const {
    const cpp_int x = from_bits(c.stacks[x_]);
    switch (op_) {
      case BinaryOp::kAdd:
        return to_bits(x + from_bits(c.stacks[y_]));
      case BinaryOp::kMultiply:
        return to_bits(x * from_bits(c.stacks[y_]));
      case BinaryOp::kSqrt:
        return to_bits(boost::multiprecision::sqrt(x));
    }
    return {};
  }

  BinaryOp op_;
  int reg_ = 0, x_ = 0, y_ = 0, target_ = 0;
};

}  // namespace

namespace {
struct TaskSpec {
  const char* description;
  const char* source;
  const char* language_class;
  std::vector<std::string> alphabet;
  int enumeration_limit;  // 0: polynomial counting
  std::function<std::shared_ptr<Machine>()> machine;
};

const std::map<std::string, TaskSpec>& task_specs() {
  static const std::map<std::string, TaskSpec> specs = {
      {"stack-manipulation",
       {"an initial stack over {0,1}, PUSH b / POP operations, #, then the final stack top first",
        "FLaRe, CH",
        "deterministic-cf",
        {"0", "1", "PUSH", "POP", "#"},
        0,
        [] { return make_stack_manipulation(); }}},
      {"bucket-sort",
       {"w # sorted(w) for w over {1,...,5}",
        "FLaRe, CH",
        "cs",
        {"1", "2", "3", "4", "5", "#"},
        0,
        [] { return make_transduction(Transduction::kBucketSort, 5); }}},
      {"odds-first",
       {"w # (w's odd positions, then its even ones) for w over {0,1}",
        "FLaRe, CH",
        "cs",
        {"0", "1", "#"},
        0,
        [] { return make_transduction(Transduction::kOddsFirst, 2); }}},
      {"duplicate-string",
       {"w # w w for w over {0,1} (CH's duplicate-string as a recogniser)",
        "CH",
        "cs",
        {"0", "1", "#"},
        0,
        [] { return make_transduction(Transduction::kDuplicate, 2); }}},
      {"missing-duplicate-string",
       {"w w over {0,1} with one of its 1s written as _",
        "FLaRe, CH",
        "cs",
        {"0", "1", "_"},
        0,
        [] { return make_missing_duplicate(); }}},
      {"binary-addition",
       {"x + y = z, binary, least significant bit first, high zeros allowed",
        "FLaRe, CH",
        "cs",
        {"0", "1", "+", "="},
        22,
        [] { return make_binary_arithmetic(BinaryOp::kAdd); }}},
      {"binary-multiplication",
       {"x × y = z, binary, least significant bit first, high zeros allowed",
        "FLaRe, CH",
        "cs",
        {"0", "1", "×", "="},
        20,
        [] { return make_binary_arithmetic(BinaryOp::kMultiply); }}},
      {"compute-sqrt",
       {"x = floor(sqrt(x)), binary, least significant bit first, high zeros allowed",
        "FLaRe, CH",
        "cs",
        {"0", "1", "="},
        23,
        [] { return make_binary_arithmetic(BinaryOp::kSqrt); }}},
      {"modular-arithmetic-brackets",
       {"E = r: E ::= d | -d | (d) | (-d) | (E op E), op in + - *, r = E mod 5",
        "CH",
        "deterministic-cf",
        {"0", "1", "2", "3", "4", "+", "-", "*", "(", ")", "="},
        22,
        [] { return make_bracket_arithmetic(false); }}},
      {"solve-equation",
       {"E = v # s: E over + - and brackets with one x for a digit, s solves E = v mod 5",
        "CH",
        "deterministic-cf",
        {"0", "1", "2", "3", "4", "+", "-", "(", ")", "x", "=", "#"},
        25,
        [] { return make_bracket_arithmetic(true); }}},
  };
  return specs;
}
}  // namespace

std::vector<std::string> task_language_names() {
  std::vector<std::string> names;
  for (const auto& [name, _] : task_specs()) names.push_back(name);
  return names;
}

std::shared_ptr<Language> make_task_language(const std::string& name) {
  const auto it = task_specs().find(name);
  if (it == task_specs().end()) return nullptr;
  const TaskSpec& t = it->second;
  auto language = std::make_shared<Language>(name, t.description, Alphabet(t.alphabet), t.machine(),
                                             "", t.language_class);
  language->set_source(t.source);
  language->set_enumeration_limit(t.enumeration_limit);
  return language;
}

std::shared_ptr<Machine> make_transduction(Transduction kind, int input_symbols) {
  return std::make_shared<TransductionMachine>(kind, input_symbols);
}
std::shared_ptr<Machine> make_missing_duplicate() {
  return std::make_shared<MissingDuplicate>();
}
std::shared_ptr<Machine> make_stack_manipulation() {
  return std::make_shared<StackManipulation>();
}
std::shared_ptr<Machine> make_binary_arithmetic(BinaryOp op) {
  return std::make_shared<BinaryArithmetic>(op);
}

}  // namespace saturn
