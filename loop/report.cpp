#include "loop/report.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "base/error.h"
#include "base/names.h"
#include "lang/builtin.h"
#include "lang/words.h"

namespace saturn::loop {

verify::Reference resolve_reference(const std::string& what) {
  verify::Reference r;
  r.name = what;
  if (std::filesystem::is_regular_file(what) && what.size() > 5 &&
      what.substr(what.size() - 5) == ".json") {
    r.circuit = std::make_shared<saturate::Circuit>(saturate::load_circuit(what));
    return r;
  }
  r.language = resolve_language(what);
  r.name = r.language->name();
  return r;
}

VerifyResult verify_circuit(const VerifyOptions& a) {
  VerifyResult r;
  r.circuit = saturate::load_circuit(a.circuit);
  r.reference = resolve_reference(a.against);
  verify::Options o;
  o.min_length = a.min_length;
  o.max_length = a.max_length;
  o.method = parse_name<verify::Method>(verify::kMethodNames, "--method", a.method);
  if (!(std::isfinite(a.timeout) && a.timeout >= 0 && a.timeout <= 1e7))
    throw InputError(fmt::format("--timeout: expected seconds in [0, 10^7] (got {})", a.timeout));
  o.timeout_seconds = a.timeout;
  o.progress = a.progress;
  r.verdict = verify::check_equivalence(r.circuit, r.reference, o);
  return r;
}

void add_verdict_fields(nlohmann::ordered_json& j, const verify::Verdict& v,
                        const saturate::Circuit& circuit) {
  j["verdict"] = v.kind == verify::Verdict::equivalent       ? "equivalent"
                 : v.kind == verify::Verdict::counterexample ? "counterexample"
                                                             : "unknown";
  j["method"] = v.method;
  j["seconds"] = v.seconds;
  j["min_length"] = v.min_length;
  j["max_length"] = v.max_length;
  j["proved_up_to"] = v.proved_up_to;
  if (v.kind == verify::Verdict::counterexample) {
    j["word"] = circuit.alphabet.format(v.word);
    j["length"] = v.word.size();
    j["canonical"] = v.canonical;
    j["circuit_accepts"] = v.circuit_accepts;
    j["reference_accepts"] = v.reference_accepts;
  }
  if (v.kind == verify::Verdict::unknown) j["reason"] = v.reason;
}

nlohmann::ordered_json verify_json(const std::string& circuit_path, const VerifyResult& r) {
  nlohmann::ordered_json j;
  j["circuit"] = circuit_path;
  j["against"] = r.reference.name;
  add_verdict_fields(j, r.verdict, r.circuit);
  j["tie"] = nets::kHardAttentionNames[static_cast<int>(r.circuit.tie.hard)];
  return j;
}

nlohmann::ordered_json extract_json(const LoopResult& r) {
  const auto& x = r.extraction;
  const auto& v = r.verdict;
  const auto& c = r.extraction.circuit;
  nlohmann::ordered_json j;
  j["checkpoint"] = r.checkpoint.string();
  j["step"] = r.step;
  j["against"] = r.language->name();
  j["circuit"] = r.circuit_path.string();
  j["faithfulness_in"] = r.in.words ? nlohmann::json(r.in.rate()) : nlohmann::json(nullptr);
  j["faithfulness_out"] =
      r.beyond.words ? nlohmann::json(r.beyond.rate()) : nlohmann::json(nullptr);
  j["train_lengths"] = c.train_lengths;
  j["out_of_range_lengths"] = fmt::format("{}:{}", r.train_hi + 1, r.out_hi);
  j["denominator_bits"] = c.denominator_bits;
  for (const auto& h : x.heads)
    j["heads"].push_back({{"layer", h.layer},
                          {"head", h.head},
                          {"setting", h.setting},
                          {"tolerance", std::isinf(h.tolerance) ? nlohmann::json("uniform")
                                                                : nlohmann::json(h.tolerance)},
                          {"near_uniform", h.near_uniform},
                          {"distance", h.distance},
                          {"argmax_distance", h.argmax_distance}});
  add_verdict_fields(j, v, c);
  if (v.kind == verify::Verdict::counterexample)
    j["outside_training_lengths"] = r.outside_training_lengths;
  const auto& e = r.exhaustive;
  for (const auto& [n, m] : e.method) j["faithfulness_method_per_length"][std::to_string(n)] = m;
  j["least_disagreement"] =
      e.least_disagreement
          ? nlohmann::json(format_word(*e.least_disagreement, r.language->alphabet()))
          : nlohmann::json(nullptr);
  j["model_correct_up_to"] = e.model_correct_up_to;
  j["model_margin"] = e.model_margin ? nlohmann::json(*e.model_margin) : nlohmann::json(nullptr);
  j["circuit_equals_model_up_to"] = e.circuit_equals_model_up_to;
  return j;
}

}  // namespace saturn::loop
