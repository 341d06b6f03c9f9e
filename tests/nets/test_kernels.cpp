// Every kernel's backward against central finite differences (double precision), and the
// norm variants against their definitions (Brody et al. 2023).
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "gradcheck.h"
#include "nets/attention.h"
#include "nets/embedding.h"
#include "nets/linear.h"
#include "nets/loss.h"
#include "nets/norm.h"

using namespace saturn;
using namespace saturn::nets;
using test::dot;
using test::gradient_error;
using test::random_vector;

constexpr double kTolerance = 1e-6;

TEST_CASE("linear: gradients match finite differences", "[nets]") {
  std::mt19937 rng(1);
  const int N = 5, C = 4, OC = 3;
  auto x = random_vector(N * C, rng), w = random_vector(OC * C, rng), b = random_vector(OC, rng);
  auto g = random_vector(N * OC, rng);
  std::vector<double> out(N * OC), dx(N * C, 0), dw(OC * C, 0), db(OC, 0);
  auto loss = [&] {
    linear_forward(out.data(), x.data(), w.data(), b.data(), N, C, OC);
    return dot(out, g);
  };
  loss();
  linear_backward(dx.data(), dw.data(), db.data(), g.data(), x.data(), w.data(), N, C, OC);
  CHECK(gradient_error(x, dx, loss) < kTolerance);
  CHECK(gradient_error(w, dw, loss) < kTolerance);
  CHECK(gradient_error(b, db, loss) < kTolerance);
}

TEST_CASE("norms: gradients match finite differences", "[nets]") {
  auto kind = GENERATE(NormKind::layernorm, NormKind::projection, NormKind::scale, NormKind::rms,
                       NormKind::none);
  auto affine = GENERATE(false, true);
  auto eps = GENERATE(0.0, 1e-3);
  INFO(to_string(kind) << " affine=" << affine << " eps=" << eps);
  std::mt19937 rng(2);
  const int N = 4, C = 6;
  auto x = random_vector(N * C, rng), gain = random_vector(C, rng), bias = random_vector(C, rng);
  auto g = random_vector(N * C, rng);
  std::vector<double> out(N * C), mean(N), rstd(N), dx(N * C, 0), dgain(C, 0), dbias(C, 0);
  const double* gp = affine ? gain.data() : nullptr;
  const double* bp = affine ? bias.data() : nullptr;
  auto loss = [&] {
    norm_forward(out.data(), mean.data(), rstd.data(), x.data(), gp, bp, kind, eps, N, C);
    return dot(out, g);
  };
  loss();
  norm_backward(dx.data(), affine ? dgain.data() : nullptr, affine ? dbias.data() : nullptr,
                g.data(), x.data(), mean.data(), rstd.data(), gp, kind, N, C);
  CHECK(gradient_error(x, dx, loss) < kTolerance);
  if (affine) {
    CHECK(gradient_error(gain, dgain, loss) < kTolerance);
    CHECK(gradient_error(bias, dbias, loss) < kTolerance);
  }
}

TEST_CASE("norm variants meet their definitions (eps = 0, no affine)", "[nets]") {
  std::mt19937 rng(3);
  const int N = 8, C = 16;
  auto x = random_vector(N * C, rng, 3.0);
  for (auto& v : x) v += 2.0;  // inputs far from orthogonal to 1
  std::vector<double> out(N * C), mean(N), rstd(N);
  auto row_stats = [&](int n) {
    double sum = 0, sq = 0, sum_in = 0, sq_proj = 0;
    for (int c = 0; c < C; ++c) sum_in += x[n * C + c];
    for (int c = 0; c < C; ++c) {
      sum += out[n * C + c];
      sq += out[n * C + c] * out[n * C + c];
      double p = x[n * C + c] - sum_in / C;
      sq_proj += p * p;
    }
    return std::tuple{sum, std::sqrt(sq), std::sqrt(sq_proj)};
  };
  norm_forward(out.data(), mean.data(), rstd.data(), x.data(), static_cast<const double*>(nullptr),
               static_cast<const double*>(nullptr), NormKind::layernorm, 0.0, N, C);
  for (int n = 0; n < N; ++n) {
    auto [sum, norm, _] = row_stats(n);
    CHECK(std::abs(sum) < 1e-9);
    CHECK(norm == Approx(std::sqrt(C)).epsilon(1e-12));
  }
  norm_forward(out.data(), mean.data(), rstd.data(), x.data(), static_cast<const double*>(nullptr),
               static_cast<const double*>(nullptr), NormKind::projection, 0.0, N, C);
  for (int n = 0; n < N; ++n) {
    auto [sum, norm, projected] = row_stats(n);
    CHECK(std::abs(sum) < 1e-9);  // orthogonal to 1
    CHECK(norm == Approx(projected).epsilon(1e-12));
  }
  std::vector<double> rms(N * C);
  norm_forward(out.data(), mean.data(), rstd.data(), x.data(), static_cast<const double*>(nullptr),
               static_cast<const double*>(nullptr), NormKind::scale, 0.0, N, C);
  norm_forward(rms.data(), mean.data(), rstd.data(), x.data(), static_cast<const double*>(nullptr),
               static_cast<const double*>(nullptr), NormKind::rms, 0.0, N, C);
  for (int n = 0; n < N; ++n) {
    auto [sum, norm, _] = row_stats(n);
    CHECK(norm == Approx(std::sqrt(C)).epsilon(1e-12));
    CHECK(std::abs(sum) > 1e-3);  // no centring
  }
  for (int i = 0; i < N * C; ++i) CHECK(rms[i] == Approx(out[i]).epsilon(1e-12));
}

TEST_CASE("attention: gradients match finite differences, softmax and pointwise, masks", "[nets]") {
  auto [softmax, kind] =
      GENERATE(std::pair{true, Activation::identity}, std::pair{false, Activation::relu},
               std::pair{false, Activation::relu2}, std::pair{false, Activation::gelu},
               std::pair{false, Activation::softplus}, std::pair{false, Activation::identity},
               std::pair{false, Activation::relu6}, std::pair{false, Activation::sigmoid});
  auto causal = GENERATE(false, true);
  // Weights kept from forward, recomputed in backward, or one query row per sequence.
  enum Mode { kept, recomputed, one_query };
  auto mode = GENERATE(kept, recomputed, one_query);
  INFO((softmax ? "softmax" : to_string(kind)) << " causal=" << causal << " mode=" << mode);
  std::mt19937 rng(4);
  const int B = 2, Tn = 5, C = 6, H = 2;
  const int lengths[] = {5, 3};  // the second sequence is padded
  const int query_pos[] = {2, 0};
  const int* qp = mode == one_query ? query_pos : nullptr;
  const int rows = mode == one_query ? 1 : Tn;
  AttentionSpec spec{softmax, kind, 0.7, causal};
  auto qkv = random_vector(B * Tn * 3 * C, rng, 1.5);
  auto g = random_vector(B * rows * C, rng);
  std::vector<double> out(B * rows * C), att(B * H * rows * Tn), dqkv(qkv.size(), 0);
  double* kept_att = mode == kept ? att.data() : nullptr;
  auto loss = [&] {
    attention_forward(out.data(), kept_att, qkv.data(), lengths, spec, B, Tn, C, H, qp);
    return dot(out, g);
  };
  loss();
  attention_backward(dqkv.data(), g.data(), qkv.data(), kept_att, lengths, spec, B, Tn, C, H, qp);
  CHECK(gradient_error(qkv, dqkv, loss) < kTolerance);
  // Padded rows: no output, no gradient.
  if (mode != one_query)
    for (int t = lengths[1]; t < Tn; ++t)
      for (int c = 0; c < C; ++c) CHECK(out[(Tn + t) * C + c] == 0.0);
  for (int t = lengths[1]; t < Tn; ++t)
    for (int c = 0; c < 3 * C; ++c) CHECK(dqkv[(Tn + t) * 3 * C + c] == 0.0);
  if (mode == one_query) {
    // The one-query output is that row of the full output.
    std::vector<double> full(B * Tn * C);
    attention_forward(full.data(), static_cast<double*>(nullptr), qkv.data(), lengths, spec, B, Tn,
                      C, H);
    for (int b = 0; b < B; ++b)
      for (int c = 0; c < C; ++c)
        CHECK(out[b * C + c] == Approx(full[(b * Tn + query_pos[b]) * C + c]).epsilon(1e-12));
  }
}

TEST_CASE("attention: a sequence alone and inside a padded batch give identical outputs",
          "[nets]") {
  std::mt19937 rng(5);
  const int C = 8, H = 2, L = 4, Tpad = 7;
  auto alone = random_vector(L * 3 * C, rng);
  std::vector<float> qkv_alone(alone.begin(), alone.end()), qkv_batch(2 * Tpad * 3 * C, 0.0f);
  std::copy(qkv_alone.begin(), qkv_alone.end(),
            qkv_batch.begin() + Tpad * 3 * C);  // second in the batch
  for (int i = 0; i < Tpad * 3 * C; ++i) qkv_batch[i] = 0.25f * static_cast<float>(i % 7);
  for (int i = L * 3 * C; i < Tpad * 3 * C; ++i)
    qkv_batch[Tpad * 3 * C + i] = 99.0f;  // garbage in the padding
  for (bool softmax : {true, false}) {
    AttentionSpec spec{softmax, Activation::relu, 1.0, false};
    std::vector<float> out1(L * C), att1(H * L * L), out2(2 * Tpad * C), att2(2 * H * Tpad * Tpad);
    const int len1[] = {L}, len2[] = {Tpad, L};
    attention_forward(out1.data(), att1.data(), qkv_alone.data(), len1, spec, 1, L, C, H);
    attention_forward(out2.data(), att2.data(), qkv_batch.data(), len2, spec, 2, Tpad, C, H);
    for (int t = 0; t < L; ++t)
      for (int c = 0; c < C; ++c)
        CHECK(out1[t * C + c] == out2[(Tpad + t) * C + c]);  // bit-identical
  }
}

TEST_CASE("activations: gradients match finite differences", "[nets]") {
  auto kind = GENERATE(Activation::relu, Activation::relu2, Activation::gelu, Activation::softplus,
                       Activation::identity, Activation::relu6, Activation::sigmoid);
  INFO(to_string(kind));
  std::mt19937 rng(6);
  auto x = random_vector(40, rng, 4.0), g = random_vector(40, rng);
  std::vector<double> out(40), dx(40, 0);
  auto loss = [&] {
    activation_forward(out.data(), x.data(), kind, 40);
    return dot(out, g);
  };
  loss();
  activation_backward(dx.data(), g.data(), x.data(), kind, 40);
  CHECK(gradient_error(x, dx, loss) < kTolerance);
}

TEST_CASE("embeddings and positions: gradients match finite differences", "[nets]") {
  auto kind =
      GENERATE(Positional::none, Positional::sinusoidal, Positional::learned, Positional::fraction);
  INFO(to_string(kind));
  std::mt19937 rng(7);
  const int B = 2, Tn = 4, C = 6, V = 5;
  const int tokens[] = {0, 3, 3, 1, 2, 4, 0, 0};
  const int lengths[] = {4, 2};
  auto wte = random_vector(V * C, rng);
  auto pos = random_vector(kind == Positional::fraction ? C : Tn * C, rng);
  auto g = random_vector(B * Tn * C, rng);
  std::vector<double> out(B * Tn * C), dwte(wte.size(), 0), dpos(pos.size(), 0);
  auto loss = [&] {
    embedding_forward(out.data(), tokens, lengths, wte.data(), pos.data(), kind, B, Tn, C);
    return dot(out, g);
  };
  loss();
  embedding_backward(dwte.data(), dpos.data(), g.data(), tokens, lengths, kind, B, Tn, C);
  CHECK(gradient_error(wte, dwte, loss) < kTolerance);
  if (kind == Positional::learned || kind == Positional::fraction)
    CHECK(gradient_error(pos, dpos, loss) < kTolerance);
}

TEST_CASE("binary cross-entropy: value and gradient, with a mask", "[nets]") {
  std::mt19937 rng(8);
  auto z = random_vector(10, rng, 3.0);
  std::vector<double> y = {1, 0, 1, 1, 0, 0, 1, 0, 1, 0}, mask = {1, 1, 0, 1, 1, 1, 0, 1, 1, 1},
                      dz(10, 0);
  auto loss = [&] { return bce_forward(z.data(), y.data(), mask.data(), 10L); };
  bce_backward(dz.data(), z.data(), y.data(), mask.data(), 10L);
  CHECK(gradient_error(z, dz, loss) < kTolerance);
  CHECK(dz[2] == 0.0);
  const double zero = 0.0, one = 1.0;
  CHECK(bce_forward(&zero, &one, (const double*)nullptr, 1L) == Approx(std::log(2.0)));
}

TEST_CASE("linear: products split among threads match a double reference, run after run",
          "[nets]") {
  // Large enough that 2 threads split the rows (and dweight's rows) into 2 blocks of 2^18+
  // multiply-adds each; N odd so the blocks differ in size.
  const int N = 301, C = 48, OC = 40;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(N * C), w(OC * C), b(OC), g(N * OC);
  for (auto* v : {&x, &w, &b, &g})
    for (float& e : *v) e = u(rng);
  // Reference in double: out = x w^T + b, dx = g w, dw = g^T x.
  std::vector<double> out_ref(N * OC), dx_ref(N * C, 0), dw_ref(OC * C, 0);
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < OC; ++o) {
      double s = b[o];
      for (int c = 0; c < C; ++c) s += double(x[n * C + c]) * w[o * C + c];
      out_ref[n * OC + o] = s;
      for (int c = 0; c < C; ++c) {
        dx_ref[n * C + c] += double(g[n * OC + o]) * w[o * C + c];
        dw_ref[o * C + c] += double(g[n * OC + o]) * x[n * C + c];
      }
    }
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    INFO("threads " << threads);
    omp_set_num_threads(threads);
    std::vector<std::vector<float>> runs;
    for (int run = 0; run < 2; ++run) {
      std::vector<float> out(N * OC), dx(N * C, 0), dw(OC * C, 0), db(OC, 0);
      linear_forward(out.data(), x.data(), w.data(), b.data(), N, C, OC);
      linear_backward(dx.data(), dw.data(), db.data(), g.data(), x.data(), w.data(), N, C, OC);
      for (int i = 0; i < N * OC; ++i) REQUIRE(std::abs(out[i] - out_ref[i]) < 1e-4);
      for (int i = 0; i < N * C; ++i) REQUIRE(std::abs(dx[i] - dx_ref[i]) < 1e-4);
      for (int i = 0; i < OC * C; ++i) REQUIRE(std::abs(dw[i] - dw_ref[i]) < 1e-3);
      out.insert(out.end(), dx.begin(), dx.end());
      out.insert(out.end(), dw.begin(), dw.end());
      runs.push_back(out);
    }
    CHECK(runs[0] == runs[1]);  // bit for bit
  }
  omp_set_num_threads(saved);
}
