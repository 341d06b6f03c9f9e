// `saturn train` and `saturn eval`: transformers on formal languages.
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "cli/commands.h"
#include "cli/threads_option.h"
#include "lang/builtin.h"
#include "lang/dataset.h"
#include "lang/spec.h"
#include "nets/batch.h"
#include "nets/checkpoint.h"
#include "nets/eval_json.h"
#include "nets/train.h"

namespace saturn::cli {

namespace {

// The end of `train --help` and `learn --help`: every key --config and --set take, with its
// default (the text of a config file that sets every key to it).
std::string config_keys_footer() {
  return "Model and training keys (--config FILE, --set KEY=VALUE), shown with their "
         "defaults:\n\n" +
         nets::RunConfig{}.to_toml();
}

}  // namespace

void add_nets_commands(CLI::App& app) {
  {
    auto* cmd = app.add_subcommand("train", "Train a transformer on a language");
    cmd->footer(config_keys_footer());
    add_threads_option(cmd);
    auto lang = std::make_shared<std::string>();
    auto config_file = std::make_shared<std::string>();
    auto sets = std::make_shared<std::vector<std::string>>();
    auto out = std::make_shared<std::string>();
    auto resume = std::make_shared<bool>(false);
    auto overwrite = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("--lang", *lang, "Built-in name or spec file")->required();
    cmd->add_option("--config", *config_file, "TOML file of model and training keys");
    cmd->add_option("--set", *sets, "key=value, after --config (repeatable)");
    cmd->add_option("--out", *out, "Run directory")->required();
    cmd->add_flag("--resume", *resume,
                  "Continue the run in --out from its last checkpoint (only steps may change)");
    cmd->add_flag("--overwrite", *overwrite, "Replace the run in --out (its files are removed)");
    cmd->add_flag("-q,--quiet", *quiet, "No progress output");
    auto no_check = std::make_shared<bool>(false);
    cmd->add_flag("--no-check-labels", *no_check,
                  "Train on a data file whose labels disagree with the language (noisy data)");
    cmd->callback([=] {
      if (*resume && *overwrite) throw InputError("--resume and --overwrite exclude each other");
      const nets::RunConfig config = nets::run_config_for(*out, *resume, *config_file, *sets);
      auto summary = nets::train(resolve_language(*lang), config,
                                 {*out, *resume, *quiet, *overwrite, !*no_check});
      if (summary.already_finished) {
        fmt::print("{}: already finished at step {}; nothing to do\n", *out, summary.steps);
        return;
      }
      fmt::print("steps {}  final loss {:.4f}  train acc {:.3f}", summary.steps, summary.final_loss,
                 summary.train_accuracy);
      if (config.model.objective == nets::Objective::recognize)
        fmt::print("  in-range acc {:.4f}  out-of-range acc {:.4f}", summary.in_range_accuracy,
                   summary.out_of_range_accuracy);
      fmt::print("\n{:.1f} s, {:.1f} steps/s, {:.0f} tokens/s; wrote {}\n", summary.seconds,
                 summary.steps_per_s, summary.tokens_per_s, *out);
    });
  }
  {
    auto* cmd = app.add_subcommand(
        "learn", "Is this language learnable? Train K seeds, test in and out of range");
    cmd->footer(config_keys_footer());
    add_threads_option(cmd);
    auto lang = std::make_shared<std::string>();
    auto config_file = std::make_shared<std::string>();
    auto sets = std::make_shared<std::vector<std::string>>();
    auto seeds = std::make_shared<int>(3);
    auto train_lengths = std::make_shared<std::string>();
    auto test_lengths = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto per_length = std::make_shared<int>(100);
    auto quiet = std::make_shared<bool>(false);
    auto overwrite = std::make_shared<bool>(false);
    cmd->add_option("--lang", *lang, "Built-in name or spec file")->required();
    cmd->add_option("--config", *config_file, "TOML file of model and training keys");
    cmd->add_option("--set", *sets, "key=value, after --config (repeatable)");
    cmd->add_flag("--overwrite", *overwrite, "Replace the runs of an earlier learn in --out");
    cmd->add_option("--seeds", *seeds, "Number of seeds")->required();
    cmd->add_option("--train-lengths", *train_lengths, "Training length range A:B")->required();
    cmd->add_option("--test-lengths", *test_lengths, "Out-of-range test lengths C:D")->required();
    cmd->add_option("--per-length", *per_length, "Test words per class per length")
        ->capture_default_str();
    cmd->add_option("--out", *out, "Directory for the runs and learnability.json")->required();
    cmd->add_flag("-q,--quiet", *quiet, "No progress output");
    auto negatives = std::make_shared<std::string>();
    cmd->add_option("--negatives", *negatives,
                    "Training negatives: uniform, near-miss or mixed (the `negatives` key)");
    auto objective = std::make_shared<std::string>();
    cmd->add_option("--objective", *objective,
                    "recognize, or next-symbol: scored on accepted words, right when every "
                    "position's predicted next set is exact (the `objective` key)");
    cmd->callback([=] {
      if (*seeds < 1) throw InputError(fmt::format("--seeds: must be at least 1 (got {})", *seeds));
      nets::RunConfig config;
      if (!config_file->empty()) config.load(*config_file);
      for (const auto& s : *sets) config.set_assignment(s);
      if (!negatives->empty())
        config.train.negatives = parse_name<Negatives>(kNegativesNames, "--negatives", *negatives);
      if (!objective->empty()) {
        try {
          config.set("objective", *objective);
        } catch (const InputError& e) {
          const std::string what = e.what();  // "objective: unknown value ..."
          throw InputError("--" + what);
        }
      }
      config.set("train_lengths", *train_lengths);
      config.set("test_lengths", *test_lengths);
      auto language = resolve_language(*lang);
      if (*per_length < 1 || *per_length > (1 << 20))
        throw InputError(
            fmt::format("--per-length: expected 1..{} (got {})", 1 << 20, *per_length));
      auto r = nets::learnability(language, config, *seeds, *out, *per_length, *quiet, *overwrite);
      nlohmann::ordered_json j;
      j["language"] = language->name();
      j["train_lengths"] = *train_lengths;
      j["test_lengths"] = *test_lengths;
      j["seeds"] = r.seeds;
      j["in_range"] = {{"best", r.best_in}, {"median", r.median_in}, {"mean", r.mean_in}};
      j["out_of_range"] = {{"best", r.best_out}, {"median", r.median_out}, {"mean", r.mean_out}};
      j["ch_score"] = r.ch_score;
      j["negatives"] = to_string(config.train.negatives);
      const bool next = config.model.objective == nets::Objective::next_symbol;
      j["objective"] = next ? "next-symbol" : "recognize";
      fmt::print("{} trained on lengths {}, tested on {} ({} seeds)\n", language->name(),
                 *train_lengths, *test_lengths, *seeds);
      fmt::print("{}\n\n",
                 next ? "next-symbol prediction: the fraction of accepted words on which every "
                        "position's predicted next set (symbols and end) is exactly the legal one"
                      : "recognition: the fraction of words (half accepted) classified right");
      fmt::print("seed   in-range  out-of-range\n");
      for (std::size_t i = 0; i < r.seeds.size(); ++i) {
        fmt::print("{:>4}   {:>8.4f}  {:>12.4f}\n", r.seeds[i], r.in_range[i].accuracy(),
                   r.out_of_range[i].accuracy());
        auto& curve = j["per_length"][std::to_string(r.seeds[i])];
        for (const auto* e : {&r.in_range[i], &r.out_of_range[i]})
          for (const auto& [n, ct] : e->per_length)
            curve[std::to_string(n)] = double(ct.first) / ct.second;
      }
      fmt::print(
          "best   {:>8.4f}  {:>12.4f}   (FLaRe: expressivity)\nmedian {:>8.4f}  {:>12.4f}\nmean   "
          "{:>8.4f}  {:>12.4f}   (FLaRe: inductive bias)\n",
          r.best_in, r.best_out, r.median_in, r.median_out, r.mean_in, r.mean_out);
      fmt::print(
          "Chomsky-hierarchy score {:.4f}: per seed the mean over test lengths of each length's "
          "accuracy, best seed\n",
          r.ch_score);
      write_file_atomically(std::filesystem::path(*out) / "learnability.json", j.dump(2) + "\n");
    });
  }
  {
    auto* cmd = app.add_subcommand("eval", "Accuracy per length of a trained recognizer");
    add_threads_option(cmd);
    auto target = std::make_shared<std::string>();
    auto lang = std::make_shared<std::string>();
    auto lengths = std::make_shared<std::string>();
    auto per_length = std::make_shared<int>(100);
    auto exhaustive = std::make_shared<bool>(false);
    auto json = std::make_shared<bool>(false);
    auto seed = std::make_shared<std::uint64_t>(0);
    auto data = std::make_shared<std::string>();
    auto logits_out = std::make_shared<std::string>();
    cmd->add_option("RUN", *target, "Run directory (its last checkpoint) or a checkpoint file")
        ->required();
    cmd->add_option("--lang", *lang, "Language to test on (default: the one trained on)");
    cmd->add_option("--lengths", *lengths, "Length range A:B (required unless --data)");
    cmd->add_option("--data", *data, "Evaluate on the words of a JSONL file (saturn lang sample)");
    cmd->add_option("--logits", *logits_out, "With --data: write the model's raw outputs as JSON");
    cmd->add_option("--per-length", *per_length, "Accepted and rejected words per length")
        ->capture_default_str();
    cmd->add_flag("--exhaustive", *exhaustive, "Every word of each length");
    cmd->add_option("--seed", *seed, "Random seed for the test words")->capture_default_str();
    cmd->add_flag("--json", *json, "JSON output");
    auto no_check = std::make_shared<bool>(false);
    cmd->add_flag("--no-check-labels", *no_check,
                  "With --data: accept labels that disagree with the language");
    cmd->callback([=] {
      if (lengths->empty() && data->empty())
        throw InputError("eval: --lengths A:B is required (or --data FILE)");
      if (!logits_out->empty() && data->empty()) throw InputError("--logits needs --data");
      auto c = nets::load_checkpoint(nets::latest_checkpoint(*target));
      auto language = lang->empty() ? nets::checkpoint_language(c) : resolve_language(*lang);
      nets::check_alphabet(c, *language);
      nets::Transformer<float> model(c.config.model, c.num_symbols);
      model.params.assign(c.params.begin(), c.params.end());
      if (!data->empty()) {
        // The file's words in batches of 64: the raw outputs, and accuracy for recognizers.
        const auto examples =
            read_json_lines(*data, language->alphabet(), c.config.model.max_length,
                            *no_check ? nullptr : language.get());
        std::size_t longest = 0;
        for (const auto& e : examples) longest = std::max(longest, e.word.size());
        nets::require_model_memory(c.config.model, c.num_symbols, 64, longest + 2.0, false,
                                   "--data");
        std::optional<OutputFile> logits;
        if (!logits_out->empty()) logits.emplace(*logits_out);
        if (logits) logits->write("{\"logits\":[");
        double loss_sum = 0, loss_weight = 0;  // the loss is a mean over outputs (masked ones)
        long correct = 0;
        std::map<std::size_t, std::pair<long, long>> per_length;  // length -> (correct, words)
        const int outputs = model.num_outputs();
        nets::forward_in_batches(
            model, examples,
            [&](const nets::Batch<float>& batch, std::size_t at, float batch_loss) {
              double weight = batch.B;
              if (c.config.model.objective == nets::Objective::next_symbol) {
                weight = 0;
                for (float m : batch.mask) weight += m;
              }
              loss_sum += static_cast<double>(batch_loss) * weight;
              loss_weight += weight;
              const auto& z = model.logits();
              for (int i = 0; i < batch.B; ++i) {
                nlohmann::ordered_json row;
                if (c.config.model.objective == nets::Objective::recognize) {
                  row = z[i];
                  const Example& e = examples[at + i];
                  const bool right = (z[i] > 0) == (e.label == 1);
                  correct += right;
                  auto& pl = per_length[e.word.size()];
                  pl.first += right, ++pl.second;
                } else {
                  row = nlohmann::ordered_json::array();
                  for (int t = 0; t < batch.lengths[i] - 1; ++t)
                    row.push_back(std::vector<float>(
                        z.begin() + (static_cast<long>(i) * batch.Tn + t) * outputs,
                        z.begin() + (static_cast<long>(i) * batch.Tn + t + 1) * outputs));
                }
                if (logits) logits->write((at + i > 0 ? "," : "") + row.dump());
              }
            });
        const double loss = loss_weight > 0 ? loss_sum / loss_weight : 0;
        if (logits) {
          // The words, in the file's order (entry i of "logits" is word i's).
          logits->write("],\"words\":[");
          for (std::size_t i = 0; i < examples.size(); ++i)
            logits->write((i > 0 ? "," : "") +
                          nlohmann::json(language->alphabet().format(examples[i].word)).dump());
          logits->write(fmt::format("],\"loss\":{}}}\n", nlohmann::json(loss).dump()));
          logits->commit();
        }
        const bool recognize = c.config.model.objective == nets::Objective::recognize;
        if (*json) {
          nlohmann::ordered_json j;
          j["data"] = *data;
          j["step"] = c.step;
          j["words"] = examples.size();
          j["loss"] = loss;
          if (recognize) {
            j["accuracy"] = double(correct) / examples.size();
            for (const auto& [n, ct] : per_length)
              j["per_length"][std::to_string(n)] = {{"accuracy", double(ct.first) / ct.second},
                                                    {"words", ct.second}};
          }
          fmt::print("{}\n", j.dump(2));
          return;
        }
        fmt::print("{} words from {}: loss {:.6f}", examples.size(), *data, loss);
        if (recognize) fmt::print(", accuracy {:.4f}", double(correct) / examples.size());
        fmt::print("\n");
        if (recognize) {
          fmt::print("length  accuracy  words\n");
          for (const auto& [n, ct] : per_length)
            fmt::print("{:>6}  {:>8.4f}  {:>5}\n", n, double(ct.first) / ct.second, ct.second);
        }
        return;
      }
      auto [lo, hi] = parse_length_range(*lengths, "--lengths");
      if (hi > c.config.model.max_length)
        throw InputError(fmt::format("--lengths: {} is longer than the model's max_length ({})", hi,
                                     c.config.model.max_length));
      if (*per_length < 1 || *per_length > (1 << 20))
        throw InputError(
            fmt::format("--per-length: expected 1..{} (got {})", 1 << 20, *per_length));
      nets::require_model_memory(c.config.model, c.num_symbols, 64, hi + 2.0, false, "--lengths");
      Sampler sampler(language);
      auto r = nets::evaluate(model, sampler, lo, hi, *per_length, *exhaustive, *seed);
      if (*json) {
        fmt::print("{}\n", nets::eval_json(language->name(), c.step, r).dump(2));
        return;
      }
      fmt::print("{} at step {} on {}\nlength  accuracy  words\n", *target, c.step,
                 language->name());
      for (const auto& [n, ct] : r.per_length)
        fmt::print("{:>6}  {:>8.4f}  {:>5}\n", n, double(ct.first) / ct.second, ct.second);
      fmt::print("   all  {:>8.4f}\n", r.accuracy());
    });
  }
}

}  // namespace saturn::cli
