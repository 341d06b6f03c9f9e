#include "lang/count_expr.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace saturn {

bool compare(std::int64_t l, CmpOp op, std::int64_t r) {
  switch (op) {
    case CmpOp::eq:
      return l == r;
    case CmpOp::ne:
      return l != r;
    case CmpOp::lt:
      return l < r;
    case CmpOp::le:
      return l <= r;
    case CmpOp::gt:
      return l > r;
    case CmpOp::ge:
      return l >= r;
  }
  return false;
}

const char* to_string(CmpOp op) {
  static const char* names[] = {"==", "!=", "<", "<=", ">", ">="};
  return names[static_cast<int>(op)];
}

namespace {

// An affine form over symbol counts: sum coef[s] #s + constant.
struct Affine {
  std::vector<std::int64_t> coef;
  std::int64_t constant = 0;
  bool is_constant() const {
    for (auto c : coef)
      if (c) return false;
    return true;
  }
};

// Every number, coefficient and constant, also after the expression is simplified, is at most
// this in absolute value: counter values (coefficient x word length) then fit 64 bits.
constexpr std::int64_t kMaxMagnitude = 1'000'000'000;
// Parentheses nested deeper are refused (the parser recurses once per level).
constexpr int kMaxCountNesting = 200;

class ExprParser {
 public:
  ExprParser(std::string_view t, const Alphabet& a) : t_(t), a_(a) {}

  [[noreturn]] void fail(const std::string& what, std::size_t at) const {
    throw ExprError(what, static_cast<int>(at));
  }
  void skip() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  bool at_end() {
    skip();
    return i_ >= t_.size();
  }
  std::size_t pos() const { return i_; }

  std::optional<CmpOp> parse_op() {
    skip();
    static const std::pair<const char*, CmpOp> ops[] = {{"==", CmpOp::eq}, {"!=", CmpOp::ne},
                                                        {"<=", CmpOp::le}, {">=", CmpOp::ge},
                                                        {"<", CmpOp::lt},  {">", CmpOp::gt}};
    for (auto [text, op] : ops)
      if (t_.substr(i_, std::string_view(text).size()) == text) {
        i_ += std::string_view(text).size();
        return op;
      }
    return std::nullopt;
  }

  // sum := term (('+'|'-') term)*
  Affine parse_sum() {
    Affine acc = parse_term();
    while (true) {
      skip();
      if (i_ >= t_.size() || (t_[i_] != '+' && t_[i_] != '-')) return acc;
      const std::size_t at = i_;
      int sign = t_[i_++] == '+' ? 1 : -1;
      add(acc, parse_term(), sign, at);
    }
  }

  std::int64_t parse_int() {
    skip();
    std::size_t start = i_;
    std::int64_t v = 0;
    while (i_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[i_]))) {
      v = v * 10 + (t_[i_++] - '0');
      if (v > kMaxMagnitude) fail("number too large", start);
    }
    if (i_ == start) fail("expected a number", start);
    return v;
  }

  // A coefficient or constant, refused past kMaxMagnitude (never wrapped).
  std::int64_t checked(std::int64_t value, std::size_t at) const {
    if (value > kMaxMagnitude || value < -kMaxMagnitude)
      fail(fmt::format("coefficient or constant out of range (more than {} in absolute value)",
                       kMaxMagnitude),
           at);
    return value;
  }

 private:
  void add(Affine& acc, const Affine& x, std::int64_t sign, std::size_t at) {
    for (std::size_t s = 0; s < acc.coef.size(); ++s)
      acc.coef[s] = checked(acc.coef[s] + sign * x.coef[s], at);
    acc.constant = checked(acc.constant + sign * x.constant, at);
  }

  // term := '-'* factor ('*'? factor)*   (a product must have a constant side)
  Affine parse_term() {
    skip();
    bool negative = false;  // a run of unary minus signs, read without recursion
    while (i_ < t_.size() && t_[i_] == '-') {
      negative = !negative;
      ++i_;
      skip();
    }
    Affine x = parse_product();
    if (negative) {
      for (auto& c : x.coef) c = -c;
      x.constant = -x.constant;
    }
    return x;
  }

  Affine parse_product() {
    std::size_t start = i_;
    Affine acc = parse_factor();
    while (true) {
      skip();
      if (i_ >= t_.size()) return acc;
      char c = t_[i_];
      if (c == '*')
        ++i_;
      else if (c != '#' && c != '(' && !std::isdigit(static_cast<unsigned char>(c)))
        return acc;
      Affine rhs = parse_factor();
      if (!acc.is_constant() && !rhs.is_constant())
        fail("product of two counts is not linear", start);
      const Affine& scale = acc.is_constant() ? acc : rhs;
      Affine other = acc.is_constant() ? rhs : acc;
      std::int64_t f = scale.constant;
      // Both factors are within kMaxMagnitude, so the products fit before the check.
      for (auto& v : other.coef) v = checked(v * f, start);
      other.constant = checked(other.constant * f, start);
      acc = other;
    }
  }

  // factor := INT | '#' name | '#' "'" name "'" | '(' sum ')'
  Affine parse_factor() {
    skip();
    Affine x;
    x.coef.assign(a_.size(), 0);
    if (i_ >= t_.size()) fail("expression ends early", i_);
    std::size_t start = i_;
    char c = t_[i_];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      x.constant = parse_int();
    } else if (c == '#') {
      ++i_;
      std::string name;
      if (i_ < t_.size() && t_[i_] == '\'') {
        std::size_t close = t_.find('\'', i_ + 1);
        if (close == std::string_view::npos) fail("unterminated quote in count term", start);
        name = std::string(t_.substr(i_ + 1, close - i_ - 1));
        i_ = close + 1;
      } else {
        while (i_ < t_.size() &&
               (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_'))
          name += t_[i_++];
        if (name.empty()) fail("expected a symbol name after '#' (quote other names: #'(')", start);
      }
      auto s = a_.find(name);
      if (!s) fail(fmt::format("unknown symbol '{}' in count term", name), start);
      x.coef[*s] = 1;
    } else if (c == '(') {
      if (++depth_ > kMaxCountNesting)
        fail(fmt::format("parentheses nested more than {} deep", kMaxCountNesting), start);
      ++i_;
      x = parse_sum();
      skip();
      if (i_ >= t_.size() || t_[i_] != ')') fail("unbalanced '('", start);
      ++i_;
      --depth_;
    } else {
      fail(fmt::format("unexpected '{}'", c), start);
    }
    return x;
  }

  std::string_view t_;
  const Alphabet& a_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

CountConstraint parse_count_constraint(std::string_view text, const Alphabet& alphabet) {
  ExprParser p(text, alphabet);
  Affine lhs = p.parse_sum();
  std::size_t op_at = p.pos();
  auto op = p.parse_op();
  if (!op) p.fail("expected a comparison (== != < <= > >=)", op_at);
  Affine rhs = p.parse_sum();
  if (!p.at_end()) p.fail("unexpected text after the expression", p.pos());
  CountConstraint c;
  c.op = *op;
  c.coef.resize(alphabet.size());
  for (int s = 0; s < alphabet.size(); ++s) c.coef[s] = p.checked(lhs.coef[s] - rhs.coef[s], op_at);
  c.rhs = p.checked(rhs.constant - lhs.constant, op_at);
  return c;
}

ModConstraint parse_mod_constraint(std::string_view text, const Alphabet& alphabet) {
  ExprParser p(text, alphabet);
  Affine form = p.parse_sum();
  p.skip();
  std::size_t mod_at = p.pos();
  if (p.at_end() || text[p.pos()] != '%') p.fail("expected '% m' after the linear form", mod_at);
  // The rest is read by a second parser; its offsets are moved back to the whole text's.
  ExprParser rest(text.substr(mod_at + 1), alphabet);
  std::int64_t m = 0;
  std::optional<CmpOp> op;
  Affine rhs;
  try {
    m = rest.parse_int();
    if (m < 1) rest.fail("modulus must be at least 1", 0);
    op = rest.parse_op();
    if (!op) rest.fail("expected a comparison after '% m'", rest.pos());
    rest.skip();
    const std::size_t rhs_at = rest.pos();
    rhs = rest.parse_sum();
    if (!rhs.is_constant()) rest.fail("right side of a mod constraint must be a number", rhs_at);
    if (!rest.at_end()) rest.fail("unexpected text after the expression", rest.pos());
  } catch (const ExprError& e) {
    throw ExprError(e.what(), e.offset + static_cast<int>(mod_at) + 1);
  }
  ModConstraint c;
  c.coef = form.coef;
  c.offset = form.constant;
  c.modulus = m;
  c.op = *op;
  c.rhs = rhs.constant;
  return c;
}

std::string format_form(const std::vector<std::int64_t>& coef, const Alphabet& alphabet) {
  std::string out;
  for (int s = 0; s < alphabet.size(); ++s) {
    std::int64_t c = coef[s];
    if (!c) continue;
    std::string term = alphabet.name(s).size() == 1 &&
                               std::isalnum(static_cast<unsigned char>(alphabet.name(s)[0]))
                           ? "#" + alphabet.name(s)
                           : "#'" + alphabet.name(s) + "'";
    if (out.empty())
      out += c < 0 ? "-" : "";
    else
      out += c < 0 ? " - " : " + ";
    if (std::abs(c) != 1) out += std::to_string(std::abs(c));
    out += term;
  }
  return out.empty() ? "0" : out;
}

}  // namespace saturn
