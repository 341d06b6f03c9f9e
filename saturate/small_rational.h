// Internals of the exact evaluator (exact_eval.cpp): 64-bit rationals for its middle tier.
#pragma once

#include <boost/multiprecision/gmp.hpp>
#include <cmath>
#include <compare>
#include <concepts>
#include <numeric>
#include <string>

namespace saturn::saturate::detail {

// The evaluation of one word failed to decide something.
struct Undecided {
  std::string reason;
};

// p/q in 64-bit integers, normalised (q > 0, gcd 1). Any overflow leaves this arithmetic for
// GMP's (Undecided), so results are exact or absent. Norm layers (square roots) are absent too.
class SmallRational {
 public:
  SmallRational() = default;
  template <std::integral I>
  SmallRational(I p) : p_(static_cast<long long>(p)) {}  // NOLINT: integers convert implicitly
  SmallRational(long long p, long long q) : p_(p), q_(q) {
    if (q_ == 0) throw Undecided{"small rationals: division by zero"};
    normalise();
  }
  explicit SmallRational(double x) {
    // Dyadic doubles only (weights, eps): x = m 2^e exactly.
    int e;
    const double m = std::frexp(x, &e);
    const long long mant = static_cast<long long>(std::ldexp(m, 53));
    e -= 53;
    if (e >= 0 || e < -62) {
      if (e >= 0 && e < 10) {
        p_ = checked_mul(mant, 1LL << e), q_ = 1;
        normalise();
        return;
      }
      if (x != 0) throw Undecided{"small rationals: out of range"};
    }
    p_ = x == 0 ? 0 : mant, q_ = x == 0 ? 1 : (1LL << (-e));
    normalise();
  }
  friend SmallRational operator+(const SmallRational& a, const SmallRational& b) {
    const long long g = std::gcd(a.q_, b.q_);
    return {checked_add(checked_mul(a.p_, b.q_ / g), checked_mul(b.p_, a.q_ / g)),
            checked_mul(a.q_, b.q_ / g)};
  }
  friend SmallRational operator-(const SmallRational& a, const SmallRational& b) {
    return a + SmallRational(-b.p_, b.q_);
  }
  friend SmallRational operator*(const SmallRational& a, const SmallRational& b) {
    const long long g1 = std::gcd(a.p_, b.q_), g2 = std::gcd(b.p_, a.q_);
    return {checked_mul(a.p_ / std::max(1LL, g1), b.p_ / std::max(1LL, g2)),
            checked_mul(a.q_ / std::max(1LL, g2), b.q_ / std::max(1LL, g1))};
  }
  SmallRational& operator+=(const SmallRational& o) { return *this = *this + o; }
  friend bool operator==(const SmallRational& a, const SmallRational& b) {
    return a.p_ == b.p_ && a.q_ == b.q_;
  }
  friend auto operator<=>(const SmallRational& a, const SmallRational& b) {
    return static_cast<__int128>(a.p_) * b.q_ <=> static_cast<__int128>(b.p_) * a.q_;
  }
  friend bool operator==(const SmallRational& a, int b) { return a.p_ == b && a.q_ == 1; }
  friend auto operator<=>(const SmallRational& a, int b) {
    return a.p_ <=> static_cast<__int128>(b) * a.q_;
  }
  boost::multiprecision::mpq_rational rational() const {
    return boost::multiprecision::mpq_rational(p_, q_);
  }

 private:
  static long long checked_mul(long long a, long long b) {
    long long r;
    if (__builtin_mul_overflow(a, b, &r)) throw Undecided{"small rationals: overflow"};
    return r;
  }
  static long long checked_add(long long a, long long b) {
    long long r;
    if (__builtin_add_overflow(a, b, &r)) throw Undecided{"small rationals: overflow"};
    return r;
  }
  void normalise() {
    if (q_ < 0) p_ = -p_, q_ = -q_;
    const long long g = std::gcd(p_, q_);
    if (g > 1) p_ /= g, q_ /= g;
  }
  long long p_ = 0, q_ = 1;
};

}  // namespace saturn::saturate::detail
