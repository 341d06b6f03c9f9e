// The exact evaluator's arithmetics (exact_eval.cpp): one interface, three number types.
//   RationalArith:      GMP rationals; norms' square roots as intervals on a 2^-128 grid.
//   SmallRationalArith: the same over 64-bit rationals (overflow leaves it: Undecided).
//   DoubleArith:        double intervals rounded outward (TwoSum / fma per operation,
//                       midpoint-radius bounds after Rump for products).
// Each provides point, add, sub, scale, mul, square, divide, round, rsqrt, linear, dot, mean,
// zero, to_rational, check and an ExactRows map (rows interned by value).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "saturate/exact_eval.h"
#include "saturate/small_rational.h"

namespace saturn::saturate::detail {

using boost::multiprecision::mpz_int;

// ------------------------------------------------------------------ rational arithmetic

// Exact arithmetic over Num (GMP rationals, or small rationals), with norms' square roots as
// intervals on a 2^-128 grid (GMP only).
template <class NumT>
struct RationalArithT {
  using Num = NumT;
  using Iv = BasicInterval<Num>;
  static constexpr int kGridBits = 128;  // outward rounding grid of non-exact values

  static const mpz_int& grid() {
    static const mpz_int g = mpz_int(1) << kGridBits;
    return g;
  }
  static Iv point(const Num& x) { return {x, x}; }
  static Iv add(const Iv& a, const Iv& b) {
    if (a.exact() && b.exact()) return point(a.lo + b.lo);
    return {a.lo + b.lo, a.hi + b.hi};
  }
  static Iv sub(const Iv& a, const Iv& b) {
    if (a.exact() && b.exact()) return point(a.lo - b.lo);
    return {a.lo - b.hi, a.hi - b.lo};
  }
  static Iv scale(const Iv& a, const Num& w) {
    if (a.exact()) return point(a.lo * w);
    return w >= 0 ? Iv{a.lo * w, a.hi * w} : Iv{a.hi * w, a.lo * w};
  }
  static Iv mul(const Iv& a, const Iv& b) {
    if (b.exact()) return scale(a, b.lo);
    if (a.exact()) return scale(b, a.lo);
    const Num p[4] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
    return {*std::min_element(p, p + 4), *std::max_element(p, p + 4)};
  }
  static Iv square(const Iv& a) {
    if (a.exact()) return point(a.lo * a.lo);
    if (a.lo >= 0) return {a.lo * a.lo, a.hi * a.hi};
    if (a.hi <= 0) return {a.hi * a.hi, a.lo * a.lo};
    return {Num(0), std::max(a.lo * a.lo, a.hi * a.hi)};
  }
  static Iv divide(const Iv& a, long n) { return scale(a, Num(1, n)); }
  // Outward rounding to the 2^-kGridBits grid, keeping denominators bounded.
  static void round(Iv& a) {
    if (a.exact()) return;
    if constexpr (std::is_same_v<Num, Rational>) round_to_grid(a);
  }
  static void round_to_grid(BasicInterval<Rational>& a) {
    const Num lo = a.lo * grid(), hi = a.hi * grid();
    mpz_int l = numerator(lo) / denominator(lo), h = numerator(hi) / denominator(hi);
    if (Num(l) > lo) --l;
    if (Num(h) < hi) ++h;
    a.lo = Num(l, grid());
    a.hi = Num(h, grid());
  }
  // 1/sqrt over q (q.lo > 0): isqrt(floor(4^P / x)) / 2^P <= 1/sqrt(x) < (isqrt(...) + 1) / 2^P,
  // since sqrt(X) < isqrt(floor(X)) + 1.
  static Iv rsqrt(const Iv& q) {
    if constexpr (!std::is_same_v<Num, Rational>)
      throw Undecided{"small rationals: a norm needs a square root"};
    else
      return rsqrt_rational(q);
  }
  static Iv rsqrt_rational(const Iv& q) {
    if (q.exact())  // exact where 1/sqrt(q) is rational
      if (const auto r = rational_rsqrt(q.lo)) return point(*r);
    auto bounds = [](const Num& x) {
      const mpz_int X = (denominator(x) * grid() * grid()) / numerator(x);
      const mpz_int m = boost::multiprecision::sqrt(X);
      return std::pair<Num, Num>{Num(m, grid()), Num(m + 1, grid())};
    };
    return {bounds(q.hi).first, bounds(q.lo).second};
  }
  // out = W[row0 .. row0 + rows) x + b.
  static std::vector<Iv> linear(const std::vector<Iv>& x, const ExactEvaluator::Matrix<Num>& w,
                                const ExactEvaluator::Matrix<Num>* b, int row0, int rows) {
    const bool exact = std::all_of(x.begin(), x.end(), [](const Iv& v) { return v.exact(); });
    std::vector<Iv> out(rows);
    for (int r = 0; r < rows; ++r) {
      const Num* wr = w.w.data() + static_cast<std::size_t>(row0 + r) * w.cols;
      if (exact) {
        Num s = b ? b->w[row0 + r] : Num(0);
        for (int c = 0; c < w.cols; ++c)
          if (wr[c] != 0) s += wr[c] * x[c].lo;
        out[r] = point(s);
        continue;
      }
      Iv s = point(b ? b->w[row0 + r] : Num(0));
      for (int c = 0; c < w.cols; ++c)
        if (wr[c] != 0) s = add(s, scale(x[c], wr[c]));
      round(s);
      out[r] = s;
    }
    return out;
  }
  // a . b over n entries.
  static Iv dot(const Iv* a, const Iv* b, int n) {
    Iv d = point(Num(0));
    for (int e = 0; e < n; ++e) d = add(d, mul(a[e], b[e]));
    return d;
  }
  // out[0..width) = the mean of rows[r][0..width) over the rows.
  static void mean(const std::vector<const Iv*>& rows, int width, Iv* out) {
    for (int e = 0; e < width; ++e) {
      Iv sum = point(Num(0));
      for (const Iv* row : rows) sum = add(sum, row[e]);
      out[e] = divide(sum, static_cast<long>(rows.size()));
    }
  }
  static Num zero() { return Num(0); }
  static Rational to_rational(const Num& x) {
    if constexpr (std::is_same_v<Num, Rational>)
      return x;
    else
      return x.rational();
  }
  static void check(const Iv&) {}
  // Exact rows by value.
  using ExactRows = std::map<std::vector<Num>, int>;
};
using RationalArith = RationalArithT<Rational>;
using SmallRationalArith = RationalArithT<SmallRational>;

// A hash of a vector of 8-byte values by their bits (rows by value, selections of row ids).
template <class T>
struct WordsHash {
  static_assert(sizeof(T) == sizeof(std::uint64_t));
  std::size_t operator()(const std::vector<T>& v) const {
    std::size_t h = 0x9e3779b97f4a7c15ull;
    for (const T& x : v) {
      std::uint64_t bits;
      std::memcpy(&bits, &x, sizeof bits);
      h = (h ^ bits) * 0xbf58476d1ce4e5b9ull;
      h ^= h >> 31;
    }
    return h;
  }
};

// ------------------------------------------------------------------ double intervals

// The neighbouring doubles below / above a finite x (std::nextafter, without the call).
inline double up(double x) {
  if (x == 0) return 0x1p-1074;
  std::int64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits += x > 0 ? 1 : -1;
  std::memcpy(&x, &bits, sizeof bits);
  return x;
}
inline double down(double x) {
  return -up(-x);
}
// a + b rounded down / up: TwoSum gives the exact rounding error e (a + b = s + e).
inline double twosum_error(double a, double b, double s) {
  const double bb = s - a;
  return (a - (s - bb)) + (b - bb);
}
inline double add_down(double a, double b) {
  const double s = a + b;
  return twosum_error(a, b, s) < 0 ? down(s) : s;
}
inline double add_up(double a, double b) {
  const double s = a + b;
  return twosum_error(a, b, s) > 0 ? up(s) : s;
}
// a * b rounded down / up: fma gives the exact error unless the product underflows, which
// the caller excludes (see DoubleArith::check).
inline double mul_down(double a, double b) {
  const double p = a * b;
  return std::fma(a, b, -p) < 0 ? down(p) : p;
}
inline double mul_up(double a, double b) {
  const double p = a * b;
  return std::fma(a, b, -p) > 0 ? up(p) : p;
}

// Where an interval is already wide, exactness cannot be kept, so a rounded result is simply
// stepped one ulp outward (a neighbour of the round-to-nearest result brackets the exact one).
// A zero sum is exact; a zero product is exact when a factor is zero, else an underflow.
inline double sum_down(double a, double b) {
  const double s = a + b;
  return s == 0 ? 0.0 : down(s);
}
inline double sum_up(double a, double b) {
  const double s = a + b;
  return s == 0 ? 0.0 : up(s);
}
inline double product_down(double a, double b) {
  const double p = a * b;
  return p == 0 && (a == 0 || b == 0) ? 0.0 : down(p);
}
inline double product_up(double a, double b) {
  const double p = a * b;
  return p == 0 && (a == 0 || b == 0) ? 0.0 : up(p);
}

struct DoubleArith {
  using Num = double;
  using Iv = BasicInterval<double>;
  static Iv point(double x) { return {x, x}; }
  // Exact operands keep an exact result a point (TwoSum / fma); wide ones step outward.
  [[gnu::always_inline]] static Iv add(const Iv& a, const Iv& b) {
    if (a.exact() && b.exact()) return {add_down(a.lo, b.lo), add_up(a.hi, b.hi)};
    return {sum_down(a.lo, b.lo), sum_up(a.hi, b.hi)};
  }
  static Iv sub(const Iv& a, const Iv& b) { return add(a, Iv{-b.hi, -b.lo}); }
  static Iv scale(const Iv& a, double w) {
    if (a.exact())
      return w >= 0 ? Iv{mul_down(a.lo, w), mul_up(a.hi, w)}
                    : Iv{mul_down(a.hi, w), mul_up(a.lo, w)};
    return w >= 0 ? Iv{product_down(a.lo, w), product_up(a.hi, w)}
                  : Iv{product_down(a.hi, w), product_up(a.lo, w)};
  }
  // By the endpoints' signs, two directed products where the signs decide which (a 0 * x
  // endpoint product is exact, so a zero endpoint needs no case of its own). Both operands
  // are wide here, so the products step outward.
  static Iv mul(const Iv& a, const Iv& b) {
    if (b.exact()) return scale(a, b.lo);
    if (a.exact()) return scale(b, a.lo);
    constexpr auto mul_down = product_down;
    constexpr auto mul_up = product_up;
    if (b.lo >= 0) {
      if (a.lo >= 0) return {mul_down(a.lo, b.lo), mul_up(a.hi, b.hi)};
      if (a.hi <= 0) return {mul_down(a.lo, b.hi), mul_up(a.hi, b.lo)};
      return {mul_down(a.lo, b.hi), mul_up(a.hi, b.hi)};
    }
    if (b.hi <= 0) {
      if (a.lo >= 0) return {mul_down(a.hi, b.lo), mul_up(a.lo, b.hi)};
      if (a.hi <= 0) return {mul_down(a.hi, b.hi), mul_up(a.lo, b.lo)};
      return {mul_down(a.hi, b.lo), mul_up(a.lo, b.lo)};
    }
    if (a.lo >= 0) return {mul_down(a.hi, b.lo), mul_up(a.hi, b.hi)};
    if (a.hi <= 0) return {mul_down(a.lo, b.hi), mul_up(a.lo, b.lo)};
    return {std::min(mul_down(a.lo, b.hi), mul_down(a.hi, b.lo)),
            std::max(mul_up(a.lo, b.lo), mul_up(a.hi, b.hi))};
  }
  static Iv square(const Iv& a) {
    if (a.exact()) return scale(a, a.lo);
    constexpr auto mul_down = product_down;
    constexpr auto mul_up = product_up;
    if (a.lo >= 0) return {mul_down(a.lo, a.lo), mul_up(a.hi, a.hi)};
    if (a.hi <= 0) return {mul_down(a.hi, a.hi), mul_up(a.lo, a.lo)};
    return {0.0, std::max(mul_up(a.lo, a.lo), mul_up(a.hi, a.hi))};
  }
  static Iv divide(const Iv& a, long n) {
    const double d = static_cast<double>(n);
    auto q_down = [d](double x) {
      const double q = x / d;
      return std::fma(-q, d, x) < 0 ? down(q) : q;  // remainder < 0: q is above x / d
    };
    auto q_up = [d](double x) {
      const double q = x / d;
      return std::fma(-q, d, x) > 0 ? up(q) : q;
    };
    return {q_down(a.lo), q_up(a.hi)};
  }
  static void round(Iv&) {}

  // Midpoint-radius form (Rump 1999). x lies within mid(x) +- half_width(x) up to the one
  // rounding of the float difference (a factor 1 - u at most), which callers' inflations cover.
  static double mid(const Iv& x) { return x.lo + (x.hi - x.lo) / 2; }
  static double half_width(const Iv& x, double m) { return std::max(m - x.lo, x.hi - m); }
  // gamma_n = n u / (1 - n u): a float sum of n products is within gamma_n sum |terms|.
  static double gamma(int n) {
    constexpr double u = 0x1p-53;
    return n * u / (1 - n * u);
  }
  // s +- (radius + gamma_magnitude). That bound was computed in floats through `roundings`
  // operations, each losing at most a factor 1 - u, so it is inflated by
  // 1 + 2 roundings u >= (1 - u)^-roundings; the endpoints are stepped one ulp outward.
  static Iv enclose(double s, double radius, double gamma_magnitude, int roundings) {
    constexpr double u = 0x1p-53;
    const double rad = (radius + gamma_magnitude) * (1 + 2 * roundings * u) + 0x1p-1000;
    return {down(s - rad), up(s + rad)};
  }

  // out = W[row0 .. row0 + rows) x + b: with x inside m +- r, the float product s = W m + b is
  // within gamma_{n+1} (|W| |m| + |b|) of the exact one (any summation order), and W x within
  // |W| r of W m. Both bounds are taken coarser, as rowsum|W| max|m| and rowsum|W| max r, so
  // only W m is a matrix product; the bound goes through 4 roundings.
  static std::vector<Iv> linear(const std::vector<Iv>& x, const ExactEvaluator::Matrix<double>& w,
                                const ExactEvaluator::Matrix<double>* b, int row0, int rows) {
    const int n = w.cols;
    thread_local std::vector<double> m_buffer, s_buffer;  // no allocation per call
    m_buffer.resize(n), s_buffer.resize(rows);
    Eigen::Map<Eigen::VectorXd> m(m_buffer.data(), n), s(s_buffer.data(), rows);
    double max_m = 0, max_r = 0;
    for (int c = 0; c < n; ++c) {
      m[c] = mid(x[c]);
      max_r = std::max(max_r, half_width(x[c], m[c]));
      max_m = std::max(max_m, std::abs(m[c]));
    }
    using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const RowMajor> W(w.w.data() + static_cast<std::size_t>(row0) * n, rows, n);
    s.noalias() = W * m;
    const double g = gamma(n + 1);
    std::vector<Iv> out(rows);
    for (int i = 0; i < rows; ++i) {
      const double bias = b ? b->w[row0 + i] : 0.0, row_abs = w.row_abs[row0 + i];
      const double magnitude = row_abs * max_m + std::abs(bias), radius = row_abs * max_r;
      out[i] = magnitude == 0 && radius == 0 ? point(0.0)  // every product is an exact zero
                                             : enclose(s[i] + bias, radius, g * magnitude, 5);
    }
    return out;
  }
  // a . b over n entries: |a.b - ma.mb| <= |ma| rb + ra |mb| + ra rb, plus the float error of
  // ma.mb, gamma_{n+1} sum |ma||mb|; the bound goes through n + 7 roundings.
  static Iv dot(const Iv* a, const Iv* b, int n) {
    double s = 0, magnitude = 0, radius = 0;
    for (int e = 0; e < n; ++e) {
      const double ma = mid(a[e]), mb = mid(b[e]);
      const double ra = half_width(a[e], ma), rb = half_width(b[e], mb);
      s += ma * mb;
      magnitude += std::abs(ma * mb);
      radius += std::abs(ma) * rb + ra * std::abs(mb) + ra * rb;
    }
    if (magnitude == 0 && radius == 0) return point(0.0);
    return enclose(s, radius, gamma(n + 1) * magnitude, n + 8);
  }
  // out[0..width) = the mean of rows[r][0..width) over the rows (average-hard attention).
  // Where every term is exact they are summed with TwoSum, so an exact mean stays a point;
  // otherwise the float sum of n midpoints is within gamma_n sum |m| of the exact one, and the
  // bound goes through n + 5 roundings.
  static void mean(const std::vector<const Iv*>& rows, int width, Iv* out) {
    const int n = static_cast<int>(rows.size());
    thread_local std::vector<double> s, magnitude, radius;  // no allocation per call
    s.assign(width, 0.0), magnitude.assign(width, 0.0), radius.assign(width, 0.0);
    for (const Iv* row : rows)
      for (int e = 0; e < width; ++e) {
        const double m = mid(row[e]);
        s[e] += m;
        magnitude[e] += std::abs(m);
        radius[e] += half_width(row[e], m);
      }
    for (int e = 0; e < width; ++e) {
      if (radius[e] == 0) {
        Iv sum = point(0.0);
        for (const Iv* row : rows) sum = add(sum, row[e]);
        out[e] = divide(sum, n);
        continue;
      }
      out[e] = divide(enclose(s[e], radius[e], gamma(n) * magnitude[e], n + 5), n);
    }
  }
  // sqrt and division are correctly rounded (half an ulp each): two ulps outward enclose.
  static Iv rsqrt(const Iv& q) {
    return {down(down(1.0 / std::sqrt(q.hi))), up(up(1.0 / std::sqrt(q.lo)))};
  }
  static double zero() { return 0.0; }
  static Rational to_rational(double x) { return Rational(x); }
  // Non-finite values and values near the underflow range (where fma's error is not exact)
  // leave the fast path.
  static void check(const Iv& a) {
    for (double x : {a.lo, a.hi})
      if (!std::isfinite(x) || (x != 0 && std::abs(x) < 1e-280))
        throw Undecided{"fast path: out of double range"};
  }
  using ExactRows = std::unordered_map<std::vector<double>, int, WordsHash<double>>;
};

}  // namespace saturn::saturate::detail
