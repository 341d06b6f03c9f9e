// [verify][cli]: a sparsemax model end to end — a short training run, `saturn eval`, `saturn
// extract` (no hard-set search: the model is its own circuit) verified by enumeration; smt and
// counts refuse it with one line.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "saturate/circuit.h"
#include "support/run_saturn.h"

using namespace saturn;

TEST_CASE("a sparsemax model trains, evaluates, and extracts to itself", "[verify][cli]") {
  const auto dir = test::scratch_dir("sparsemax");
  const std::string run = (dir / "run").string();
  const auto trained = test::run_saturn(fmt::format(
      "train --lang majority --config {}/examples/extract/majority.toml --set attention=sparsemax "
      "--set steps=150 --set max_length=24 --set train_lengths=1:12 --set test_lengths=13:24 "
      "--set eval_every=150 --set checkpoint_every=150 --out {} -q --overwrite",
      SATURN_SOURCE_DIR, run));
  INFO(trained.out << trained.err);
  REQUIRE(trained.code == 0);
  // The training log's losses are finite.
  {
    std::ifstream log(dir / "run" / "metrics.jsonl");
    std::string line;
    int rows = 0;
    while (std::getline(log, line)) {
      const auto j = nlohmann::json::parse(line);
      if (!j.contains("loss")) continue;
      ++rows;
      CHECK(std::isfinite(j["loss"].get<double>()));
    }
    CHECK(rows > 0);
  }
  const auto eval = test::run_saturn(fmt::format("eval {} --lengths 1:6 --exhaustive --json", run));
  INFO(eval.out << eval.err);
  CHECK(eval.code == 0);
  CHECK(eval.out.find("accuracy") != std::string::npos);

  const auto x =
      test::run_saturn(fmt::format("extract {} --against majority --max-length 8 --method "
                                   "enumerate --exhaustive-max 1024 --json",
                                   run));
  INFO(x.out << x.err);
  REQUIRE((x.code == 0 || x.code == 1 || x.code == 3));
  const auto j = nlohmann::json::parse(x.out);
  CHECK(j["method"] == "enumerate");
  REQUIRE(j["heads"].size() == 1);
  CHECK(j["heads"][0]["setting"] == "sparsemax");
  // The circuit is the model up to rounding: exact decisions equal the model's on the probes.
  CHECK(j["faithfulness_in"].get<double>() >= 0.99);
  const auto c = saturate::load_circuit(j["circuit"].get<std::string>());
  CHECK(c.config.attention_sparsemax);
  CHECK(test::slurp(j["circuit"].get<std::string>()).find("\"rule\": \"sparsemax\"") !=
        std::string::npos);

  // verify: auto enumerates; smt and counts refuse with one line, exit 2.
  const std::string circuit = j["circuit"].get<std::string>();
  const auto automatic =
      test::run_saturn(fmt::format("verify {} --against majority --max-length 6", circuit));
  INFO(automatic.out << automatic.err);
  CHECK(automatic.code != 2);
  CHECK(automatic.out.find("enumerate") != std::string::npos);
  CHECK(automatic.out.find("smt") == std::string::npos);
  for (const char* method : {"smt", "counts"}) {
    const auto r = test::run_saturn(
        fmt::format("verify {} --against majority --max-length 6 --method {}", circuit, method));
    INFO(method << ": " << r.err);
    CHECK(r.code == 2);
    CHECK(test::count_lines(r.err) == 1);
    CHECK(r.err.rfind("saturn: ", 0) == 0);
    CHECK(r.err.find(method) != std::string::npos);
    CHECK(r.err.find("sparsemax") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
