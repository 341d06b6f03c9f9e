// CH's bracketed modular arithmetic and solve-equation as recognisers (see zoo_tasks.h).
#include "lang/zoo_tasks.h"

namespace saturn {
namespace {

constexpr int kModulus = 5;

// Values are affine in the unknown x, a x + b (mod 5): without `variable` a is always 0.
struct AffineMod5 {
  int a = 0, b = 0;
};
int mod(int v) {
  return ((v % kModulus) + kModulus) % kModulus;
}

// An open bracket's frame, packed into one stack symbol: what it waits for, its operator and its
// left operand's value.
enum FrameState { kLeft, kLeftBare, kLeftDone, kRight, kRightDone };
struct Frame {
  int state = kLeft, op = 0;
  AffineMod5 left;
  Symbol pack() const {
    return static_cast<Symbol>(((state * 3 + op) * kModulus + left.a) * kModulus + left.b);
  }
  static Frame unpack(Symbol s) {
    Frame f;
    f.left.b = s % kModulus;
    f.left.a = (s / kModulus) % kModulus;
    f.op = (s / (kModulus * kModulus)) % 3;
    f.state = s / (kModulus * kModulus * 3);
    return f;
  }
};

// Phases of the parse.
enum Phase {
  kStart,        // an operand begins: a digit, x, '-' or '('
  kNegated,      // after '-': a digit or x
  kInFrame,      // after an operand inside brackets: an operator or ')', as the frame allows
  kTopDone,      // the expression is complete: '='
  kResult,       // after '=': a digit
  kAfterResult,  // (variable) after the result: '#'
  kSolution,     // (variable) after '#': a digit
  kAccept,
  kDead,
};

// Registers: phase, the expression's value (a, b), x's seen, the result digit.
// Stack: the open brackets' frames.
class BracketArithmetic : public Machine {
 public:
  explicit BracketArithmetic(bool variable) : variable_(variable) {
    // Alphabets (see make_task_language): digits 0..4, then + - [*] ( ) [x] = [#].
    plus_ = 5, minus_ = 6;
    times_ = variable ? -1 : 7;
    open_ = variable ? 7 : 8;
    close_ = open_ + 1;
    x_ = variable ? 9 : -1;
    equals_ = 10;
    hash_ = variable ? 11 : -1;
  }
  void assign(ConfigLayout& l) override {
    reg_ = l.add_regs(5);
    stack_ = l.add_stack();
  }
  void start(Config& c) const override {
    for (int i = 0; i < 5; ++i) c.regs[reg_ + i] = 0;
    c.regs[reg_] = kStart;
    c.stacks[stack_].clear();
  }
  void step(Config& c, Symbol s) const override {
    auto& phase = c.regs[reg_];
    auto& st = c.stacks[stack_];
    const int sym = s;
    const bool digit = sym < kModulus;
    switch (phase) {
      case kStart:
      case kNegated: {
        const int sign = phase == kNegated ? -1 : 1;
        if (digit) {
          complete(c, {0, mod(sign * sym)}, true);
        } else if (sym == x_ && c.regs[reg_ + 3] == 0) {
          c.regs[reg_ + 3] = 1;
          complete(c, {mod(sign), 0}, true);
        } else if (phase == kStart && sym == minus_) {
          phase = kNegated;
        } else if (phase == kStart && sym == open_) {
          st.push_back(Frame().pack());
        } else {
          phase = kDead;
        }
        break;
      }
      case kInFrame: {
        Frame f = Frame::unpack(st.back());
        const int op = sym == plus_ ? 0 : sym == minus_ ? 1 : sym == times_ ? 2 : -1;
        if (op >= 0 && (f.state == kLeftBare || f.state == kLeftDone)) {
          f.op = op;
          f.state = kRight;
          st.back() = f.pack();
          phase = kStart;
        } else if (sym == close_ && (f.state == kLeftBare || f.state == kRightDone)) {
          // (d), (-d), or (E op E) whose value the frame holds.
          st.pop_back();
          complete(c, f.left, false);
        } else {
          phase = kDead;
        }
        break;
      }
      case kTopDone:
        phase = sym == equals_ ? kResult : kDead;
        break;
      case kResult:
        if (!digit) {
          phase = kDead;
        } else if (variable_) {
          c.regs[reg_ + 4] = sym;
          phase = kAfterResult;
        } else {
          phase = sym == c.regs[reg_ + 2] ? kAccept : kDead;
        }
        break;
      case kAfterResult:
        phase = sym == hash_ && c.regs[reg_ + 3] == 1 ? kSolution : kDead;
        break;
      case kSolution: {
        const int a = static_cast<int>(c.regs[reg_ + 1]), b = static_cast<int>(c.regs[reg_ + 2]);
        phase = digit && mod(a * sym + b) == c.regs[reg_ + 4] ? kAccept : kDead;
        break;
      }
      default:
        phase = kDead;
    }
  }
  bool accepting(const Config& c) const override { return c.regs[reg_] == kAccept; }
  bool key(const Config& c, int r, const SymbolSet&, bool, Key& out) const override {
    // The shortest completion closes every bracket, then '=' and a digit (and '#', a digit).
    const auto phase = c.regs[reg_];
    const auto depth = static_cast<std::int64_t>(c.stacks[stack_].size());
    const int tail = variable_ ? 4 : 2;
    if (phase == kDead) return false;
    if (phase == kAccept && r != 0) return false;
    if (phase >= kResult && phase < kAccept && r != tail - 1 - (phase - kResult)) return false;
    if (phase < kTopDone && r < depth + tail + (phase == kInFrame ? 0 : 1)) return false;
    if (phase == kTopDone && r != tail) return false;
    // Completions depend on the values held: exact counting enumerates them (see the README).
    append_config(c, out);
    return true;
  }
  MachineResources resources() const override { return {false, 0, 1}; }
  std::string summary() const override {
    return variable_ ? "stack: open brackets with their left operands, values affine in x mod 5"
                     : "stack: open brackets with their left operands, values mod 5";
  }

 private:
  // An operand with value v has been read; `bare` when it is a digit or a negated digit.
  void complete(Config& c, AffineMod5 v, bool bare) const {
    auto& st = c.stacks[stack_];
    if (st.empty()) {
      c.regs[reg_] = kTopDone;
      c.regs[reg_ + 1] = v.a;
      c.regs[reg_ + 2] = v.b;
      return;
    }
    Frame f = Frame::unpack(st.back());
    if (f.state == kLeft) {
      f.left = v;
      f.state = bare ? kLeftBare : kLeftDone;
    } else {  // kRight
      const AffineMod5 l = f.left;
      if (f.op == 0) f.left = {mod(l.a + v.a), mod(l.b + v.b)};
      if (f.op == 1) f.left = {mod(l.a - v.a), mod(l.b - v.b)};
      if (f.op == 2) f.left = {mod(l.a * v.b + l.b * v.a), mod(l.b * v.b)};  // a = 0 without x
      f.state = kRightDone;
    }
    st.back() = f.pack();
    c.regs[reg_] = kInFrame;
  }

  bool variable_;
  int plus_, minus_, times_, open_, close_, x_, equals_, hash_;
  int reg_ = 0, stack_ = 0;
};

}  // namespace

std::shared_ptr<Machine> make_bracket_arithmetic(bool variable) {
  return std::make_shared<BracketArithmetic>(variable);
}

}  // namespace saturn
