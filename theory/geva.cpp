// Geva, Schuster, Berant & Levy (2021), "Transformer feed-forward layers are key-value
// memories", on next-symbol models of formal languages (saturate/memories.h).
#include <fmt/format.h>

#include "lang/builtin.h"
#include "nets/checkpoint.h"
#include "nets/run_dir.h"
#include "saturate/memories.h"
#include "theory/suites.h"

namespace saturn::theory {

// Named, not anonymous: the suites share names (kPaper, Setting, run) and may be compiled as one
// unit (SATURN_UNITY).
namespace geva {

constexpr const char* kPaper = "Geva et al. 2021";

const ClaimSpec kAgreement{
    "geva.agreement",
    kPaper,
    "upper-layer value/trigger agreement minus chance",
    "values predict their triggers' next symbol well above chance",
    "Per model, the upper layer's agreement (mean over active keys of the fraction of the top-10 "
    "trigger prefixes whose legal next outputs include the value's top output) minus its exact "
    "chance rate (a uniform random output on the same triggers); its 95% t-interval over seeds, "
    "per language. Holds when every language's interval lies above 0.05; fails when any lies "
    "below 0.05; inconclusive otherwise. The best constant prediction is reported.",
    "",
    "",
    ClaimKind::empirical};
const ClaimSpec kDepth{
    "geva.depth",
    kPaper,
    "agreement, upper minus lower layer",
    "agreement higher in upper layers",
    "Per model, agreement of the last layer minus the first; 95% interval over seeds, per "
    "language. Holds when every interval lies above 0; fails when any lies below 0; "
    "inconclusive otherwise.",
    "",
    "",
    ClaimKind::empirical};
const ClaimSpec kShallow{
    "geva.shallow-patterns",
    kPaper,
    "keys whose triggers share the last symbol, lower - upper",
    "lower layers capture shallow patterns (suffixes), upper layers less so",
    "Per model, the fraction of active keys whose top-10 triggers all end in the same symbol "
    "(BOS for the empty prefix), first layer minus last; 95% interval over seeds, per language. "
    "Holds when every interval lies above 0; fails when any lies below 0; inconclusive "
    "otherwise. Shared bigrams and the chance of sharing (sum_c p_c^10) are reported.",
    "",
    "",
    ClaimKind::empirical};

constexpr int kTop = 10;
const char* kLanguages[2] = {"dyck-1", "majority"};

nets::RunConfig geva_config(int layers, int steps, std::uint64_t seed) {
  nets::RunConfig c;
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"objective", "next-symbol"},
                                                        {"causal", "true"},
                                                        {"d_model", "16"},
                                                        {"n_heads", "2"},
                                                        {"n_layers", std::to_string(layers)},
                                                        {"d_ff", "64"},
                                                        {"positional", "learned"},
                                                        {"max_length", "64"},
                                                        {"seed", std::to_string(seed)},
                                                        {"steps", std::to_string(steps)},
                                                        {"lr", "0.003"},
                                                        {"batch_size", "32"},
                                                        {"train_lengths", "0:16"},
                                                        {"test_lengths", "17:32"},
                                                        {"eval_every", "0"},
                                                        {"checkpoint_every", "0"},
                                                        {"eval_per_length", "16"}})
    c.set(k, v);
  return c;
}

std::vector<ClaimResult> run(Context& c) {
  const int seeds = c.seeds(5, 10), layers = c.full() ? 3 : 2, steps = c.full() ? 1500 : 600;
  std::vector<RunRequest> runs;
  for (const char* lang : kLanguages)
    for (int seed = 0; seed < seeds; ++seed)
      runs.push_back(
          {fmt::format("geva-{}-s{}", lang, seed), lang, geva_config(layers, steps, seed)});
  c.progress(fmt::format("geva: {} next-symbol models", runs.size()));
  const auto out = c.train_all(runs);
  std::vector<Json> layer_rows(runs.size());
  c.parallel_for(static_cast<int>(runs.size()), [&](int i) {
    layer_rows[i] = c.cached("geva-memories:" + out[i].dir.string(), [&] {
      const auto ckpt = nets::load_checkpoint(nets::latest_checkpoint(out[i].dir));
      Sampler sampler(resolve_language(runs[i].language));
      auto probes = saturate::memory_probes(sampler, true, 0, 16, 30, 16, 0);
      const auto report = saturate::ffn_memories(ckpt, std::move(probes), kTop);
      Json rows = Json::array();
      for (const auto& l : report.layers)
        rows.push_back({{"layer", l.layer},
                        {"active", l.active},
                        {"agreement", l.agreement},
                        {"chance", l.chance},
                        {"best_constant", l.best_constant},
                        {"same_last", l.same_last},
                        {"same_bigram", l.same_bigram},
                        {"chance_same_last", l.chance_same_last},
                        {"chance_same_bigram", l.chance_same_bigram}});
      return rows;
    });
  });
  ClaimResult agreement(kAgreement), depth(kDepth), shallow(kShallow);
  std::vector<Verdict> pa, pd, ps;
  std::string data;
  for (int li = 0; li < 2; ++li) {
    std::vector<double> above, diff, sdiff;
    std::vector<std::vector<double>> per_layer(layers);
    for (int seed = 0; seed < seeds; ++seed) {
      const Json& rows = layer_rows[li * seeds + seed];
      const Json& top = rows.back();
      const Json& bottom = rows.front();
      above.push_back(top["agreement"].get<double>() - top["chance"].get<double>());
      diff.push_back(top["agreement"].get<double>() - bottom["agreement"].get<double>());
      sdiff.push_back(bottom["same_last"].get<double>() - top["same_last"].get<double>());
      for (int l = 0; l < layers; ++l) per_layer[l].push_back(rows[l]["agreement"].get<double>());
      agreement.numbers[kLanguages[li]].push_back(rows);
    }
    const Summary a = summarize(above), d = summarize(diff), s = summarize(sdiff);
    pa.push_back(decide(a.ci, {0.05, INFINITY}) == Verdict::holds ? Verdict::holds
                 : a.ci.hi < 0.05                                 ? Verdict::fails
                                                                  : Verdict::inconclusive);
    pd.push_back(d.ci.lo > 0   ? Verdict::holds
                 : d.ci.hi < 0 ? Verdict::fails
                               : Verdict::inconclusive);
    ps.push_back(s.ci.lo > 0   ? Verdict::holds
                 : s.ci.hi < 0 ? Verdict::fails
                               : Verdict::inconclusive);
    agreement.value += fmt::format("{}{} {}", li ? "; " : "", kLanguages[li], format_summary(a, 3));
    depth.value += fmt::format("{}{} {}", li ? "; " : "", kLanguages[li], format_summary(d, 3));
    shallow.value += fmt::format("{}{} {}", li ? "; " : "", kLanguages[li], format_summary(s, 3));
    depth.numbers[kLanguages[li]] = diff;
    shallow.numbers[kLanguages[li]] = sdiff;
    for (int l = 0; l < layers; ++l) {
      const Summary sl = summarize(per_layer[l]);
      data += fmt::format("{} \"{} L{}\" {} {}\n", li * (layers + 1) + l, kLanguages[li], l,
                          sl.mean, sl.sd);
    }
  }
  agreement.verdict = all_of(pa), depth.verdict = all_of(pd), shallow.verdict = all_of(ps);
  const std::string setup = fmt::format(
      "Next-symbol models (causal, learned positions, pre-LN) of dyck-1 and majority, {} "
      "layers, d_model 16, 2 heads, d_ff 64; Adam lr 0.003, {} steps, batch 32, lengths 0:16; "
      "{} seeds per language. Probes: up to 30 accepted words per length 0..16, every distinct "
      "prefix a trigger candidate; top {} triggers per key (saturn memories).",
      layers, steps, seeds, kTop);
  agreement.setup = depth.setup = shallow.setup = setup;
  const std::string differs =
      "The paper studies a 16-layer language model (d_ff 4096) on WikiText-103 with natural "
      "language prefixes and human-annotated patterns; ours are small models of formal "
      "languages, where the \"next token\" is the set of legal next symbols (several may be right "
      "at once) and patterns are measured as shared last symbols.";
  agreement.differs = depth.differs = shallow.differs = differs;
  agreement.figure =
      Figure{data,
             "set offsets 0.5, 0.5, graph 0.1, graph 0.1\nset xlabel 'language and "
             "layer'\nset ylabel 'agreement (fraction of active keys, mean +- sd)'\nset xtics "
             "rotate by -20\nplot data using 1:3:4:xtic(2) with yerrorbars pt 7 notitle"};
  return {agreement, depth, shallow};
}

}  // namespace geva

Suite geva_suite() {
  return {"geva", geva::kPaper, {geva::kAgreement, geva::kDepth, geva::kShallow}, geva::run};
}

}  // namespace saturn::theory
