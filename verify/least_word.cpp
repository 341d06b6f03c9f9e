#include <chrono>

#include "verify/z3_support.h"

namespace saturn::verify::detail {

Word least_word(z3::solver& solver, const std::vector<std::vector<z3::expr>>& x, int length, int k,
                double timeout_seconds, std::chrono::steady_clock::time_point start,
                bool& canonical) {
  auto word_of = [&](const z3::model& model) {
    Word w;
    for (int t = 0; t < length; ++t)
      for (int s = 0; s < k; ++s)
        if (model.eval(x[t][s], true).is_true()) {
          w.push_back(static_cast<Symbol>(s));
          break;
        }
    return w;
  };
  Word word = word_of(solver.get_model());
  canonical = true;
  for (int t = 0; t < length; ++t) {
    for (int s = 0; s < word[t]; ++s) {
      const double left =
          0.9 * timeout_seconds -
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (timeout_seconds > 0 && left <= 0) {
        canonical = false;
        return word;
      }
      if (timeout_seconds > 0) set_timeout(solver.ctx(), solver, left);
      solver.push();
      solver.add(x[t][s]);
      const auto r = solver.check();
      if (r == z3::sat) {
        word = word_of(solver.get_model());
        solver.pop();
        break;
      }
      solver.pop();
      if (r == z3::unknown) {
        canonical = false;
        return word;
      }
    }
    solver.add(x[t][word[t]]);
  }
  return word;
}

}  // namespace saturn::verify::detail
