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

constexpr std::int64_t kMaxMagnitude = 1'000'000'000;

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
      int sign = t_[i_++] == '+' ? 1 : -1;
      add(acc, parse_term(), sign);
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

 private:
  void add(Affine& acc, const Affine& x, std::int64_t sign) {
    for (std::size_t s = 0; s < acc.coef.size(); ++s) acc.coef[s] += sign * x.coef[s];
    acc.constant += sign * x.constant;
  }

  // term := '-' term | factor ('*'? factor)*   (a product must have a constant side)
  Affine parse_term() {
    skip();
    if (i_ < t_.size() && t_[i_] == '-') {
      ++i_;
      Affine x = parse_term();
      for (auto& c : x.coef) c = -c;
      x.constant = -x.constant;
      return x;
    }
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
      for (auto& v : other.coef) v *= f;
      other.constant *= f;
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
      ++i_;
      x = parse_sum();
      skip();
      if (i_ >= t_.size() || t_[i_] != ')') fail("unbalanced '('", start);
      ++i_;
    } else {
      fail(fmt::format("unexpected '{}'", c), start);
    }
    return x;
  }

  std::string_view t_;
  const Alphabet& a_;
  std::size_t i_ = 0;
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
  for (int s = 0; s < alphabet.size(); ++s) c.coef[s] = lhs.coef[s] - rhs.coef[s];
  c.rhs = rhs.constant - lhs.constant;
  return c;
}

ModConstraint parse_mod_constraint(std::string_view text, const Alphabet& alphabet) {
  ExprParser p(text, alphabet);
  Affine form = p.parse_sum();
  p.skip();
  std::size_t mod_at = p.pos();
  if (p.at_end() || text[p.pos()] != '%') p.fail("expected '% m' after the linear form", mod_at);
  ExprParser rest(text.substr(mod_at + 1), alphabet);
  std::int64_t m = rest.parse_int();
  if (m < 1) p.fail("modulus must be at least 1", mod_at);
  auto op = rest.parse_op();
  if (!op) p.fail("expected a comparison after '% m'", mod_at + 1 + rest.pos());
  Affine rhs = rest.parse_sum();
  if (!rhs.is_constant()) p.fail("right side of a mod constraint must be a number", mod_at + 1);
  if (!rest.at_end()) p.fail("unexpected text after the expression", mod_at + 1 + rest.pos());
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
