// Exact reading of point files for `saturn keys --points` (verify/selectable.h). nlohmann's DOM
// keeps a JSON number only as a double, so the file is read with its SAX interface, which also
// hands over the number's text: 0.1 becomes 1/10, not the double nearest to it.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/budget.h"
#include "base/error.h"
#include "verify/selectable.h"

namespace saturn::verify {

namespace {

using boost::multiprecision::mpz_int;
constexpr long kMaxExponent = 4000;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Decimal digits as an integer. Leading zeros are dropped first: Boost reads "010" as octal and
// "0x10" as hexadecimal.
mpz_int decimal(std::string_view digits) {
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  return mpz_int{std::string(digits)};
}

mpz_int pow10(long e) {
  mpz_int r = 1;
  for (long i = 0; i < e; ++i) r *= 10;
  return r;
}

// The SAX handler: {"points": [[number | string, ...], ...]} and nothing else.
class PointsReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit PointsReader(std::string source) : source_(std::move(source)) {}
  PointSet points;

  bool null() override { return unexpected("null"); }
  bool boolean(bool) override { return unexpected("a boolean"); }
  bool number_integer(number_integer_t v) override { return coordinate(Rational(v)); }
  bool number_unsigned(number_unsigned_t v) override { return coordinate(Rational(v)); }
  bool number_float(number_float_t, const string_t& text) override {
    if (depth_ != 3) return unexpected("a number");
    return coordinate(parse_exact_number(text, where()));
  }
  bool string(string_t& text) override {
    if (depth_ != 3) return unexpected("a string");
    return coordinate(parse_exact_number(text, where()));
  }
  bool binary(binary_t&) override { return unexpected("binary data"); }
  bool start_object(std::size_t) override {
    if (depth_ != 0) return unexpected("an object");
    ++depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (k != "points") fail(fmt::format("unknown key \"{}\" (the only key is \"points\")", k));
    if (seen_points_) fail("\"points\" given twice");
    seen_points_ = true;
    return true;
  }
  bool end_object() override {
    if (!seen_points_) fail("missing \"points\"");
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 1) {
      depth_ = 2;
      return true;
    }
    if (depth_ != 2) return unexpected("an array");
    depth_ = 3;
    column_ = 0;
    return true;
  }
  bool end_array() override {
    if (depth_ == 3) {
      if (column_ == 0) fail("an empty point");
      if (points.d == 0) points.d = column_;
      if (column_ != points.d)
        fail(fmt::format("has {} coordinates, the first point has {}", column_, points.d));
      ++row_;
      depth_ = 2;
      return true;
    }
    if (row_ == 0) throw InputError(fmt::format("{}: no points", source_));
    depth_ = 1;
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& e) override {
    if (e.id == 406)  // nlohmann's number overflow
      throw InputError(fmt::format("{}: number {} out of range (exponents beyond +-{} are refused)",
                                   source_, last_token.substr(0, 40), kMaxExponent));
    std::string what = e.what();
    if (auto at = what.find("syntax error"); at != std::string::npos) what = what.substr(at);
    throw InputError(fmt::format("{}: not JSON at byte {}: {}", source_, position, what));
  }

 private:
  std::string where() const { return fmt::format("{}: points[{}][{}]", source_, row_, column_); }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(depth_ >= 2 ? fmt::format("{}: points[{}]: {}", source_, row_, what)
                                 : fmt::format("{}: {}", source_, what));
  }
  bool unexpected(const char* what) {
    if (depth_ == 3) throw InputError(fmt::format("{}: expected a number, got {}", where(), what));
    fail(fmt::format("expected {}, got {}",
                     depth_ == 0   ? "an object {\"points\": [...]}"
                     : depth_ == 1 ? "an array of points"
                                   : "a point (an array of numbers)",
                     what));
  }
  bool coordinate(Rational x) {
    if (depth_ != 3) return unexpected("a number");
    const double a = x.convert_to<double>();
    if (x != 0 && !(std::fabs(a) >= 1e-280 && std::fabs(a) <= 1e280))
      throw InputError(
          fmt::format("{}: magnitude outside [1e-280, 1e280] (saturn keys decides "
                      "coordinates of 0 or within that range)",
                      where()));
    if (points.d != 0 && column_ >= points.d)
      fail(fmt::format("has more than {} coordinates, like the first point", points.d));
    points.coords.push_back(std::move(x));
    ++column_;
    return true;
  }

  std::string source_;
  int depth_ = 0, column_ = 0;
  std::size_t row_ = 0;
  bool seen_points_ = false;
};

}  // namespace

Rational parse_exact_number(std::string_view text, const std::string& where) {
  const auto bad = [&]() -> InputError {
    return InputError(fmt::format("{}: expected a decimal or p/q, got \"{}\"", where,
                                  text.substr(0, std::min<std::size_t>(text.size(), 40))));
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) negative = s[0] == '-', s.remove_prefix(1);
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    const std::string_view p = s.substr(0, slash), q = s.substr(slash + 1);
    if (!all_digits(p) || !all_digits(q)) throw bad();
    const mpz_int den = decimal(q);
    if (den == 0) throw InputError(fmt::format("{}: \"{}\" divides by zero", where, text));
    Rational r{decimal(p), den};
    return negative ? Rational(-r) : r;
  }
  long exponent = 0;
  if (auto e = s.find_first_of("eE"); e != std::string_view::npos) {
    std::string_view ex = s.substr(e + 1);
    s = s.substr(0, e);
    bool neg_e = false;
    if (!ex.empty() && (ex[0] == '-' || ex[0] == '+')) neg_e = ex[0] == '-', ex.remove_prefix(1);
    if (!all_digits(ex)) throw bad();
    if (ex.size() > 5)
      throw InputError(
          fmt::format("{}: exponent of \"{}\" beyond +-{}", where, text, kMaxExponent));
    exponent = std::stol(std::string(ex));
    if (neg_e) exponent = -exponent;
  }
  std::string digits;
  if (auto dot = s.find('.'); dot != std::string_view::npos) {
    const std::string_view whole = s.substr(0, dot), frac = s.substr(dot + 1);
    if ((!whole.empty() && !all_digits(whole)) || (!frac.empty() && !all_digits(frac)) ||
        (whole.empty() && frac.empty()))
      throw bad();
    digits = std::string(whole) + std::string(frac);
    exponent -= static_cast<long>(frac.size());
  } else {
    if (!all_digits(s)) throw bad();
    digits = std::string(s);
  }
  if (exponent > kMaxExponent || exponent < -kMaxExponent - static_cast<long>(digits.size()))
    throw InputError(fmt::format("{}: exponent of \"{}\" beyond +-{}", where, text, kMaxExponent));
  Rational r{decimal(digits)};
  r = exponent >= 0 ? Rational(r * pow10(exponent)) : Rational(r / pow10(-exponent));
  return negative ? Rational(-r) : r;
}

PointSet read_points(std::string_view text, const std::string& source) {
  // At most one coordinate per two bytes of text; each a GMP rational of about 64 bytes.
  require_memory(static_cast<double>(text.size()) * 32, "--points", "reading the points");
  PointsReader reader(source);
  nlohmann::json::sax_parse(text, &reader);
  if (reader.points.size() == 0) throw InputError(fmt::format("{}: no points", source));
  return std::move(reader.points);
}

}  // namespace saturn::verify
