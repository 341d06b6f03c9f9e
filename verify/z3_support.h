// Shared by verify's Z3 encodings (encode_net.cpp, encode_counts.cpp): a circuit's weights as
// exact rationals, rational constants as Z3 reals, solver timeouts.
#pragma once

#include <fmt/format.h>

#include <z3++.h>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "saturate/circuit.h"
#include "saturate/exact_eval.h"

namespace saturn::verify::detail {

using saturate::Rational;

// The circuit's weights as exact rationals, by tensor name.
struct Weights {
  explicit Weights(const saturate::Circuit& c) {
    const Rational denominator(boost::multiprecision::mpz_int(1) << c.denominator_bits);
    for (const auto& [name, t] : c.tensors) {
      auto& m = tensors[name];
      m.cols = t.shape.size() > 1 ? t.shape[1] : 1;
      for (long long x : t.numerators) m.w.push_back(Rational(x) / denominator);
    }
  }
  struct Matrix {
    int cols = 1;
    std::vector<Rational> w;
    const Rational& at(int r, int c) const { return w[static_cast<std::size_t>(r) * cols + c]; }
  };
  const Matrix* get(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
  const Matrix* layer(int l, const char* what) const {
    return get(fmt::format("layers.{}.{}", l, what));
  }
  std::map<std::string, Matrix> tensors;
};

inline z3::expr real(z3::context& ctx, const Rational& x) {
  return ctx.real_val(x.str().c_str());
}

// A solver timeout in seconds (0: none).
inline void set_timeout(z3::context& ctx, z3::solver& solver, double seconds) {
  if (seconds <= 0) return;
  z3::params p(ctx);
  p.set("timeout", static_cast<unsigned>(std::max(1.0, seconds * 1000)));
  solver.set(p);
}

// The word of a sat solver's model, made the least in symbol order among the words of this
// length that satisfy the query: position by position, the smallest symbol below the model's
// that keeps the query satisfiable is fixed (each check a push / pop). The search stops,
// keeping the word found so far (canonical = false), when a check is not decided or 90% of
// the query's timeout (counted from `start`) has passed: the whole query must answer before
// its deadline.
Word least_word(z3::solver& solver, const std::vector<std::vector<z3::expr>>& x, int length, int k,
                double timeout_seconds, std::chrono::steady_clock::time_point start,
                bool& canonical);

}  // namespace saturn::verify::detail
