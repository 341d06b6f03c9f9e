// `saturn inspect`: a checkpoint's activations on words (the residual stream after each
// sublayer, soft and saturated attention, FFN hidden activations, logits), or the gradient of
// one training batch per tensor and per layer.
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "base/budget.h"
#include "base/error.h"
#include "base/names.h"
#include "cli/commands.h"
#include "cli/threads_option.h"
#include "cli/tie_option.h"
#include "cli/word_args.h"
#include "lang/builtin.h"
#include "lang/words.h"
#include "nets/batch.h"
#include "nets/checkpoint.h"
#include "nets/train.h"
#include "saturate/saturation.h"

namespace saturn::cli {

namespace {

using Json = nlohmann::ordered_json;
using nets::Transformer;

// rows x cols of a (Tn, cols) block starting at `data`.
Json matrix(const double* data, int rows, int cols) {
  Json m = Json::array();
  for (int r = 0; r < rows; ++r)
    m.push_back(std::vector<double>(data + static_cast<std::size_t>(r) * cols,
                                    data + static_cast<std::size_t>(r + 1) * cols));
  return m;
}

double row_norm(const double* x, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return std::sqrt(s);
}

struct InspectOptions {
  std::string checkpoint, lang, tie = "average", lengths;
  int tie_bits = 16, batch = 32;
  std::uint64_t seed = 0;
  bool json = false, grads = false;
};

// One word through the soft model and its saturated network (B = 1, introspection on).
void inspect_word(Transformer<double>& soft, Transformer<double>& hard, const Alphabet& alphabet,
                  const std::string& text, const Word& word, bool json) {
  const nets::ModelConfig& mc = soft.config();
  const int k = alphabet.size(), C = mc.d_model, F = mc.d_ff, H = mc.n_heads;
  const int Tn = static_cast<int>(word.size()) + 2;
  if (static_cast<int>(word.size()) > mc.max_length)
    throw InputError(
        fmt::format("word '{}' is longer than the model's max_length ({})", text, mc.max_length));
  Example e{word, 1, std::nullopt};
  const std::vector<const Example*> one{&e};
  // Next-symbol models: the batch wants targets; the loss is not reported, so empty ones do.
  if (mc.objective == nets::Objective::next_symbol)
    e.next = NextTargets{std::vector<std::vector<Symbol>>(word.size() + 1),
                         std::vector<bool>(word.size() + 1, false)};
  auto batch = nets::make_batch<double>(one, k, mc.objective);
  soft.forward(batch);
  hard.forward(batch);
  const std::size_t TT = static_cast<std::size_t>(Tn) * Tn;
  std::vector<std::string> tokens{"BOS"};
  for (Symbol s : word) tokens.push_back(alphabet.name(s));
  tokens.push_back("EOS");

  if (json) {
    Json j;
    j["word"] = format_word(word, alphabet);
    j["tokens"] = batch.tokens;
    j["embed"] = matrix(soft.token_embeddings().data(), Tn, C);
    j["pos_embed"] = matrix(soft.position_embeddings().data(), Tn, C);
    Json layers = Json::array();
    for (int l = 0; l < mc.n_layers; ++l) {
      const auto st = soft.layer_states(l);
      Json L;
      L["input"] = matrix(st.in->data(), Tn, C);
      L["after_attention"] = matrix(st.after_attention->data(), Tn, C);
      L["ffn_hidden"] = matrix(st.ffn_hidden->data(), Tn, F);
      L["output"] = matrix(st.out->data(), Tn, C);
      Json soft_w = Json::array(), hard_w = Json::array(), scores = Json::array();
      for (int h = 0; h < H; ++h) {
        soft_w.push_back(matrix(soft.attention_weights(l).data() + h * TT, Tn, Tn));
        hard_w.push_back(matrix(hard.attention_weights(l).data() + h * TT, Tn, Tn));
        scores.push_back(matrix(soft.attention_scores(l).data() + h * TT, Tn, Tn));
      }
      L["attention"] = {{"soft", soft_w}, {"saturated", hard_w}, {"scores", scores}};
      layers.push_back(L);
    }
    j["layers"] = layers;
    j["final"] = matrix(soft.final_states().data(), Tn, C);
    if (mc.objective == nets::Objective::recognize) {
      j["logit"] = soft.logits()[0];
      j["accept"] = soft.logits()[0] > 0;
      j["saturated_logit"] = hard.logits()[0];
    } else {
      j["logits"] = matrix(soft.logits().data(), Tn, k + 1);
      j["saturated_logits"] = matrix(hard.logits().data(), Tn, k + 1);
    }
    fmt::print("{}\n", j.dump());
    std::fflush(stdout);
    return;
  }

  const std::string shown = format_word(word, alphabet);
  fmt::print("word {} (length {})\n", shown.empty() ? "\"\"" : shown, word.size());
  std::vector<std::string> header;
  for (const auto& t : tokens) header.push_back(fmt::format("{:>6}", t));
  fmt::print("  {:<18} {}\n", "position", fmt::join(header, " "));
  auto norms = [&](const char* what, const nets::Buffer<double>& b, int width) {
    std::vector<std::string> cells;
    for (int t = 0; t < Tn; ++t)
      cells.push_back(fmt::format("{:>6.3f}", row_norm(b.data() + t * width, width)));
    fmt::print("  {:<18} {}\n", what, fmt::join(cells, " "));
  };
  for (int l = 0; l < mc.n_layers; ++l) {
    const auto st = soft.layer_states(l);
    fmt::print(" layer {}\n", l);
    norms("|input|", *st.in, C);
    norms("|after attn|", *st.after_attention, C);
    norms("|ffn hidden|", *st.ffn_hidden, F);
    std::vector<std::string> active;
    for (int t = 0; t < Tn; ++t) {
      int n = 0;
      for (int f = 0; f < F; ++f) n += (*st.ffn_hidden)[static_cast<std::size_t>(t) * F + f] > 0;
      active.push_back(fmt::format("{:>6}", n));
    }
    fmt::print("  {:<18} {}\n", fmt::format("ffn >0 (of {})", F), fmt::join(active, " "));
    norms("|output|", *st.out, C);
    // The readout query's attention row (BOS or EOS), soft beside saturated.
    const int q = mc.readout == nets::Readout::eos ? Tn - 1 : 0;
    for (int h = 0; h < H; ++h)
      for (const auto& [model, name] : {std::pair{&soft, "soft"}, std::pair{&hard, "saturated"}}) {
        const double* w =
            model->attention_weights(l).data() + h * TT + static_cast<std::size_t>(q) * Tn;
        std::vector<std::string> cells;
        for (int t = 0; t < Tn; ++t) cells.push_back(fmt::format("{:>6.3f}", w[t]));
        fmt::print("  {:<18} {}\n", fmt::format("h{} {} @{}", h, name, tokens[q]),
                   fmt::join(cells, " "));
      }
  }
  if (mc.objective == nets::Objective::recognize)
    fmt::print(" logit {:.4f} ({}), saturated {:.4f} ({})\n", soft.logits()[0],
               soft.logits()[0] > 0 ? "accept" : "reject", hard.logits()[0],
               hard.logits()[0] > 0 ? "accept" : "reject");
  else
    for (int t = 0; t < Tn - 1; ++t) {
      std::vector<std::string> cells;
      for (int s = 0; s <= k; ++s)
        cells.push_back(fmt::format("{}={:.3f}", s < k ? alphabet.name(s) : "end",
                                    soft.logits()[static_cast<std::size_t>(t) * (k + 1) + s]));
      fmt::print(" logits after {:<4} {}\n", tokens[t], fmt::join(cells, " "));
    }
}

void inspect_grads(const nets::Checkpoint& c, const std::shared_ptr<const Language>& language,
                   const InspectOptions& o) {
  if (o.batch < 1 || o.batch > (1 << 20))
    throw InputError(fmt::format("--batch: expected 1..{} (got {})", 1 << 20, o.batch));
  nets::RunConfig config = c.config;
  if (!o.lengths.empty()) {
    parse_length_range(o.lengths, "--lengths");
    config.train.train_lengths = o.lengths;
  }
  auto [lo, hi] = parse_length_range(config.train.train_lengths, "--lengths");
  if (hi > config.model.max_length)
    throw InputError(fmt::format("--lengths: {} is longer than the model's max_length ({})", hi,
                                 config.model.max_length));
  nets::require_model_memory(config.model, c.num_symbols, o.batch, hi + 2.0, true, "--batch");
  Sampler sampler(language);
  nets::BatchDrawer drawer(sampler, config);
  std::vector<Example> examples(o.batch);
  Rng rng(o.seed);
  drawer.draw(examples, rng);
  std::vector<const Example*> ptrs;
  for (const auto& e : examples) ptrs.push_back(&e);
  auto batch = nets::make_batch<float>(ptrs, c.num_symbols, config.model.objective);
  Transformer<float> model(config.model, c.num_symbols);
  model.params.assign(c.params.begin(), c.params.end());
  const double loss = model.forward(batch);
  model.zero_grad();
  model.backward(batch);
  const auto tensors = nets::tensor_norms(model.layout(), model.grads.data());
  const auto layers = nets::layer_norms(model.layout(), model.grads.data());
  const double total = nets::l2_norm(model.grads);
  if (o.json) {
    Json j;
    j["checkpoint"] = c.source;
    j["step"] = c.step;
    j["language"] = language->name();
    j["batch"] = o.batch;
    j["lengths"] = config.train.train_lengths;
    j["seed"] = o.seed;
    j["loss"] = loss;
    j["grad_norm"] = total;
    for (const auto& [name, v] : tensors) j["tensors"][name] = v;
    for (const auto& [name, v] : layers) j["layers"][name] = v;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("{} (step {}): gradient of one batch of {} {} words, lengths {}, seed {}\n", c.source,
             c.step, o.batch, language->name(), config.train.train_lengths, o.seed);
  fmt::print("loss {:.6f}  gradient norm {:.6g}\n\n", loss, total);
  fmt::print("{:<28} {:>14}\n", "tensor", "|grad|");
  for (const auto& [name, v] : tensors) fmt::print("{:<28} {:>14.6g}\n", name, v);
  fmt::print("\n");
  for (const auto& [name, v] : layers) fmt::print("{:<28} {:>14.6g}\n", name, v);
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto* cmd = WordsCommand::add(
      app, "inspect",
      "A checkpoint's activations on words, or the gradient of one batch (--grads)");
  add_threads_option(cmd);
  auto o = std::make_shared<InspectOptions>();
  cmd->add_option("CKPT", o->checkpoint, "Checkpoint file, or a run directory (its last)")
      ->required();
  cmd->add_words();
  cmd->add_option("--tie", o->tie, "Saturated attention: average, leftmost or rightmost")
      ->capture_default_str();
  cmd->add_option("--tie-bits", o->tie_bits, "Scores tie when equal to this many significant bits")
      ->capture_default_str();
  cmd->add_flag("--grads", o->grads, "Gradient norms of one training batch instead of activations");
  cmd->add_option("--lang", o->lang, "--grads: language of the batch (default: the trained one)");
  cmd->add_option("--batch", o->batch, "--grads: words in the batch")->capture_default_str();
  cmd->add_option("--lengths", o->lengths, "--grads: word lengths A:B (default: the training's)");
  cmd->add_option("--seed", o->seed, "--grads: seed of the batch")->capture_default_str();
  cmd->add_flag("--json", o->json,
                "JSON: with words, one object per word and line (JSON Lines, streamed)");
  cmd->callback([o, cmd] {
    const auto path = nets::latest_checkpoint(o->checkpoint);
    nets::Checkpoint c = nets::load_checkpoint(path);
    c.source = path.string();
    auto language = o->lang.empty() ? nets::checkpoint_language(c) : resolve_language(o->lang);
    nets::check_alphabet(c, *language);
    if (o->grads) {
      if (cmd->has_words()) throw InputError("--grads: takes no words (the batch is sampled)");
      return inspect_grads(c, language, *o);
    }
    if (!o->lang.empty() || !o->lengths.empty())
      throw InputError("--lang and --lengths go with --grads (words are given as WORD...)");
    const saturate::TieRule tie = parse_tie_rule(o->tie, o->tie_bits);
    const nets::ModelConfig& mc = c.config.model;
    Transformer<double> soft(mc, c.num_symbols), hard(mc, c.num_symbols);
    soft.params.assign(c.params.begin(), c.params.end());
    hard.params.assign(c.params.begin(), c.params.end());
    soft.set_introspection(true);
    soft.set_recording(o->json);  // the embedding terms and attention scores of --json
    hard.set_introspection(true);
    tie.apply(hard);
    if (!o->json)
      fmt::print("{} (step {}), {}; saturated: {}\n", c.source, c.step, language->name(),
                 tie.describe());
    cmd->for_each_word(language->alphabet(), [&](const std::string& text, const Word& w) {
      nets::require_model_memory(mc, c.num_symbols, 1, w.size() + 2.0, false, "WORD", 8, true);
      if (o->json) {  // one word's JSON object is built whole: ~48 bytes per number
        const double Tn = w.size() + 2.0;
        require_memory(
            48 * (mc.n_layers * (3.0 * mc.n_heads * Tn * Tn + Tn * (3.0 * mc.d_model + mc.d_ff)) +
                  Tn * (3.0 * mc.d_model + 2.0 * (c.num_symbols + 1))),
            "WORD", fmt::format("the JSON of a word of length {}", w.size()));
      }
      inspect_word(soft, hard, language->alphabet(), text, w, o->json);
    });
  });
}

}  // namespace saturn::cli
