// [saturate]: a model trained with attention = "hard" is its own saturated network: extraction
// starts from the model's set rule, and the circuit equals the model on every probe.
#include <fmt/format.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>

#include "lang/builtin.h"
#include "nets/checkpoint.h"
#include "nets/train.h"
#include "saturate/extract.h"

using namespace saturn;
namespace fs = std::filesystem;

TEST_CASE("a hard-trained model extracts with its own set rule, the circuit equal to the model",
          "[saturate]") {
  nets::RunConfig c;
  for (auto kv : {"d_model=8", "n_heads=2", "n_layers=1", "d_ff=16", "steps=30",
                  "checkpoint_every=0", "eval_every=0", "train_lengths=1:8", "test_lengths=9:10",
                  "max_length=12", "eval_per_length=2", "batch_size=16", "attention=hard",
                  "attention_set=tolerance", "attention_tolerance=0.3"})
    c.set_assignment(kv);
  const fs::path dir =
      fs::temp_directory_path() / fmt::format("saturn-hard-extract-{}", ::getpid());
  fs::remove_all(dir);
  nets::train(builtin("majority"), c, {dir, false, true});
  const nets::Checkpoint k = nets::load_checkpoint(nets::latest_checkpoint(dir));
  auto majority = builtin("majority");
  std::vector<Example> probes;
  for (int n = 0; n <= 8; ++n)
    for (long i = 0; i < (1L << n); ++i) {
      Word w(n);
      for (int t = 0; t < n; ++t) w[t] = static_cast<Symbol>((i >> (n - 1 - t)) & 1);
      probes.push_back({w, majority->accepts(w) ? 1 : 0, std::nullopt});
    }
  const saturate::Extraction x =
      saturate::extract_circuit(k, majority->alphabet(), probes, 6, saturate::ExtractOptions{});
  REQUIRE(x.heads.size() == 2u);
  for (const auto& h : x.heads) {
    CHECK(h.tolerance == 0.3);
    CHECK_THAT(h.setting, Catch::Contains("the model's own"));
  }
  CHECK(x.float_agree == x.probe_words);
  REQUIRE(x.circuit.faithfulness);
  const auto in = x.circuit.faithfulness->in_range();
  const auto out = x.circuit.faithfulness->out_of_range();
  CHECK(in.agree == in.words);
  CHECK(out.agree == out.words);
  CHECK(in.words + out.words == static_cast<long>(probes.size()));
  fs::remove_all(dir);
}
