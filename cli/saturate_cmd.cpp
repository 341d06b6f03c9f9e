// `saturn norms`, `saturn saturate`, `saturn heads`, `saturn circuit`: norm growth, saturation,
// head roles and exact saturated circuits (saturate/).
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/atomic_file.h"
#include "base/budget.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "base/names.h"
#include "cli/commands.h"
#include "cli/threads_option.h"
#include "cli/tie_option.h"
#include "cli/word_args.h"
#include "lang/builtin.h"
#include "saturate/circuit.h"
#include "saturate/exact_eval.h"
#include "saturate/extract.h"
#include "saturate/head_roles.h"
#include "saturate/norm_fit.h"
#include "saturate/plot.h"
#include "saturate/saturation.h"

namespace saturn::cli {

namespace {

namespace fs = std::filesystem;
using saturate::TieRule;

// Options shared by the commands that analyse a run on probe words.
struct ProbeOptions {
  std::string lang, lengths, tie = "average", checkpoint = "last";
  int per_length = 0, tie_bits = 16;
  std::uint64_t seed = 0;

  void add(CLI::App* cmd, bool checkpoint_all) {
    cmd->add_option("--lang", lang, "Language of the probe words (default: the one trained on)");
    cmd->add_option("--lengths", lengths, "Probe lengths A:B (default: the training lengths)");
    cmd->add_option("--per-length", per_length,
                    "Accepted and rejected probe words per length (default: ~1000 words in all)");
    cmd->add_option("--tie", tie, "Saturated attention: average, leftmost or rightmost")
        ->capture_default_str();
    cmd->add_option("--tie-bits", tie_bits, "Scores tie when equal to this many significant bits")
        ->capture_default_str();
    cmd->add_option("--checkpoint", checkpoint,
                    checkpoint_all ? "STEP, last or all" : "STEP or last")
        ->capture_default_str();
    cmd->add_option("--seed", seed, "Seed for the probe words")->capture_default_str();
  }
  TieRule tie_rule() const { return parse_tie_rule(tie, tie_bits); }
  // The checkpoints chosen by --checkpoint.
  std::vector<fs::path> checkpoints(const std::string& run) const {
    auto all = nets::list_checkpoints(run);
    if (checkpoint == "all") {
      std::vector<fs::path> paths;
      for (const auto& [step, path] : all) paths.push_back(path);
      return paths;
    }
    if (checkpoint == "last") return {all.back().second};
    for (const auto& [step, path] : all)
      if (std::to_string(step) == checkpoint) return {path};
    throw InputError(fmt::format("--checkpoint: {} has no checkpoint at step '{}' (steps {}..{})",
                                 run, checkpoint, all.front().first, all.back().first));
  }
  struct Probes {
    std::shared_ptr<const Language> language;
    std::vector<Example> words;
    std::string lengths;
  };
  Probes probes(const nets::Checkpoint& c) const {
    Probes p;
    p.language = lang.empty() ? nets::checkpoint_language(c) : resolve_language(lang);
    nets::check_alphabet(c, *p.language);
    p.lengths = lengths.empty() ? c.config.train.train_lengths : lengths;
    auto [lo, hi] = parse_length_range(p.lengths, "--lengths");
    if (hi > c.config.model.max_length)
      throw InputError(fmt::format("--lengths: {} is longer than the model's max_length ({})", hi,
                                   c.config.model.max_length));
    if (per_length < 0 || per_length > (1 << 20))
      throw InputError(
          fmt::format("--per-length: expected 0 (automatic) to {} (got {})", 1 << 20, per_length));
    const int K = per_length > 0 ? per_length : std::max(1, (500 + (hi - lo)) / (hi - lo + 1));
    require_memory(2.0 * K * (hi - lo + 1) * (64 + 2.0 * hi), "--per-length", "the probe words");
    Sampler sampler(p.language);
    p.words = saturate::probe_set(sampler, lo, hi, K, seed);
    if (p.words.empty()) throw InputError(fmt::format("no probe words at lengths {}", p.lengths));
    return p;
  }
};

std::string fmt_c(double c) {
  return fmt::format("{:g}", c);
}

void print_heads(const std::vector<saturate::HeadRole>& roles) {
  fmt::print("layer head  attended  sd    P(>1)  fraction  label   pattern\n");
  for (const auto& r : roles)
    fmt::print("{:>5} {:>4}  {:>8.2f}  {:>4.2f}  {:>5.2f}  {:>8.2f}  {:<6}  {}\n", r.layer, r.head,
               r.mean_attended, r.sd_attended, r.p_multiple, r.mean_fraction, r.label,
               r.pattern.empty() ? "-"
                                 : fmt::format("attends to {} ({:.0f}% of queries)", r.pattern,
                                               100 * r.pattern_share));
}

void add_norms(CLI::App& app) {
  auto* cmd = app.add_subcommand("norms", "Fit the parameter norm's growth over training");
  auto run = std::make_shared<std::string>();
  auto skip = std::make_shared<double>(0);
  cmd->add_option("RUN", *run, "Run directory (reads metrics.jsonl)")->required();
  cmd->add_option("--skip", *skip, "Ignore steps t <= SKIP in the fits")->capture_default_str();
  cmd->callback([=] {
    if (!(std::isfinite(*skip) && *skip >= 0))
      throw InputError(fmt::format("--skip: expected a step >= 0 (got {})", *skip));
    const auto s = saturate::read_norm_series(*run);
    const auto fits = saturate::norm_growth_fit(s.step, s.norm, *skip);
    fmt::print(
        "{}: parameter norm over {} steps ({:.3f} -> {:.3f}), fits rho(t) = a + b f(t) "
        "for t > {:g}\n\n",
        *run, s.step.size(), s.norm.front(), s.norm.back(), *skip);
    const bool good = fits.front().r2 >= saturate::kGoodFit;
    fmt::print("f(t)        a          b          R^2    adj. R^2\n");
    for (const auto& f : fits)
      fmt::print(
          "{:<9} {:>9.4f}  {:>9.4f}  {:>9.5f}  {:>9.5f}{}{}\n", f.f, f.a, f.b, f.r2, f.adjusted_r2,
          f.f == "t^p"
              ? fmt::format("  p = {:.3f} (95% interval {:.3f}..{:.3f})", f.p, f.p_lo, f.p_hi)
              : "",
          good && &f == &fits.front() ? "  best" : "");
    if (!good) fmt::print("no form reaches R^2 >= {}: none is called best\n", saturate::kGoodFit);
    if (!s.group_names.empty()) {
      fmt::print("\nby group (first -> last step):\n");
      for (std::size_t g = 0; g < s.group_names.size(); ++g)
        fmt::print("  {:<9} {:>9.4f} -> {:.4f}\n", s.group_names[g], s.group_norm[g].front(),
                   s.group_norm[g].back());
    }
    // norms.csv: the series, each fit's value, and the groups.
    std::ostringstream csv, data;
    csv << "step,param_norm";
    for (const auto& f : fits) csv << ",fit_" << f.f;
    for (const auto& g : s.group_names) csv << ",norm." << g;
    csv << "\n";
    for (std::size_t i = 0; i < s.step.size(); ++i) {
      csv << s.step[i] << "," << fmt::format("{:.9g}", s.norm[i]);
      data << s.step[i] << "\t" << s.norm[i];
      for (const auto& f : fits) {
        const double v = s.step[i] > 0 ? f.eval(s.step[i]) : NAN;
        csv << "," << fmt::format("{:.9g}", v);
        data << "\t" << v;
      }
      for (const auto& g : s.group_norm) csv << "," << fmt::format("{:.9g}", g[i]);
      csv << "\n";
      data << "\n";
    }
    write_file_atomically(fs::path(*run) / "norms.csv", csv.str());
    std::string script =
        "set xlabel 'step t (optimizer steps)'\nset ylabel 'parameter norm rho (L2, all "
        "parameters)'\nset key right bottom\n"
        "set title 'norm growth: rho(t) = a + b f(t), least squares'\n"
        "plot data using 1:2 with points pt 7 ps 0.3 lc rgb '#444444' title 'rho(t)'";
    for (std::size_t i = 0; i < fits.size(); ++i)
      script += fmt::format(", data using 1:{} with lines lw 2 title '{} (R^2 = {:.4f})'", i + 3,
                            fits[i].f == "t^p" ? fmt::format("t^{:.3f}", fits[i].p) : fits[i].f,
                            fits[i].r2);
    const bool plotted = saturate::gnuplot_svg(fs::path(*run) / "norms.svg", data.str(), script);
    fmt::print("\nwrote {}/norms.csv{}\n", *run, plotted ? " and norms.svg" : "");
  });
}

void add_saturate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "saturate", "Saturation, saturated accuracy and agreement, per checkpoint and length");
  add_threads_option(cmd);
  auto run = std::make_shared<std::string>();
  auto opt = std::make_shared<ProbeOptions>();
  cmd->add_option("RUN", *run, "Run directory or checkpoint file")->required();
  opt->add(cmd, true);
  cmd->callback([=] {
    const TieRule tie = opt->tie_rule();
    const auto paths = opt->checkpoints(*run);
    const nets::Checkpoint first = nets::load_checkpoint(paths.front());
    saturate::require_softmax(first.config.model);
    const auto probes = opt->probes(first);
    fmt::print(
        "{} on {}: {} probe words at lengths {}\nsaturated network: {}\n"
        "saturation: mean cos(h(theta), h(c theta)) over positions, c = 1000\n\n",
        *run, probes.language->name(), probes.words.size(), probes.lengths, tie.describe());
    fmt::print("  step      norm  cos(all)  cos(logits)  soft acc  sat acc  agree\n");
    std::vector<saturate::SaturationRow> rows;
    Progress progress("saturate");
    for (std::size_t k = 0; k < paths.size(); ++k) {
      const auto& path = paths[k];
      const nets::Checkpoint c = k == 0 ? first : nets::load_checkpoint(path);
      rows.push_back(saturate::saturation_report(
          c, probes.words, tie, saturate::kDefaultScales, [&](int done, int total) {
            progress.update(fmt::format("checkpoint {}/{} (step {}), forward pass {}/{}", k + 1,
                                        paths.size(), c.step, done, total));
          }));
      const auto& r = rows.back();
      progress.clear();
      fmt::print("{:>6}  {:>8.3f}  {:>8.5f}  {:>11.5f}  {:>8.4f}  {:>7.4f}  {:>5.4f}\n", r.step,
                 r.norm, r.cosine_all.back(), r.cosine_logits.back(), r.soft_accuracy(),
                 r.hard_accuracy(), r.agreement());
      std::fflush(stdout);  // a row as soon as it is known, in a log too
    }
    const auto& last = rows.back();
    fmt::print("\nsaturation curve at step {} (c: cos all / cos logits):", last.step);
    for (std::size_t i = 0; i < last.cs.size(); ++i)
      fmt::print("  {}: {:.4f}/{:.4f}", fmt_c(last.cs[i]), last.cosine_all[i],
                 last.cosine_logits[i]);
    fmt::print("\n\nper length at step {}:\nlength  words  soft acc  sat acc  agree\n", last.step);
    for (const auto& [n, st] : last.per_length)
      fmt::print("{:>6}  {:>5}  {:>8.4f}  {:>7.4f}  {:>5.4f}\n", n, st.words,
                 double(st.soft_correct) / st.words, double(st.hard_correct) / st.words,
                 double(st.agree) / st.words);

    // saturation.csv: one row per checkpoint and length ("all" for the whole probe set).
    const fs::path dir = fs::is_directory(*run) ? fs::path(*run) : fs::path(*run).parent_path();
    std::ostringstream csv, data;
    csv << "step,norm,length,words,soft_accuracy,saturated_accuracy,agreement,tie,tie_bits";
    for (double c : last.cs) csv << ",cos_all_" << fmt_c(c);
    for (double c : last.cs) csv << ",cos_logits_" << fmt_c(c);
    csv << "\n";
    const char* rule = nets::kHardAttentionNames[static_cast<int>(tie.hard)];
    for (const auto& r : rows) {
      auto line = [&](const std::string& length, const saturate::LengthStats& st) {
        csv << fmt::format("{},{:.9g},{},{},{:.9g},{:.9g},{:.9g},{},{}", r.step, r.norm, length,
                           st.words, double(st.soft_correct) / st.words,
                           double(st.hard_correct) / st.words, double(st.agree) / st.words, rule,
                           tie.tie_bits);
        for (double v : r.cosine_all) csv << fmt::format(",{:.9g}", v);
        for (double v : r.cosine_logits) csv << fmt::format(",{:.9g}", v);
        csv << "\n";
      };
      line("all", r.total);
      for (const auto& [n, st] : r.per_length) line(std::to_string(n), st);
      data << fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}\n", r.step, r.norm, r.cosine_all.back(),
                          r.cosine_logits.back(), r.soft_accuracy(), r.hard_accuracy(),
                          r.agreement());
    }
    write_file_atomically(dir / "saturation.csv", csv.str());
    const std::string script = fmt::format(
        "set xlabel 'step (optimizer steps)'\nset ylabel 'accuracy / agreement / cosine "
        "(fraction)'\nset y2label 'parameter norm rho (L2)'\n"
        // Autoscaled with a margin, not 0..1: the values often lie within a few hundredths.
        "set y2tics\nset ytics nomirror\nset offsets 0, 0, graph 0.05, graph 0.05\n"
        "set key below\n"
        "set title 'saturation as the norm grows ({})'\n"
        "plot data using 1:5 with linespoints title 'soft accuracy', "
        "data using 1:6 with linespoints title 'saturated accuracy', "
        "data using 1:7 with linespoints title 'agreement', "
        "data using 1:3 with lines dt 2 title 'cos(theta, 1000 theta)', "
        "data using 1:4 with lines dt 3 title 'cos(scores x 1000)', "
        "data using 1:2 axes x1y2 with lines lw 2 lc rgb '#888888' title 'norm'",
        tie.describe());
    const bool plotted =
        rows.size() > 1 && saturate::gnuplot_svg(dir / "saturation.svg", data.str(), script);
    fmt::print("\nwrote {}{}\n", (dir / "saturation.csv").string(),
               plotted ? " and saturation.svg" : "");
  });
}

void add_heads(CLI::App& app) {
  auto* cmd = app.add_subcommand("heads", "Head roles of the saturated network");
  add_threads_option(cmd);
  auto run = std::make_shared<std::string>();
  auto opt = std::make_shared<ProbeOptions>();
  auto th = std::make_shared<saturate::HeadThresholds>();
  auto plot = std::make_shared<bool>(false);
  cmd->add_option("RUN", *run, "Run directory or checkpoint file")->required();
  opt->add(cmd, false);
  cmd->add_option("--local-max", th->local_max_attended, "local: mean attended positions <= this")
      ->capture_default_str();
  cmd->add_option("--global-min", th->global_min_fraction, "global: mean attended fraction >= this")
      ->capture_default_str();
  cmd->add_flag("--plot", *plot, "Write attention heat maps (soft | saturated) as SVG");
  cmd->callback([=] {
    if (!(std::isfinite(th->local_max_attended) && th->local_max_attended >= 0))
      throw InputError(
          fmt::format("--local-max: expected a number >= 0 (got {})", th->local_max_attended));
    if (!(std::isfinite(th->global_min_fraction) && th->global_min_fraction >= 0 &&
          th->global_min_fraction <= 1))
      throw InputError(fmt::format("--global-min: expected a fraction in [0, 1] (got {})",
                                   th->global_min_fraction));
    const TieRule tie = opt->tie_rule();
    const fs::path path = opt->checkpoints(*run).front();
    const nets::Checkpoint c = nets::load_checkpoint(path);
    const auto probes = opt->probes(c);
    auto model = saturate::double_model(c);
    const auto roles =
        saturate::head_roles(model, probes.language->alphabet(), probes.words, tie, *th);
    fmt::print("{} (step {}) on {}: {} probe words at lengths {}\nsaturated network: {}\n{}\n\n",
               path.string(), c.step, probes.language->name(), probes.words.size(), probes.lengths,
               tie.describe(), th->describe());
    print_heads(roles);
    const fs::path dir = fs::is_directory(*run) ? fs::path(*run) : path.parent_path();
    nlohmann::ordered_json j;
    j["checkpoint"] = path.string();
    j["step"] = c.step;
    j["language"] = probes.language->name();
    j["probe_words"] = probes.words.size();
    j["tie"] = nets::kHardAttentionNames[static_cast<int>(tie.hard)];
    j["tie_bits"] = tie.tie_bits;
    j["thresholds"] = {{"attended_weight", th->attended_weight},
                       {"local_max_attended", th->local_max_attended},
                       {"global_min_fraction", th->global_min_fraction},
                       {"pattern_share", th->pattern_share}};
    for (const auto& r : roles)
      j["heads"].push_back({{"layer", r.layer},
                            {"head", r.head},
                            {"mean_attended", r.mean_attended},
                            {"sd_attended", r.sd_attended},
                            {"p_multiple", r.p_multiple},
                            {"mean_fraction", r.mean_fraction},
                            {"label", r.label},
                            {"pattern", r.pattern},
                            {"pattern_share", r.pattern_share}});
    write_file_atomically(dir / "heads.json", j.dump(2) + "\n");
    fmt::print("\nwrote {}\n", (dir / "heads.json").string());
    if (*plot) {
      // Three probe words: the shortest, a middle one and the longest.
      const auto& w = probes.words;
      for (std::size_t i : {std::size_t(0), w.size() / 2, w.size() - 1}) {
        const std::string text =
            w[i].word.empty() ? "empty" : probes.language->alphabet().format(w[i].word);
        std::string safe;
        for (char ch : text) safe += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
        const fs::path svg = dir / fmt::format("attention-{}.svg", safe.substr(0, 40));
        if (saturate::write_attention_svg(svg, model, probes.language->alphabet(), w[i].word, tie))
          fmt::print("wrote {}\n", svg.string());
      }
    }
  });
}

void add_circuit(CLI::App& app) {
  auto* cmd = app.add_subcommand("circuit", "Export a saturated circuit, or run one exactly");
  add_threads_option(cmd);
  cmd->require_subcommand(0, 1);
  auto run = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto dot = std::make_shared<std::string>();
  auto bits = std::make_shared<int>(0);
  auto opt = std::make_shared<ProbeOptions>();
  cmd->add_option("RUN", *run, "Run directory or checkpoint file");
  cmd->add_option("--out", *out, "Circuit file to write (JSON)");
  cmd->add_option("--dot", *dot, "Also write a GraphViz drawing");
  cmd->add_option("--bits", *bits,
                  "Weights rounded to multiples of 2^-BITS (default: smallest "
                  "that keeps the probes' decisions)");
  opt->add(cmd, false);
  cmd->callback([=] {
    if (!cmd->get_subcommands().empty()) return;
    if (run->empty() || out->empty())
      throw InputError("circuit: expected RUN --out circuit.json (or: circuit run FILE WORD...)");
    if (*bits < 0 || *bits > 40)
      throw InputError(fmt::format("--bits: expected 1..40 (got {})", *bits));
    const TieRule tie = opt->tie_rule();
    const fs::path path = opt->checkpoints(*run).front();
    const nets::Checkpoint c = nets::load_checkpoint(path);
    const auto probes = opt->probes(c);
    auto circuit =
        saturate::export_circuit(c, probes.language->alphabet(), probes.words, tie, *bits);
    // Faithfulness: the exact circuit against the trained soft model's own decisions.
    const int train_max = parse_length_range(c.config.train.train_lengths, "train_lengths").second;
    circuit.train_lengths = c.config.train.train_lengths;
    circuit.faithfulness = saturate::faithfulness(
        circuit, probes.words, saturate::soft_decisions(c, probes.words), train_max);
    save_circuit(*out, circuit);
    const auto& a = circuit.agreement;
    fmt::print(
        "{} (step {}) -> {}\nsaturated network: {}\nweights: multiples of 2^-{}\n"
        "probe words: {} at lengths {}\n  rounded vs unrounded float saturated network: {}/{} "
        "agree\n  exact circuit vs float saturated network: {}/{} agree, {} undecided\n",
        path.string(), c.step, *out, circuit.tie.describe(), circuit.denominator_bits,
        a.probe_words, probes.lengths, a.float_agree, a.probe_words, a.exact_agree,
        a.probe_words - a.undecided, a.undecided);
    const auto in = circuit.faithfulness->in_range(), beyond = circuit.faithfulness->out_of_range();
    auto rate = [](const saturate::Faithfulness::Count& x) {
      return x.words ? fmt::format("{}/{} = {:.4f}", x.agree, x.words, x.rate())
                     : std::string("no probe words");
    };
    fmt::print(
        "  exact circuit vs the trained model (faithfulness): {} within the training lengths, "
        "{} beyond\n\n",
        rate(in), rate(beyond));
    print_heads(circuit.heads);
    if (!dot->empty()) {
      write_file_atomically(*dot, saturate::circuit_dot(circuit));
      fmt::print("\nwrote {}\n", *dot);
    }
  });

  auto* run_cmd = WordsCommand::add(*cmd, "run", "Evaluate a circuit exactly on words");
  add_threads_option(
      run_cmd);  // `circuit run FILE W --threads T` as well as `circuit --threads T run`
  auto file = std::make_shared<std::string>();
  run_cmd->add_option("CIRCUIT", *file, "Circuit file (JSON)")->required();
  run_cmd->add_words();
  run_cmd->callback([=] {
    const auto circuit = saturate::load_circuit(*file);
    const saturate::ExactEvaluator exact(circuit);
    run_cmd->for_each_word(circuit.alphabet, [&](const std::string& text, const Word& w) {
      const auto r = exact.run(w);
      std::string logit;
      if (r.verdict != saturate::Verdict::undecided || r.reason.find("logit") != std::string::npos)
        logit = r.logit.exact()
                    ? fmt::format("logit {} = {:.6g}", r.logit.lo.str(),
                                  r.logit.lo.convert_to<double>())
                    : fmt::format("logit in [{:.17g}, {:.17g}]", r.logit.lo.convert_to<double>(),
                                  r.logit.hi.convert_to<double>());
      fmt::print("{}  {}  {}{}\n", text, to_string(r.verdict), logit,
                 r.reason.empty() ? "" : "  (" + r.reason + ")");
    });
  });
}

}  // namespace

void add_saturate_commands(CLI::App& app) {
  add_norms(app);
  add_saturate(app);
  add_heads(app);
  add_circuit(app);
}

}  // namespace saturn::cli
