// [theory]: `saturn theory` end to end at the quick scale (report structure, resuming, exit
// codes), its bad input, and `saturn inspect`'s outputs and shapes.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/run_saturn.h"
#include "theory/suite.h"

using namespace saturn;
using saturn::test::run_saturn;
using saturn::test::scratch_dir;
using saturn::test::slurp;

TEST_CASE(
    "saturn theory --scale quick (merrill, xiong, wortsman): every claim reported with its "
    "criterion, numbers, figure "
    "and a verdict, and a second run reuses every finished experiment",
    "[theory]") {
  const auto dir = scratch_dir("theory-quick");
  std::filesystem::remove_all(dir);
  const auto t0 = std::chrono::steady_clock::now();
  const auto first = run_saturn(
      fmt::format("theory --suite merrill,xiong,wortsman --scale quick --out {}", dir.string()));
  const double first_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(first.err);
  // Exit 0 only when every claim holds, else 1.
  REQUIRE((first.code == 0 || first.code == 1));
  const auto results = nlohmann::json::parse(slurp(dir / "results.json"));
  const auto report = slurp(dir / "report.md");
  std::set<std::string> ids;
  bool all_hold = true;
  for (const auto& c : results["claims"]) {
    const std::string id = c["id"];
    ids.insert(id);
    const std::string verdict = c["verdict"];
    CHECK((verdict == "holds" || verdict == "fails" || verdict == "inconclusive"));
    all_hold = all_hold && verdict == "holds";
    CHECK(!c["criterion"].get<std::string>().empty());
    CHECK(!c["setup"].get<std::string>().empty());
    CHECK(!c["value"].get<std::string>().empty());
    CHECK(!c["numbers"].empty());
    if (id.rfind("merrill.", 0) == 0) {  // issue 26: quote, least effect, seeds and effects
      CHECK(!c["quote"].get<std::string>().empty());
      CHECK(!c["min_effect"].get<std::string>().empty());
      CHECK(c["kind"] == "empirical");
      CHECK(!c["per_seed"]["rows"].empty());
      CHECK(!c["effects"].empty());
    }
    CHECK(report.find("## " + id) != std::string::npos);
    CHECK(first.out.find(id) != std::string::npos);  // the table
    if (c.contains("figure")) {
      CHECK(std::filesystem::file_size(dir / c["figure"][0].get<std::string>()) > 1000);
      CHECK(std::filesystem::file_size(dir / c["figure"][1].get<std::string>()) > 1000);
    }
  }
  CHECK(first.code == (all_hold ? 0 : 1));
  CHECK(ids == std::set<std::string>{"merrill.norm-growth", "merrill.saturation",
                                     "merrill.head-roles", "xiong.grad-depth",
                                     "xiong.grad-by-layer", "xiong.warmup", "wortsman.alpha",
                                     "wortsman.activations", "wortsman.qk-norm", "wortsman.gate"});
  CHECK(report.find("Criterion (fixed before running)") != std::string::npos);
  // What held in the full run (10 seeds, d = 64) and at the quick scale (10 seeds, d = 32):
  // Pre-LN's last-layer gradient falls with depth (slope interval below -0.25: full
  // [-0.81, -0.46]) while Post-LN's does not (interval around 0: full [-0.13, 0.18]).
  for (const auto& c : results["claims"])
    if (c["id"] == "merrill.norm-growth")  // the LayerNorm gains (ones) are left out of rho_w
      for (const auto& run : c["numbers"]["runs"])
        CHECK(run["weight_first"].get<double>() < run["rho_first"].get<double>());
  for (const auto& c : results["claims"])
    if (c["id"] == "xiong.grad-depth") {
      CHECK(c["numbers"]["Pre-LN"]["slope_ci"][1].get<double>() <= -0.25);
      CHECK(c["numbers"]["Post-LN"]["slope_ci"][0].get<double>() <= 0);
      CHECK(c["numbers"]["Post-LN"]["slope_ci"][1].get<double>() >= 0);
    }
  // Issue 26 at the quick scale: the lr grid brackets every warm-up run (all train at 1e-3,
  // none at 1e-1), and Pre-LN's per-layer gradients do not grow (last/first below 1.5).
  for (const auto& c : results["claims"]) {
    const std::string id = c["id"];
    if (id.rfind("xiong.", 0) == 0 || id.rfind("wortsman.", 0) == 0) {
      CHECK(!c["quote"].get<std::string>().empty());
      CHECK(!c["min_effect"].get<std::string>().empty());
      REQUIRE(c.contains("per_seed"));
      REQUIRE(c.contains("effects"));
      CHECK(c["per_seed"]["rows"].size() >= 3);
      CHECK(!c["effects"].empty());
    }
    if (id == "xiong.warmup") CHECK(c["numbers"]["bracketed"] == true);
    if (id == "xiong.grad-by-layer")
      CHECK(c["numbers"]["Pre-LN"]["ratio_ci"][1].get<double>() < 1.5);
  }

  // Again into the same directory: nothing is retrained, the results are identical.
  const auto t1 = std::chrono::steady_clock::now();
  const auto second = run_saturn(
      fmt::format("theory --suite merrill,xiong,wortsman --scale quick --out {}", dir.string()));
  const double second_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  CHECK(second.code == first.code);
  CHECK(nlohmann::json::parse(slurp(dir / "results.json")) == results);
  CHECK(second_s < first_s / 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("saturn theory: bad input is one named line and exit 2", "[theory][cli]") {
  const auto dir = scratch_dir("theory-bad");
  struct Case {
    std::string args, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"theory --suite nope", "--suite: unknown suite 'nope'"},
           {"theory --scale huge", "--scale: expected quick, full or paper"},
           {"theory --seeds -1", "--seeds"},
           {"theory --threads 100000", "--threads"},
           {fmt::format("theory --suite xiong --out {}/file", dir.string()), "not a directory"}}) {
    if (c.expect == "not a directory") std::ofstream(dir / "file") << "x";
    const auto r = run_saturn(c.args);
    INFO(c.args << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK(test::count_lines(r.err) == 1);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "saturn inspect: per word and layer, states, attention and FFN activations with their "
    "shapes, and --grads per tensor and layer",
    "[theory][cli]") {
  const auto dir = scratch_dir("inspect");
  const auto run = dir / "run";
  REQUIRE(run_saturn(fmt::format("train --lang majority --set steps=20 --set checkpoint_every=10 "
                                 "--set d_model=8 --set n_heads=2 --set d_ff=12 --set n_layers=3 "
                                 "--set train_lengths=1:8 --set test_lengths=9:10 --out {} -q",
                                 run.string()))
              .code == 0);
  const auto r = run_saturn(fmt::format("inspect {} --json ab abb \"\"", run.string()));
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<int> lengths;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    const int Tn = static_cast<int>(j["tokens"].size());
    lengths.push_back(Tn - 2);
    CHECK(j["tokens"][0] == 2);       // BOS = k
    CHECK(j["tokens"][Tn - 1] == 3);  // EOS = k + 1
    REQUIRE(j["layers"].size() == 3);
    for (const auto& L : j["layers"]) {
      CHECK(L["input"].size() == static_cast<std::size_t>(Tn));
      CHECK(L["input"][0].size() == 8);
      CHECK(L["after_attention"][Tn - 1].size() == 8);
      CHECK(L["ffn_hidden"][0].size() == 12);
      CHECK(L["output"].size() == static_cast<std::size_t>(Tn));
      for (const char* kind : {"soft", "saturated"}) {
        REQUIRE(L["attention"][kind].size() == 2);  // heads
        for (const auto& head : L["attention"][kind]) {
          REQUIRE(head.size() == static_cast<std::size_t>(Tn));
          for (const auto& row : head) {
            double sum = 0;
            for (double w : row) sum += w;
            CHECK(sum == Approx(1).margin(1e-9));
          }
        }
      }
    }
    for (std::size_t l = 0; l + 1 < j["layers"].size(); ++l)
      CHECK(j["layers"][l]["output"] == j["layers"][l + 1]["input"]);
    CHECK(j["final"].size() == static_cast<std::size_t>(Tn));
    CHECK((j["logit"].get<double>() > 0) == j["accept"].get<bool>());
  }
  CHECK(lengths == std::vector<int>{2, 3, 0});

  const auto g = run_saturn(
      fmt::format("inspect {}/ckpt-0.safetensors --grads --batch 8 --json", run.string()));
  INFO(g.err);
  REQUIRE(g.code == 0);
  const auto gj = nlohmann::json::parse(g.out);
  CHECK(gj["step"] == 0);
  double sum = 0;
  for (const auto& [name, v] : gj["tensors"].items()) sum += v.get<double>() * v.get<double>();
  CHECK(std::sqrt(sum) == Approx(gj["grad_norm"].get<double>()).epsilon(1e-4));
  CHECK(gj["layers"].size() == 3);
  CHECK(gj["tensors"].contains("layers.2.ffn.w2"));

  for (const auto& [args, expect] : std::vector<std::pair<std::string, std::string>>{
           {fmt::format("inspect {} --grads ab", run.string()), "--grads: takes no words"},
           {fmt::format("inspect {} abc", run.string()), "WORD 1"},
           {fmt::format("inspect {} --grads --batch 0", run.string()), "--batch"},
           {fmt::format("inspect {} --grads --lang parity", run.string()), "--lang"},
           {fmt::format("inspect {}/nothing ab", dir.string()), "nothing"},
           {fmt::format("inspect {} --tie none ab", run.string()), "--tie: expected average"},
           {fmt::format("inspect {} --tie-bits 0 ab", run.string()), "--tie-bits: expected 1..52"},
           {fmt::format("--memory-limit 1M inspect {} --json {}", run.string(),
                        std::string(400, 'a')),
            "WORD: "}}) {
    const auto bad = run_saturn(args);
    INFO(args << "\n" << bad.err);
    CHECK(bad.code == 2);
    CHECK(bad.err.find(expect) != std::string::npos);
    CHECK(test::count_lines(bad.err) == 1);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("theory report: theorem checks apart from empirical claims, per-seed tables, effects",
          "[theory]") {
  using namespace saturn::theory;
  const auto dir = scratch_dir("theory-report");
  Suite fake{
      "fake", "Nobody 2026", {}, [](Context&) {
        ClaimSpec t{"fake.theorem",
                    "Nobody 2026",
                    "m1",
                    "e1",
                    "c1",
                    "\"points are selectable\" (Thm. 1)",
                    "none un-selectable",
                    ClaimKind::theorem};
        ClaimSpec e{
            "fake.empirical", "Nobody 2026",       "m2", "e2", "c2", "\"warm-up helps\" (Sec. 4)",
            "gain >= 0.01",   ClaimKind::empirical};
        ClaimResult a(t), b(e);
        a.value = "0 of 10";
        a.verdict = Verdict::holds;
        b.value = "0.2";
        b.verdict = Verdict::fails;
        b.per_seed = {{"seed", "gain"}, {{"1", "0.25"}, {"2", "0.15"}}};
        b.effects.push_back({"gain, Post-LN", summarize({0.25, 0.15}), 0.01});
        return std::vector<ClaimResult>{a, b};
      }};
  TheoryOptions o;
  o.out = dir / "out";
  o.progress = false;
  const auto results = run_theory({&fake}, o);
  REQUIRE(results.size() == 2);
  const std::string md = slurp(dir / "out" / "report.md");
  const auto theorems = md.find("## Theorem checks"), empirical = md.find("## Empirical claims");
  REQUIRE(theorems != std::string::npos);
  REQUIRE(empirical != std::string::npos);
  CHECK(theorems < empirical);
  // The theorem's row stands in the first table, the empirical one's in the second.
  const auto row_t = md.find("| fake.theorem |"), row_e = md.find("| fake.empirical |");
  CHECK((theorems < row_t && row_t < empirical));
  CHECK(empirical < row_e);
  CHECK(md.find("**The paper.** \"warm-up helps\" (Sec. 4)") != std::string::npos);
  CHECK(md.find("**Least effect that counts (fixed before running).** gain >= 0.01") !=
        std::string::npos);
  CHECK(md.find("| seed | gain |\n|---|---|\n| 1 | 0.25 |\n| 2 | 0.15 |") != std::string::npos);
  CHECK(md.find("gain, Post-LN: 0.200 [") != std::string::npos);
  CHECK(md.find("over 2 seeds; the least effect that counts: 0.010") != std::string::npos);
  const auto j = nlohmann::json::parse(slurp(dir / "out" / "results.json"));
  CHECK(j["claims"][0]["kind"] == "theorem");
  CHECK(j["claims"][1]["kind"] == "empirical");
  CHECK(j["claims"][1]["quote"] == "\"warm-up helps\" (Sec. 4)");
  CHECK(j["claims"][1]["per_seed"]["rows"][1][1] == "0.15");
  CHECK(j["claims"][1]["effects"][0]["n"] == 2);
  CHECK(j["claims"][1]["effects"][0]["minimum"] == 0.01);
  CHECK(j["claims"][0].contains("per_seed") == false);
  std::filesystem::remove_all(dir);
}

TEST_CASE("saturn theory --help names every suite", "[theory][cli]") {
  const auto r = run_saturn("theory --help");
  CHECK(r.code == 0);
  for (const auto& s : saturn::theory::suites()) {
    INFO(s.name);
    CHECK(r.out.find(s.name) != std::string::npos);
  }
}
