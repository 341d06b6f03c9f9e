// [theory]: FFN key-value memories (saturate/memories.h) on a hand-set model whose triggers
// and values are known, and the quick brody and geva suites end to end.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lang/builtin.h"
#include "nets/model.h"
#include "saturate/memories.h"
#include "support/run_saturn.h"

using namespace saturn;

namespace {

// A 1-layer next-symbol model of dyck-1 with no norm, zero attention and no positions: the FFN
// reads the token embedding e_token. Unit 0 fires (coefficient 1) on '(' and its value scores
// ')'; unit 1 fires on ')' and its value scores '('; unit 2 never fires.
nets::Checkpoint hand_set_model() {
  nets::Checkpoint c;
  auto& m = c.config.model;
  m.d_model = 4, m.n_heads = 1, m.n_layers = 1, m.d_ff = 3;
  m.norm_position = nets::NormPosition::none;
  m.positional = nets::Positional::none;
  m.objective = nets::Objective::next_symbol;
  m.causal = true;
  m.bias = false;
  m.max_length = 32;
  c.config.train.train_lengths = "0:12";
  c.num_symbols = 2;  // '(' = 0, ')' = 1, BOS = 2, EOS = 3
  nets::Transformer<float> model(m, 2);
  std::fill(model.params.begin(), model.params.end(), 0.0f);
  float* wte = model.param("embed.wte");
  for (int t = 0; t < 4; ++t) wte[t * 4 + t] = 1;
  float* w1 = model.param("layers.0.ffn.w1");  // (F, C)
  w1[0 * 4 + 0] = 1;                           // unit 0 <- '('
  w1[1 * 4 + 1] = 1;                           // unit 1 <- ')'
  w1[2 * 4 + 3] = 1;                           // unit 2 <- EOS (never a prefix position)
  float* w2 = model.param("layers.0.ffn.w2");  // (C, F): value i = column i
  w2[1 * 3 + 0] = 1;                           // value 0 = e_1
  w2[0 * 3 + 1] = 1;                           // value 1 = e_0
  float* head = model.param("head.w");         // (3, C): outputs '(' ')' end
  for (int o = 0; o < 3; ++o) head[o * 4 + o] = 1;
  c.params.assign(model.params.begin(), model.params.end());
  return c;
}

}  // namespace

TEST_CASE("memories: a hand-set FFN's triggers, values and agreement are the known ones",
          "[theory]") {
  const nets::Checkpoint c = hand_set_model();
  Sampler sampler(resolve_language("dyck-1"));
  auto probes = saturate::memory_probes(sampler, true, 0, 8, 100, 12, 0);
  REQUIRE(probes.size() == 1 + 1 + 2 + 5 + 14);  // Catalan numbers: every word of length <= 8
  const int K = 5;
  const auto r = saturate::ffn_memories(c, probes, K);
  REQUIRE(r.memories.size() == 3);
  const auto& m0 = r.memories[0];
  const auto& m1 = r.memories[1];
  CHECK(m0.prediction == 1);  // ')'
  CHECK(m1.prediction == 0);  // '('
  CHECK(m0.active);
  CHECK(m1.active);
  CHECK_FALSE(r.memories[2].active);
  CHECK(m0.same_last);
  CHECK(m1.same_last);
  // Every trigger of unit 0 ends in '(' with coefficient 1, and ')' may follow it: agreement 1.
  for (const auto& t : m0.triggers) {
    const Word& w = r.probes[t.word].word;
    REQUIRE(t.length >= 1);
    CHECK(w[t.length - 1] == 0);
    CHECK(t.coefficient == Approx(1.0));
    CHECK(t.agrees);
  }
  CHECK(m0.agreement == 1.0);
  // Unit 1's triggers end in ')'; '(' may follow when the prefix can still be closed within
  // the target length 12: |prefix| + 1 + (depth + 1) <= 12.
  int agree = 0;
  for (const auto& t : m1.triggers) {
    const Word& w = r.probes[t.word].word;
    REQUIRE(t.length >= 1);
    CHECK(w[t.length - 1] == 1);
    int depth = 0;
    for (int i = 0; i < t.length; ++i) depth += w[i] == 0 ? 1 : -1;
    const bool legal = t.length + 1 + depth + 1 <= 12;
    CHECK(t.agrees == legal);
    agree += legal;
  }
  CHECK(m1.agreement == Approx(static_cast<double>(agree) / K));
  // The layer: the mean over the two active keys, and the exact chance over their triggers.
  double chance = 0;
  for (const auto* m : {&m0, &m1})
    for (const auto& t : m->triggers) {
      const auto& next = r.probes[t.word].next;
      const int legal =
          static_cast<int>(next->next[t.length].size()) + (next->prefix_accepted[t.length] ? 1 : 0);
      chance += legal / 3.0 / K / 2;
    }
  REQUIRE(r.layers.size() == 1);
  CHECK(r.layers[0].active == 2);
  CHECK(r.layers[0].agreement == Approx((m0.agreement + m1.agreement) / 2));
  CHECK(r.layers[0].chance == Approx(chance));
  // The permutation baseline by brute force: the mean over both ways to give the two active
  // keys the two values (the identity, and the swap, where each key predicts the other's output).
  auto agreement_of = [&](const saturate::Memory& m, int output) {
    double n = 0;
    for (const auto& t : m.triggers) {
      const auto& next = r.probes[t.word].next;
      const auto& legal = next->next[t.length];
      n += output == 2 ? next->prefix_accepted[t.length]
                       : std::find(legal.begin(), legal.end(), output) != legal.end();
    }
    return n / K;
  };
  const double identity = (m0.agreement + m1.agreement) / 2;
  const double swapped = (agreement_of(m0, m1.prediction) + agreement_of(m1, m0.prediction)) / 2;
  CHECK(identity > swapped);  // the hand-set values fit their own keys
  CHECK(r.layers[0].permuted == Approx((identity + swapped) / 2));
  CHECK(r.layers[0].permuted <= r.layers[0].best_constant + 1e-12);
}

TEST_CASE("theory: the quick brody and geva suites decide the exact facts", "[theory]") {
  const auto dir = test::scratch_dir("brody-geva");
  const auto r = test::run_saturn(
      fmt::format("theory --suite brody,geva --scale quick --out {} --json", dir.string()));
  INFO(r.err);
  REQUIRE((r.code == 0 || r.code == 1));
  const auto j = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> claims;
  bool all_hold = true;
  for (const auto& c : j["claims"]) {
    claims[c["id"]] = c;
    all_hold = all_hold && c["verdict"] == "holds";
  }
  CHECK(r.code == (all_hold ? 0 : 1));
  REQUIRE(claims.size() == 7);
  // Exact: no key of a scaled model is un-selectable, and the random points' exact facts hold.
  const auto& scaling = claims["brody.scaling"]["numbers"];
  CHECK(scaling["layernorm"]["unselectable"] == 0);
  CHECK(scaling["scale"]["unselectable"] == 0);
  CHECK(scaling["layernorm"]["keys"].get<int>() > 1000);
  CHECK(claims["brody.random-points"]["verdict"] == "holds");
  for (const auto& row : claims["brody.random-points"]["numbers"]["grid"]) {
    CHECK(row["scaled_unselectable"] == 0);
    if (row["n"].get<int>() <= row["d"].get<int>() + 1) CHECK(row["fraction"] == 0.0);
  }
  // Every brody claim carries its quote, least effect and a per-seed table.
  for (const char* id : {"brody.scaling", "brody.random-points", "brody.projection-majority",
                         "brody.uniform-query"}) {
    INFO(id);
    CHECK(!claims[id]["quote"].get<std::string>().empty());
    CHECK(!claims[id]["min_effect"].get<std::string>().empty());
    CHECK(!claims[id]["per_seed"]["rows"].empty());
    CHECK(!claims[id]["effects"].empty());
  }
  // The majority-of-20 models: 10 paired seeds, and attention at init not uniform for free.
  const auto& uniform = claims["brody.uniform-query"]["numbers"];
  CHECK(claims["brody.projection-majority"]["per_seed"]["rows"].size() == 10);
  for (const char* norm : {"layernorm", "scale"}) {
    REQUIRE(uniform[norm]["entropy_at_init"].size() == 10);
    for (const auto& e : uniform[norm]["entropy_at_init"]) CHECK(e.get<double>() < 0.95);
    for (const auto& e : uniform[norm]["entropy"]) CHECK(e.get<double>() < 1.0 + 1e-6);
  }
  for (const char* id : {"geva.agreement", "geva.depth", "geva.shallow-patterns"}) {
    REQUIRE(claims.count(id) == 1);
    CHECK(!claims[id]["quote"].get<std::string>().empty());
    CHECK(!claims[id]["min_effect"].get<std::string>().empty());
    // Next-symbol models and recognisers of dyck-1 and majority, 5 seeds each.
    CHECK(claims[id]["per_seed"]["rows"].size() == 20);
    CHECK(claims[id]["effects"].size() == 4);
  }
  // Per layer: the permutation baseline never exceeds the best constant output.
  for (const auto& [group, models] : claims["geva.agreement"]["numbers"].items())
    for (const auto& model : models)
      for (const auto& layer : model["layers"])
        CHECK(layer["permuted"].get<double>() <= layer["best_constant"].get<double>() + 1e-12);
}

TEST_CASE("memories: saturn memories --json reports every key and refuses bad flags", "[theory]") {
  const auto dir = test::scratch_dir("memories-cli");
  const std::string run = (dir / "dyck").string();
  REQUIRE(test::run_saturn(
              fmt::format("train --lang dyck-1 --out {} --overwrite -q --set "
                          "objective=next-symbol --set causal=true --set d_model=8 --set "
                          "n_heads=1 --set n_layers=2 --set d_ff=16 --set steps=40 --set "
                          "train_lengths=0:8 --set test_lengths=9:10 --set eval_per_length=2",
                          run))
              .code == 0);
  const auto r = test::run_saturn(fmt::format("memories {} --top 4 --json", run));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["objective"] == "next_symbol");
  CHECK(j["layers"].size() == 2);
  CHECK(j["keys"].size() == 2 * 16);
  for (const auto& k : j["keys"]) {
    CHECK(k["triggers"].size() == 4);
    CHECK(k["value_scores"].size() == 3);  // '(' ')' end
    int agree = 0;
    for (const auto& t : k["triggers"]) agree += t["agrees"].get<bool>();
    CHECK(k["agreement"].get<double>() == Approx(agree / 4.0));
  }
  const auto bad = test::run_saturn(fmt::format("memories {} --top 0", run));
  CHECK(bad.code == 2);
  CHECK(bad.err == "saturn: --top: expected 1..10000 (got 0)\n");
}
