// [nets]: sparsemax attention (Martins & Astudillo 2016) against its closed form on hand-picked
// rows, the simplex property, and its backward pass against finite differences.
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "gradcheck.h"
#include "nets/attention.h"
#include "nets/config.h"

using namespace saturn;
using namespace saturn::nets;
using test::dot;
using test::gradient_error;
using test::random_vector;

namespace {
std::vector<double> sparsemax(std::vector<double> z) {
  sparsemax_forward(z.data(), static_cast<int>(z.size()));
  return z;
}
}  // namespace

TEST_CASE("sparsemax: hand-picked rows match the closed form", "[nets]") {
  SECTION("a strict subset: z = (1/2, 0, -1/4, -1/2) keeps the first two, tau = -1/4") {
    // k = 2: 1 + 0 > 1/2, but k = 3: 1 - 3/4 = 1/4 is not > 1/4 (the third is on tau).
    const auto p = sparsemax({0.5, 0.0, -0.25, -0.5});
    CHECK(p == std::vector<double>{0.75, 0.25, 0.0, 0.0});
  }
  SECTION("ties share the weight equally") {
    const auto p = sparsemax({2.0, 2.0, 0.5});  // k = 2: tau = 3/2
    CHECK(p == std::vector<double>{0.5, 0.5, 0.0});
  }
  SECTION("one-hot limit: a gap >= 1 puts all weight on the maximum") {
    CHECK(sparsemax({-3.0, 7.0, 6.0}) == std::vector<double>{0.0, 1.0, 0.0});
    CHECK(sparsemax({5.0}) == std::vector<double>{1.0});
  }
  SECTION("uniform limit: equal scores, and scores close together (full support)") {
    for (double x : sparsemax({3.0, 3.0, 3.0, 3.0})) CHECK(x == 0.25);
    // z = (0.1, 0, -0.1): tau = (0 - 1) / 3, p = z + 1/3.
    const auto p = sparsemax({0.1, 0.0, -0.1});
    CHECK(p[0] == Approx(0.1 + 1.0 / 3).epsilon(1e-15));
    CHECK(p[1] == Approx(1.0 / 3).epsilon(1e-15));
    CHECK(p[2] == Approx(-0.1 + 1.0 / 3).epsilon(1e-15));
  }
}

TEST_CASE("sparsemax: rows lie on the simplex and minimise the distance to the scores", "[nets]") {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + trial % 9;
    const auto z = random_vector(n, rng, trial % 2 ? 3.0 : 0.3);
    const auto p = sparsemax(z);
    double sum = 0;
    for (double x : p) {
      CHECK(x >= 0.0);
      sum += x;
    }
    CHECK(sum == Approx(1.0).epsilon(1e-12));
    // The projection's optimality: no other point of the simplex (a random mix of p with a
    // vertex) is closer to z.
    auto distance = [&](const std::vector<double>& q) {
      double d = 0;
      for (int j = 0; j < n; ++j) d += (q[j] - z[j]) * (q[j] - z[j]);
      return d;
    };
    for (int v = 0; v < n; ++v) {
      std::vector<double> q = p;
      for (int j = 0; j < n; ++j) q[j] = 0.9 * p[j] + (j == v ? 0.1 : 0.0);
      CHECK(distance(p) <= distance(q) + 1e-12);
    }
  }
}

TEST_CASE("sparsemax attention: gradients match finite differences, masks and scale", "[nets]") {
  auto causal = GENERATE(false, true);
  auto keep_weights = GENERATE(false, true);
  std::mt19937 rng(7);
  const int B = 2, Tn = 5, C = 6, H = 2;
  const int lengths[] = {5, 3};  // the second sequence is padded
  AttentionSpec spec;
  spec.sparsemax = true;
  spec.causal = causal;
  spec.score_scale = 1.7;
  // Large scores: rows have strict-subset supports (the piecewise-linear kinks are crossed by
  // no finite difference at this seed: the check would fail if they were).
  auto qkv = random_vector(B * Tn * 3 * C, rng, 1.5);
  auto g = random_vector(B * Tn * C, rng);
  std::vector<double> out(B * Tn * C), att(B * H * Tn * Tn), dqkv(qkv.size(), 0);
  double* kept = keep_weights ? att.data() : nullptr;
  auto loss = [&] {
    attention_forward(out.data(), kept, qkv.data(), lengths, spec, B, Tn, C, H);
    return dot(out, g);
  };
  loss();
  attention_backward(dqkv.data(), g.data(), qkv.data(), kept, lengths, spec, B, Tn, C, H);
  CHECK(gradient_error(qkv, dqkv, loss) < 1e-6);
  // Some row has an exact zero weight on a visible key (sparsity), and every real row sums to 1.
  std::vector<double> w(B * H * Tn * Tn);
  attention_forward(out.data(), w.data(), qkv.data(), lengths, spec, B, Tn, C, H);
  int zeros = 0;
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < lengths[b]; ++i) {
        const double* row = w.data() + ((b * H + h) * Tn + i) * Tn;
        const int visible = causal ? i + 1 : lengths[b];
        double sum = 0;
        for (int j = 0; j < visible; ++j) sum += row[j], zeros += row[j] == 0.0;
        CHECK(sum == Approx(1.0).epsilon(1e-12));
      }
  CHECK(zeros > 0);
  // Padded rows: no output, no gradient.
  for (int t = lengths[1]; t < Tn; ++t)
    for (int c = 0; c < C; ++c) CHECK(out[(Tn + t) * C + c] == 0.0);
  for (int t = lengths[1]; t < Tn; ++t)
    for (int c = 0; c < 3 * C; ++c) CHECK(dqkv[(Tn + t) * 3 * C + c] == 0.0);
}

TEST_CASE("attention = \"sparsemax\" is a config value that round-trips", "[nets]") {
  ModelConfig c;
  c.set("attention", "sparsemax");
  CHECK(c.attention_sparsemax);
  CHECK_FALSE(c.attention_softmax);
  CHECK(c.to_map().at("attention") == "\"sparsemax\"");
  c.set("attention", "relu");
  CHECK_FALSE(c.attention_sparsemax);
  CHECK(c.to_map().at("attention") == "\"relu\"");
}
