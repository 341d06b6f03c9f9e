// Xiong et al. (2020), "On layer normalization in the Transformer architecture": gradients at
// initialisation by depth and by layer, Post-LN vs Pre-LN, and the need for learning-rate
// warm-up.
#include <fmt/format.h>

#include <cmath>

#include "lang/builtin.h"
#include "nets/batch.h"
#include "nets/checkpoint.h"
#include "nets/train.h"
#include "theory/suites.h"

namespace saturn::theory {

std::vector<double> ffn_gradient_norms(nets::Transformer<double>& model,
                                       const nets::Batch<double>& batch) {
  model.forward(batch);
  model.zero_grad();
  model.backward(batch);
  std::vector<double> out;
  for (int l = 0; l < model.config().n_layers; ++l) {
    double s = 0;
    for (const char* w : {"ffn.w1", "ffn.w2"}) {
      const auto* t = model.layout().find(fmt::format("layers.{}.{}", l, w));
      for (std::size_t i = 0; i < t->size; ++i)
        s += model.grads[t->offset + i] * model.grads[t->offset + i];
    }
    out.push_back(std::sqrt(s));
  }
  return out;
}

double final_accuracy(Context& c, const std::filesystem::path& run_dir, const std::string& language,
                      int lo, int hi, int per_length, Negatives negatives, std::uint64_t seed) {
  const std::string key =
      fmt::format("final-accuracy {} {} {}:{} {} {} {}", run_dir.filename().string(), language, lo,
                  hi, per_length, to_string(negatives), seed);
  return c
      .cached(key,
              [&]() -> Json {
                const nets::Checkpoint ck = nets::load_checkpoint(nets::latest_checkpoint(run_dir));
                nets::Transformer<float> model(ck.config.model, ck.num_symbols);
                model.params.assign(ck.params.begin(), ck.params.end());
                Sampler sampler(resolve_language(language));
                return nets::evaluate(model, sampler, lo, hi, per_length, false, seed, 64,
                                      negatives)
                    .accuracy();
              })
      .get<double>();
}

int largest_trained(const std::vector<double>& accuracy, double threshold) {
  for (int i = static_cast<int>(accuracy.size()) - 1; i >= 0; --i)
    if (accuracy[i] >= threshold) return i;
  return -1;
}

double fitted_last_first_ratio(const std::vector<double>& per_layer) {
  std::vector<double> x, y;
  for (std::size_t l = 0; l < per_layer.size(); ++l)
    x.push_back(static_cast<double>(l)), y.push_back(std::log(per_layer[l]));
  return std::exp(slope(x, y) * static_cast<double>(per_layer.size() - 1));
}

// Named, not anonymous: the suites share names (kPaper, Setting, run) and may be compiled as one
// unit (SATURN_UNITY).
namespace xiong {

constexpr const char* kPaper = "Xiong et al. 2020";
constexpr const char* kLanguage = "majority";

const ClaimSpec kGradDepth{
    "xiong.grad-depth",
    kPaper,
    "last-layer FFN grad norm vs depth L, log-log slope",
    "Post-LN flat (slope 0); Pre-LN ~ 1/sqrt(L) (slope -0.5)",
    "Per seed, the least-squares slope of log ||grad W_ffn(last layer)|| on log L over L = 1, 2, "
    "4, 8, 16; its 95% t-interval over seeds. Holds when the Pre-LN interval lies in [-0.75, "
    "-0.25] and the Post-LN interval in [-0.25, 0.25]; fails when either interval misses its "
    "range entirely; inconclusive otherwise.",
    "\"we prove with mean field theory that at initialization, for the original-designed Post-LN "
    "Transformer [...] the expected gradients of the parameters near the output layer are large\" "
    "(Abstract); (paraphrase) Theorem 1 (Sec. 3): the gradient of the last layer's FFN weights is "
    "O(d sqrt(ln d)) for Post-LN and O(d sqrt(ln d / L)) for Pre-LN, i.e. Pre-LN's falls like "
    "1/sqrt(L) with depth and Post-LN's does not depend on L.",
    "Pre-LN slope -0.5 +- 0.25 (a fall of at least L^-0.25 counts); Post-LN slope within +-0.25 "
    "of 0 counts as flat",
    ClaimKind::empirical};
const ClaimSpec kGradByLayer{
    "xiong.grad-by-layer",
    kPaper,
    "per-layer FFN grad norm at init, last/first ratio (L = 8)",
    "grows with layer index for Post-LN; does not grow for Pre-LN",
    "Per seed, the least-squares slope s of log ||grad W_ffn(layer l)|| on l, as the fitted "
    "ratio last/first = exp(7 s); its 95% interval over seeds. Holds when the Post-LN interval "
    "lies above 1.5 and the Pre-LN interval below 1.5 (no growth: the paper's theory bounds "
    "Pre-LN's gradients by a scale that falls with depth, it does not predict a flat profile); "
    "fails when the Post-LN interval lies below 1.5 or the Pre-LN interval above it; "
    "inconclusive otherwise.",
    "(paraphrase) Sec. 3 and Fig. 3: at initialisation, Post-LN's expected FFN gradient norm "
    "grows with the layer index and Pre-LN's does not; Theorem 1 bounds the last layer only "
    "(Pre-LN: O(d sqrt(ln d / L)), shrinking with depth), so the theory predicts no growth with "
    "l for Pre-LN, not a flat profile.",
    "growth from the first to the last layer by a factor of 1.5 counts as growth (Post-LN: at "
    "least 1.5; Pre-LN: less than 1.5 counts as no growth)",
    ClaimKind::empirical};
const ClaimSpec kWarmup{
    "xiong.warmup",
    kPaper,
    "largest lr that trains, with and without warm-up, per norm position (lr sweep)",
    "warm-up raises Post-LN's largest lr, not Pre-LN's; Pre-LN without warm-up trains at a "
    "larger lr than Post-LN",
    "Per seed and condition (Post-/Pre-LN, with/without warm-up), the largest lr of the grid at "
    "which the run trains: in-range accuracy >= 0.75 (chance 0.5) on accepted and rejected words "
    "of every training length, half the rejected ones near misses. Per seed A = log2(largest lr "
    "with warm-up / without) for Post-LN, B = the same for Pre-LN, C = log2(largest lr of Pre-LN "
    "/ of Post-LN, both without warm-up). Holds when the 95% intervals of A and C lie in [1, inf) "
    "and of B in [-1, 1]; fails when any of them misses its region entirely; inconclusive "
    "otherwise, and when the grid does not bracket every run (the smallest lr must train and the "
    "largest fail for every condition and seed).",
    "\"the expected gradients of the parameters near the output layer are large. Therefore, "
    "using a large learning rate on those gradients makes the training unstable. The warm-up "
    "stage is practically helpful for avoiding this problem. [...] if the layer normalization is "
    "put inside the residual blocks (recently proposed as Pre-LN Transformer), the gradients are "
    "well-behaved at initialization. This motivates us to remove the warm-up stage for the "
    "training of Pre-LN Transformers.\" (Abstract)",
    "a factor of 2 in the largest trainable lr: A >= 1 and C >= 1 (log2), |B| < 1 counts as no "
    "change",
    ClaimKind::empirical};

// Gradients at initialisation are cheap (seeds for them: `seeds`); the warm-up runs train
// (`warm_seeds`, with the warm-up models' own width and depth) over the lr grid `lrs`.
struct Setting {
  int d, heads, batch, batches, seeds;
  int warm_d, warm_heads, warm_layers, warm_seeds, steps, eval_words;
  std::string lengths, test_lengths;
  std::vector<double> lrs;
};
// Log-spaced by about sqrt(10), fixed before running: issue 26 reports that at 1e-3 and 3e-3
// neither norm position needs warm-up, and that at 1e-2 Post-LN sits at chance with and without
// it; 1e-1 is ten times that. Whether the grid brackets every run is checked, not assumed.
const std::vector<double> kLrs = {0.001, 0.00316, 0.01, 0.0316, 0.1};
constexpr double kTrains = 0.75;  // in-range accuracy that counts as trained (chance: 0.5)

// Paper: the paper's Transformer base (d_model 512, 8 heads, 6 layers, IWSLT/WMT) at half the
// width; gradients at init over the same depths, warm-up models of 6 layers trained 10^4 steps;
// 20 seeds.
Setting setting(const Context& c) {
  if (c.paper())
    return {256, 8,      64,      8,   c.seeds(10, 10, 20), 256, 8, 6, c.seeds(3, 10, 20), 10000,
            64,  "1:30", "31:40", kLrs};
  if (c.full())
    return {64, 4,      64,      8,   c.seeds(10, 10), 32, 2, 6, c.seeds(3, 10), 600,
            64, "1:30", "31:40", kLrs};
  return {32, 2, 64, 4, c.seeds(10, 10), 16, 2, 4, c.seeds(3, 10), 300, 32, "1:20", "21:30", kLrs};
}

// The paper's setting scaled down: Xavier-like init (std 1/sqrt(d)), d_ff = 4d, zero biases.
nets::RunConfig model_config(const Setting& s, int layers, nets::NormPosition pos,
                             std::uint64_t seed) {
  nets::RunConfig c;
  c.model.d_model = s.d;
  c.model.n_heads = s.heads;
  c.model.d_ff = 4 * s.d;
  c.model.n_layers = layers;
  c.model.norm_position = pos;
  c.model.init_std = 1.0 / std::sqrt(static_cast<double>(s.d));
  c.model.max_length = 64;
  c.model.seed = seed;
  c.train.train_lengths = s.lengths;
  c.train.test_lengths = s.test_lengths;
  c.train.batch_size = s.batch;
  return c;
}

// ||grad|| of layer l's FFN weights (w1 and w2 together) at initialisation, for every layer,
// averaged over `batches` batches (double precision).
std::vector<double> ffn_grads_at_init(const nets::RunConfig& config, int batches,
                                      std::uint64_t batch_seed) {
  auto language = resolve_language(kLanguage);
  const int k = language->alphabet().size();
  nets::Transformer<double> model(config.model, k);
  model.init();
  Sampler sampler(language);
  nets::BatchDrawer drawer(sampler, config);
  std::vector<Example> examples(config.train.batch_size);
  Rng rng(batch_seed);
  std::vector<double> out(config.model.n_layers, 0.0);
  for (int b = 0; b < batches; ++b) {
    drawer.draw(examples, rng);
    std::vector<const Example*> ptrs;
    for (const auto& e : examples) ptrs.push_back(&e);
    const auto norms =
        ffn_gradient_norms(model, nets::make_batch<double>(ptrs, k, config.model.objective));
    for (int l = 0; l < config.model.n_layers; ++l) out[l] += norms[l] / batches;
  }
  return out;
}

const std::vector<int> kDepths = {1, 2, 4, 8, 16};
constexpr int kByLayerDepth = 8;

// The warm-up claim's runs, in the order (norm position, warm-up, lr, seed).
std::vector<RunRequest> warmup_runs(const Setting& s) {
  const nets::NormPosition positions[2] = {nets::NormPosition::post, nets::NormPosition::pre};
  const int n_lr = static_cast<int>(s.lrs.size());
  std::vector<RunRequest> runs;
  for (int p = 0; p < 2; ++p)
    for (int warm = 0; warm < 2; ++warm)
      for (int li = 0; li < n_lr; ++li)
        for (int seed = 0; seed < s.warm_seeds; ++seed) {
          Setting ws = s;
          ws.d = s.warm_d, ws.heads = s.warm_heads, ws.batch = 32;
          nets::RunConfig cfg = model_config(ws, s.warm_layers, positions[p], seed);
          cfg.set("steps", std::to_string(s.steps));
          cfg.set("lr", fmt::format("{}", s.lrs[li]));
          cfg.set("schedule", warm ? "warmup_linear" : "linear");
          cfg.set("warmup_steps", std::to_string(warm ? s.steps / 10 : 0));
          cfg.set("negatives", "mixed");
          cfg.set("eval_every", "0");
          cfg.set("checkpoint_every", "0");
          cfg.set("eval_per_length", "8");  // the summary's; the claim scores its own words
          runs.push_back({fmt::format("xiong-lr-{}-{}-lr{}-s{}", p ? "pre" : "post",
                                      warm ? "warm" : "nowarm", s.lrs[li], seed),
                          "dyck-1", cfg});
        }
  return runs;
}

std::vector<ClaimResult> run(Context& c) {
  const Setting s = setting(c);
  // The warm-up runs are the suite's only training: planned first, so that `--plan`, `--task`
  // and `--emit-slurm` do not compute the gradients at initialisation only to discard them.
  if (c.planning()) {
    c.train_all(warmup_runs(s));
    return {};
  }
  const nets::NormPosition positions[2] = {nets::NormPosition::post, nets::NormPosition::pre};
  const char* pos_names[2] = {"Post-LN", "Pre-LN"};
  // grads[pos][depth index][seed] = per-layer FFN gradient norms.
  std::vector<std::vector<std::vector<std::vector<double>>>> grads(
      2, std::vector<std::vector<std::vector<double>>>(kDepths.size(),
                                                       std::vector<std::vector<double>>(s.seeds)));
  c.progress(
      fmt::format("xiong: gradients at initialisation, {} models", 2 * kDepths.size() * s.seeds));
  const int n = static_cast<int>(2 * kDepths.size()) * s.seeds;
  c.parallel_for(n, [&](int i) {
    const int seed = i % s.seeds, di = (i / s.seeds) % kDepths.size(),
              p = i / (s.seeds * kDepths.size());
    grads[p][di][seed] =
        ffn_grads_at_init(model_config(s, kDepths[di], positions[p], seed), s.batches, 1000 + seed);
  });
  const std::string setup_models = fmt::format(
      "Recognisers of {} (BOS readout), d_model {}, {} heads, d_ff {}, init N(0, 1/d) (Xavier's "
      "variance for square matrices), zero biases, LayerNorm with unit gains; gradient norms "
      "averaged over {} "
      "batches of {} words (lengths {}, half accepted) per seed, {} seeds; double precision",
      kLanguage, s.d, s.heads, 4 * s.d, s.batches, s.batch, s.lengths, s.seeds);

  std::vector<ClaimResult> results;
  {  // grad-depth
    ClaimResult r(kGradDepth);
    r.setup = setup_models + fmt::format("; depths {}.", fmt::join(kDepths, ", "));
    std::vector<Verdict> parts;
    std::string data;
    std::vector<std::vector<double>> seed_slopes(2);
    for (int p = 0; p < 2; ++p) {
      std::vector<double>& slopes = seed_slopes[p];
      for (int seed = 0; seed < s.seeds; ++seed) {
        std::vector<double> x, y;
        for (std::size_t di = 0; di < kDepths.size(); ++di) {
          x.push_back(std::log(kDepths[di]));
          y.push_back(std::log(grads[p][di][seed].back()));
        }
        slopes.push_back(slope(x, y));
      }
      const Summary sm = summarize(slopes);
      r.numbers[pos_names[p]]["slopes"] = slopes;
      r.numbers[pos_names[p]]["slope_mean"] = sm.mean;
      r.numbers[pos_names[p]]["slope_ci"] = {sm.ci.lo, sm.ci.hi};
      for (std::size_t di = 0; di < kDepths.size(); ++di) {
        std::vector<double> g;
        for (int seed = 0; seed < s.seeds; ++seed) g.push_back(grads[p][di][seed].back());
        const Summary gs = summarize(g);
        r.numbers[pos_names[p]]["last_layer_grad"][std::to_string(kDepths[di])] = g;
        data +=
            fmt::format("{} {} {} {}\n", kDepths[di], gs.mean, gs.mean - gs.sd, gs.mean + gs.sd);
      }
      data += "\n\n";
      parts.push_back(p == 0 ? decide(sm.ci, {-0.25, 0.25}) : decide(sm.ci, {-0.75, -0.25}));
      r.value += fmt::format("{}{} slope {}", p ? "; " : "", pos_names[p], format_summary(sm, 2));
    }
    r.verdict = all_of(parts);
    r.per_seed.columns = {"seed", "Post-LN slope", "Pre-LN slope"};
    std::vector<double> pre_fall;
    for (int seed = 0; seed < s.seeds; ++seed) {
      r.per_seed.rows.push_back(
          {std::to_string(seed), fmt_num(seed_slopes[0][seed]), fmt_num(seed_slopes[1][seed])});
      pre_fall.push_back(-seed_slopes[1][seed]);
    }
    r.effects.push_back(
        {"Pre-LN fall with depth (-slope; the paper: 0.5)", summarize(pre_fall), 0.25});
    r.effects.push_back(
        {"Post-LN slope (counts as flat within +-0.25)", summarize(seed_slopes[0]), 0.25});
    r.differs = fmt::format(
        "The paper analyses translation models (d = 512, 6 layers, Xavier init) and bounds the "
        "expected gradient; we measure a few batches of a formal-language recogniser at d = {}, "
        "with a single-logit BCE loss read from BOS instead of token-level cross-entropy.",
        s.d);
    r.figure = Figure{data,
                      "set logscale xy\nset xrange [0.8:20]\nset offsets 0, 0, graph 0.1, graph "
                      "0.1\nset xlabel 'layers L'\nset ylabel '||grad W_ffn|| of the "
                      "last layer (mean +- sd)'\nset key top right\nplot data index 0 using "
                      "1:2:3:4 with yerrorlines title 'Post-LN', data index 1 using 1:2:3:4 with "
                      "yerrorlines title 'Pre-LN'"};
    results.push_back(std::move(r));
  }
  {  // grad-by-layer, from the depth-8 models
    ClaimResult r(kGradByLayer);
    const std::size_t di =
        std::find(kDepths.begin(), kDepths.end(), kByLayerDepth) - kDepths.begin();
    r.setup = setup_models + fmt::format("; {} layers.", kByLayerDepth);
    std::vector<Verdict> parts;
    std::string data;
    std::vector<std::vector<double>> ratios(2);
    for (int p = 0; p < 2; ++p) {
      std::vector<double> log_ratios;
      for (int seed = 0; seed < s.seeds; ++seed) {
        ratios[p].push_back(fitted_last_first_ratio(grads[p][di][seed]));
        log_ratios.push_back(std::log(ratios[p].back()));
      }
      const Summary sm = summarize(log_ratios);
      const Interval ratio{std::exp(sm.ci.lo), std::exp(sm.ci.hi)};
      r.numbers[pos_names[p]]["ratios"] = ratios[p];
      r.numbers[pos_names[p]]["ratio_mean"] = std::exp(sm.mean);
      r.numbers[pos_names[p]]["ratio_ci"] = {ratio.lo, ratio.hi};
      for (int l = 0; l < kByLayerDepth; ++l) {
        std::vector<double> g;
        for (int seed = 0; seed < s.seeds; ++seed) g.push_back(grads[p][di][seed][l]);
        const Summary gs = summarize(g);
        r.numbers[pos_names[p]]["per_layer"].push_back(g);
        data += fmt::format("{} {} {} {}\n", l, gs.mean, gs.mean - gs.sd, gs.mean + gs.sd);
      }
      data += "\n\n";
      // Post-LN: growth by at least 1.5; Pre-LN: no growth (any ratio below 1.5, falling too).
      parts.push_back(p == 0 ? decide(ratio, {1.5, INFINITY}) : decide(ratio, {0, 1.5}));
      r.value += fmt::format("{}{} last/first {:.2f} [{:.2f}, {:.2f}]", p ? "; " : "", pos_names[p],
                             std::exp(sm.mean), ratio.lo, ratio.hi);
      r.effects.push_back({fmt::format("{} ln(last/first) ({} 1.5 counts)", pos_names[p],
                                       p == 0 ? "growth by at least" : "no growth: below"),
                           sm, std::log(1.5)});
    }
    r.verdict = all_of(parts);
    r.per_seed.columns = {"seed", "Post-LN last/first", "Pre-LN last/first"};
    for (int seed = 0; seed < s.seeds; ++seed)
      r.per_seed.rows.push_back(
          {std::to_string(seed), fmt_num(ratios[0][seed], 2), fmt_num(ratios[1][seed], 2)});
    r.differs =
        "The paper's Fig. 3 is for its 6-layer translation models (W^{2,l} only, "
        "averaged over batches); we use w1 and w2 of 8-layer recognisers on a few batches. Our "
        "Pre-LN profile falls with l (an independent mean-field simulation of this architecture "
        "gives last/first 0.44-0.46 at 8 layers), which the paper's bound allows.";
    r.figure = Figure{data,
                      "set logscale y\nset xrange [-0.5:7.5]\nset offsets 0, 0, graph 0.1, graph "
                      "0.1\nset xlabel 'layer l'\nset ylabel '||grad W_ffn(l)|| at "
                      "init (mean +- sd)'\nplot data index 0 using 1:2:3:4 with yerrorlines title "
                      "'Post-LN', data index 1 using 1:2:3:4 with yerrorlines title 'Pre-LN'"};
    results.push_back(std::move(r));
  }
  {  // warm-up: an lr sweep per norm position and schedule
    ClaimResult r(kWarmup);
    const int n_lr = static_cast<int>(s.lrs.size());
    const auto [lo, hi] = parse_length_range(s.lengths, "lengths");
    // Runs in the order (p, warm, lr, seed).
    auto index = [&](int p, int warm, int li, int seed) {
      return ((p * 2 + warm) * n_lr + li) * s.warm_seeds + seed;
    };
    const std::vector<RunRequest> runs = warmup_runs(s);
    c.progress(fmt::format("xiong: warm-up, lr sweep, {} training runs", runs.size()));
    const auto out = c.train_all(runs);
    std::vector<double> accuracy(runs.size());
    c.parallel_for(static_cast<int>(runs.size()), [&](int i) {
      accuracy[i] =
          final_accuracy(c, out[i].dir, "dyck-1", lo, hi, s.eval_words, Negatives::mixed, 0xE7A1);
    });
    const char* cond_names[4] = {"Post-LN, no warm-up", "Post-LN, warm-up", "Pre-LN, no warm-up",
                                 "Pre-LN, warm-up"};
    // max_lr[p * 2 + warm][seed]: the largest lr that trains; none: one grid step below the grid.
    std::vector<std::vector<double>> max_lr(4, std::vector<double>(s.warm_seeds));
    std::vector<std::string> censored;  // "CONDITION seed S" for every unbracketed run
    std::string data;
    for (int cond = 0; cond < 4; ++cond) {
      const int p = cond / 2, warm = cond % 2;
      Json acc_json, loss_json;
      for (int li = 0; li < n_lr; ++li) {
        std::vector<double> a, loss;
        for (int seed = 0; seed < s.warm_seeds; ++seed) {
          a.push_back(accuracy[index(p, warm, li, seed)]);
          loss.push_back(out[index(p, warm, li, seed)].final_loss);
          if ((li == 0 && a.back() < kTrains) || (li == n_lr - 1 && a.back() >= kTrains))
            censored.push_back(fmt::format("{} seed {} ({} at lr {:g})", cond_names[cond], seed,
                                           li == 0 ? "fails" : "trains", s.lrs[li]));
        }
        const Summary sm = summarize(a);
        // Side by side: each condition's points shifted by a few percent in lr.
        data += fmt::format("{} {} {}\n", s.lrs[li] * (0.9 + 0.065 * cond), sm.mean, sm.sd);
        acc_json[fmt::format("{}", s.lrs[li])] = a;
        loss_json[fmt::format("{}", s.lrs[li])] = loss;
      }
      data += "\n\n";
      for (int seed = 0; seed < s.warm_seeds; ++seed) {
        std::vector<double> curve;
        for (int li = 0; li < n_lr; ++li) curve.push_back(accuracy[index(p, warm, li, seed)]);
        const int best = largest_trained(curve, kTrains);
        max_lr[cond][seed] = best >= 0 ? s.lrs[best] : s.lrs[0] * s.lrs[0] / s.lrs[1];
      }
      r.numbers[cond_names[cond]] = {
          {"accuracy", acc_json}, {"final_loss", loss_json}, {"largest_lr", max_lr[cond]}};
    }
    const bool bracketed = censored.empty();
    std::vector<double> a_post, b_pre, c_pre_post;
    r.per_seed.columns = {"seed",
                          "largest lr: Post-LN",
                          "Post-LN, warm-up",
                          "Pre-LN",
                          "Pre-LN, warm-up",
                          "A (Post-LN gain)",
                          "B (Pre-LN gain)",
                          "C (Pre/Post)"};
    auto lr_cell = [&](double lr) {
      return lr < s.lrs[0] ? fmt::format("< {:g}", s.lrs[0]) : fmt::format("{:g}", lr);
    };
    for (int seed = 0; seed < s.warm_seeds; ++seed) {
      a_post.push_back(std::log2(max_lr[1][seed] / max_lr[0][seed]));
      b_pre.push_back(std::log2(max_lr[3][seed] / max_lr[2][seed]));
      c_pre_post.push_back(std::log2(max_lr[2][seed] / max_lr[0][seed]));
      r.per_seed.rows.push_back({std::to_string(seed), lr_cell(max_lr[0][seed]),
                                 lr_cell(max_lr[1][seed]), lr_cell(max_lr[2][seed]),
                                 lr_cell(max_lr[3][seed]), fmt_num(a_post.back(), 2),
                                 fmt_num(b_pre.back(), 2), fmt_num(c_pre_post.back(), 2)});
    }
    const Summary a = summarize(a_post), b = summarize(b_pre), cc = summarize(c_pre_post);
    r.effects.push_back({"A: log2 gain in the largest lr from warm-up, Post-LN", a, 1});
    r.effects.push_back({"B: log2 gain from warm-up, Pre-LN (|B| < 1 counts as none)", b, 1});
    r.effects.push_back({"C: log2 largest lr Pre-LN / Post-LN, no warm-up", cc, 1});
    r.numbers["lrs"] = s.lrs;
    r.numbers["trains_at"] = kTrains;
    r.numbers["bracketed"] = bracketed;
    r.numbers["not_bracketed"] = censored;
    r.numbers["effects"] = {{"A", a_post}, {"B", b_pre}, {"C", c_pre_post}};
    // Each part can fail for the reason the paper names: if warm-up did not matter for Post-LN,
    // A would be 0 on every seed (interval [0, 0], outside [1, inf)); if Pre-LN needed it, B
    // would be >= 1.66 (one grid step) on every seed; if Pre-LN were no more robust, C = 0.
    std::vector<Verdict> parts = {decide(a.ci, {1, INFINITY}), decide(b.ci, {-1, 1}),
                                  decide(cc.ci, {1, INFINITY})};
    // An unbracketed run's largest lr is censored (below or at the grid's ends), so an effect
    // computed from it could be off in either direction: as the criterion says, the claim is
    // then inconclusive whatever the parts say (the parts stay in the report).
    r.verdict = bracketed ? all_of(parts) : Verdict::inconclusive;
    r.value = fmt::format(
        "log2 gain from warm-up: Post-LN {}, Pre-LN {}; Pre/Post without {}{}",
        format_summary(a, 2), format_summary(b, 2), format_summary(cc, 2),
        bracketed ? "" : fmt::format(" (the grid does not bracket {})", fmt::join(censored, "; ")));
    r.setup = fmt::format(
        "Recognisers of dyck-1, {} layers, d_model {}, {} heads, init N(0, 1/d), Adam for {} "
        "steps, batch 32, lengths {}, half the rejected training words near misses; lr grid {} "
        "(log-spaced by sqrt(10)); with warm-up (linear over the first {} steps, then linear "
        "decay) or without (linear decay from the start). A run trains when its final model "
        "scores >= {} on {} accepted and {} rejected words (half near misses) per length {}; {} "
        "seeds, the same initialisation and data for every lr and schedule.",
        s.warm_layers, s.warm_d, s.warm_heads, s.steps, s.lengths, fmt::join(s.lrs, ", "),
        s.steps / 10, kTrains, s.eval_words, s.eval_words, s.lengths, s.warm_seeds);
    r.differs =
        "The paper trains 6-layer translation models for many epochs (lr 5e-4 to 1e-3 "
        "with 4000 warm-up steps) and reports BLEU and validation loss over training; ours are "
        "small recognisers trained for a few hundred steps, and the largest lr that trains is "
        "read on a grid a factor sqrt(10) apart.";
    r.figure = Figure{
        data,
        fmt::format("set logscale x\nset xrange [{}:{}]\nset yrange [0:1.25]\nset xlabel 'peak "
                    "learning rate'\nset ylabel 'in-range accuracy, near-miss negatives (mean +- "
                    "sd)'\nset key top right\nplot data index 0 using 1:2:3 with yerrorlines "
                    "title 'Post-LN', data index 1 using 1:2:3 with yerrorlines title 'Post-LN, "
                    "warm-up', data index 2 using 1:2:3 with yerrorlines title 'Pre-LN', data "
                    "index 3 using 1:2:3 with yerrorlines title 'Pre-LN, warm-up', {} with lines "
                    "dt 2 lc rgb 'black' title 'trains: {}', 0.5 with lines dt 3 lc rgb 'gray' "
                    "title 'chance'",
                    s.lrs.front() / 2, s.lrs.back() * 2, kTrains, kTrains)};
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace xiong

Suite xiong_suite() {
  return {
      "xiong", xiong::kPaper, {xiong::kGradDepth, xiong::kGradByLayer, xiong::kWarmup}, xiong::run};
}

}  // namespace saturn::theory
