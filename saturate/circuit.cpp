#include "saturate/circuit.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/atomic_file.h"
#include "base/budget.h"
#include "base/error.h"
#include "base/json_read.h"
#include "base/read_file.h"
#include "nets/embedding.h"
#include "saturate/exact_eval.h"

namespace saturn::saturate {

namespace {

using json = nlohmann::ordered_json;

std::vector<int> sinusoidal_shape(const nets::ModelConfig& c) {
  return {c.max_length + 2, c.d_model};
}

// The sinusoidal table of nets/embedding.h, as a tensor to round like the weights.
std::vector<double> sinusoidal_table(const nets::ModelConfig& c) {
  const int rows = c.max_length + 2, C = c.d_model;
  std::vector<double> table(static_cast<std::size_t>(rows) * C);
  for (int t = 0; t < rows; ++t)
    for (int i = 0; i < C; ++i) {
      const double freq = std::pow(10000.0, -double(2 * (i / 2)) / C);
      table[static_cast<std::size_t>(t) * C + i] =
          i % 2 == 0 ? std::sin(t * freq) : std::cos(t * freq);
    }
  return table;
}

DyadicTensor round_tensor(std::vector<int> shape, const double* x, std::size_t size, int bits,
                          const std::string& name) {
  DyadicTensor t;
  t.shape = std::move(shape);
  t.numerators.resize(size);
  for (std::size_t i = 0; i < size; ++i) {
    const double v = std::ldexp(x[i], bits);
    if (!std::isfinite(v) || std::abs(v) > static_cast<double>(kMaxNumerator))
      throw InputError(
          fmt::format("tensor '{}': {} * 2^{} does not fit a 64-bit numerator", name, x[i], bits));
    t.numerators[i] = std::llround(v);
  }
  return t;
}

std::vector<bool> hard_decisions(nets::Transformer<double>& model,
                                 const std::vector<Example>& probes, const TieRule& tie) {
  tie.apply(model);
  const Outputs out = run_model(model, probes);
  std::vector<bool> accept;
  for (double z : out.decision) accept.push_back(z > 0);
  return accept;
}

[[noreturn]] void bad(const std::string& source, const std::string& what) {
  throw InputError(fmt::format("{}: {}", source, what));
}

}  // namespace

Faithfulness::Count Faithfulness::in_range() const {
  Count c;
  for (const auto& [n, x] : per_length)
    if (n <= train_max) c.words += x.words, c.agree += x.agree, c.undecided += x.undecided;
  return c;
}

Faithfulness::Count Faithfulness::out_of_range() const {
  Count c;
  for (const auto& [n, x] : per_length)
    if (n > train_max) c.words += x.words, c.agree += x.agree, c.undecided += x.undecided;
  return c;
}

long long Circuit::head_tolerance(int layer, int head) const {
  const std::size_t i = static_cast<std::size_t>(layer) * config.n_heads + head;
  return i < tolerance.size() ? tolerance[i] : 0;
}

TieRule sparsemax_rule(const TieRule& rule) {
  TieRule r = rule;
  r.hard = nets::HardAttention::none;
  r.tolerance.clear();
  return r;
}

namespace {
// The model's score per unit of raw score q.k: attention_scale / sqrt(dh).
double score_unit(const nets::ModelConfig& config) {
  return config.attention_scale / std::sqrt(double(config.d_model / config.n_heads));
}
}  // namespace

std::vector<long long> tolerance_numerators(const std::vector<double>& scaled,
                                            const nets::ModelConfig& config, int bits) {
  std::vector<long long> out;
  for (double t : scaled) {
    if (std::isinf(t) && t > 0) {
      out.push_back(kUniform);
      continue;
    }
    const double v = std::floor(std::ldexp(t / score_unit(config), bits));
    if (!(v >= 0 && v <= static_cast<double>(kMaxNumerator)))
      throw InputError(
          fmt::format("tolerance {} does not fit a 62-bit numerator at 2^-{}", t, bits));
    out.push_back(static_cast<long long>(v));
  }
  return out;
}

std::vector<double> scaled_tolerances(const std::vector<long long>& numerators,
                                      const nets::ModelConfig& config, int bits) {
  std::vector<double> out;
  for (long long n : numerators)
    out.push_back(n == kUniform ? INFINITY
                                : std::ldexp(static_cast<double>(n), -bits) * score_unit(config));
  return out;
}

const DyadicTensor* Circuit::find(const std::string& name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

nets::Transformer<double> circuit_model(const Circuit& circuit) {
  nets::Transformer<double> model(circuit.config, circuit.alphabet.size());
  for (const auto& t : model.layout().tensors()) {
    const DyadicTensor* d = circuit.find(t.name);
    for (std::size_t i = 0; i < t.size; ++i)
      model.params[t.offset + i] =
          std::ldexp(static_cast<double>(d->numerators[i]), -circuit.denominator_bits);
  }
  return model;
}

Circuit make_circuit(const nets::ModelConfig& config, std::span<const double> params,
                     const Alphabet& alphabet, int bits, const TieRule& tie) {
  Circuit c;
  c.alphabet = alphabet;
  c.config = config;
  c.tie = tie;
  if (config.attention_sparsemax) c.tie = sparsemax_rule(tie);
  c.denominator_bits = bits;
  c.tolerance = tolerance_numerators(tie.tolerance, config, bits);
  c.tie.tolerance = scaled_tolerances(c.tolerance, config, bits);
  const nets::ParameterLayout layout(config, alphabet.size());
  for (const auto& t : layout.tensors())
    c.tensors[t.name] = round_tensor(t.shape, params.data() + t.offset, t.size, bits, t.name);
  if (config.positional == nets::Positional::sinusoidal) {
    const auto table = sinusoidal_table(config);
    c.tensors["embed.sinusoidal"] = round_tensor(sinusoidal_shape(config), table.data(),
                                                 table.size(), bits, "embed.sinusoidal");
  }
  return c;
}

Circuit export_circuit(const nets::Checkpoint& checkpoint, const Alphabet& alphabet,
                       const std::vector<Example>& probes, const TieRule& tie, int bits) {
  require_softmax(checkpoint.config.model);
  const bool sparsemax = checkpoint.config.model.attention_sparsemax;
  nets::Transformer<double> model = double_model(checkpoint);
  const std::vector<double> params(model.params.begin(), model.params.end());
  // A sparsemax model is its own circuit: the reference is the model itself.
  const std::vector<bool> reference =
      hard_decisions(model, probes, sparsemax ? sparsemax_rule(tie) : tie);
  auto agreeing = [&](const std::vector<bool>& d) {
    long same = 0;
    for (std::size_t i = 0; i < d.size(); ++i) same += d[i] == reference[i];
    return same;
  };
  Circuit circuit;
  std::vector<bool> rounded;
  for (int k = bits > 0 ? bits : 1; k <= (bits > 0 ? bits : 40); ++k) {
    circuit = make_circuit(checkpoint.config.model, params, alphabet, k, tie);
    nets::Transformer<double> m = circuit_model(circuit);
    rounded = hard_decisions(m, probes, circuit.tie);
    if (agreeing(rounded) == static_cast<long>(probes.size())) break;
  }
  circuit.language_name = checkpoint.language_name;
  circuit.language_spec = checkpoint.language_spec;
  circuit.comment = fmt::format("exported from step {} of a model trained on {}", checkpoint.step,
                                checkpoint.language_name);
  circuit.agreement.probe_words = static_cast<long>(probes.size());
  circuit.agreement.float_agree = agreeing(rounded);
  if (!sparsemax) {  // head roles describe hard attended sets; sparsemax has none
    nets::Transformer<double> m = circuit_model(circuit);
    circuit.heads = head_roles(m, alphabet, probes, circuit.tie);
  }
  const ExactEvaluator exact(circuit);
  long agree = 0, undecided = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : agree, undecided)
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const ExactResult r = exact.run(probes[i].word);
    if (r.verdict == Verdict::undecided)
      ++undecided;
    else
      agree += (r.verdict == Verdict::accept) == rounded[i];
  }
  circuit.agreement.exact_agree = agree;
  circuit.agreement.undecided = undecided;
  return circuit;
}

std::string circuit_json(const Circuit& c) {
  json j;
  j["format"] = "saturn-circuit";
  j["version"] = c.version;
  if (!c.comment.empty()) j["comment"] = c.comment;
  j["language"] = {{"name", c.language_name}, {"spec", c.language_spec}};
  j["alphabet"] = c.alphabet.names();
  json arch = json::object();
  for (auto [key, value] : c.config.to_map()) {
    if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
    arch[key] = value;
  }
  j["architecture"] = arch;
  j["attention"] = {{"rule", c.config.attention_sparsemax
                                 ? "sparsemax"
                                 : nets::kHardAttentionNames[static_cast<int>(c.tie.hard)]},
                    {"tie_bits", c.tie.tie_bits}};
  if (!c.tolerance.empty()) {
    json layers = json::array();
    for (int l = 0; l < c.config.n_layers; ++l) {
      json heads = json::array();
      for (int h = 0; h < c.config.n_heads; ++h) {
        const long long t = c.head_tolerance(l, h);
        heads.push_back(t == kUniform ? json("uniform") : json(t));
      }
      layers.push_back(heads);
    }
    j["attention"]["tolerance"] = layers;
  }
  j["denominator_bits"] = c.denominator_bits;
  json tensors = json::object();
  for (const auto& [name, t] : c.tensors)
    tensors[name] = {{"shape", t.shape}, {"numerators", t.numerators}};
  j["tensors"] = tensors;
  json heads = json::array();
  for (const auto& h : c.heads)
    heads.push_back({{"layer", h.layer},
                     {"head", h.head},
                     {"label", h.label},
                     {"pattern", h.pattern},
                     {"mean_attended", h.mean_attended},
                     {"mean_fraction", h.mean_fraction}});
  j["heads"] = heads;
  j["agreement"] = {{"probe_words", c.agreement.probe_words},
                    {"float_agree", c.agreement.float_agree},
                    {"exact_agree", c.agreement.exact_agree},
                    {"undecided", c.agreement.undecided}};
  if (!c.train_lengths.empty()) j["train_lengths"] = c.train_lengths;
  if (c.faithfulness) {
    const auto& f = *c.faithfulness;
    json per = json::array();
    for (const auto& [n, x] : f.per_length)
      per.push_back(
          {{"length", n}, {"words", x.words}, {"agree", x.agree}, {"undecided", x.undecided}});
    j["faithfulness"] = {{"train_max", f.train_max},
                         {"in_range", f.in_range().rate()},
                         {"out_of_range", f.out_of_range().rate()},
                         {"per_length", per}};
  }
  return j.dump(1) + "\n";
}

void save_circuit(const std::filesystem::path& path, const Circuit& circuit) {
  write_file_atomically(path, circuit_json(circuit));
}

Circuit parse_circuit(const std::string& text, const std::string& source) {
  require_memory(40.0 * static_cast<double>(text.size()), source, "reading this circuit");
  const json j = parse_json(text, source);
  const JsonNode root(j, source);
  if (!j.is_object() || !j.contains("format") || j["format"] != "saturn-circuit")
    bad(source, "not a saturn circuit (field \"format\" must be \"saturn-circuit\")");
  root.only_keys({"format", "version", "comment", "language", "alphabet", "architecture",
                  "attention", "denominator_bits", "tensors", "heads", "agreement", "train_lengths",
                  "faithfulness"});
  if (const auto version = root.at("version").integer(0, INT32_MAX); version != kCircuitVersion)
    bad(source, fmt::format("circuit version {} is not supported (this saturn reads version {})",
                            version, kCircuitVersion));
  Circuit c;
  if (auto comment = root.find("comment")) c.comment = comment->string();
  const JsonNode language = root.at("language");
  language.only_keys({"name", "spec"});
  c.language_name = language.at("name").string();
  if (auto spec = language.find("spec")) c.language_spec = spec->string();
  {
    const JsonNode alphabet = root.at("alphabet");
    std::vector<std::string> names;
    for (std::size_t i = 0; i < alphabet.size(); ++i) names.push_back(alphabet.at(i).string());
    try {
      c.alphabet = Alphabet(names);
    } catch (const InputError& e) {
      alphabet.fail(e.what());
    }
  }
  const JsonNode architecture = root.at("architecture");
  for (const auto& key : architecture.keys()) {
    const JsonNode value = *architecture.find(key);
    const std::string text = value.string();
    try {
      c.config.set(key, text);
    } catch (const InputError& e) {
      value.fail(e.what());
    }
  }
  try {
    c.config.validate();
  } catch (const InputError& e) {
    architecture.fail(e.what());
  }
  const JsonNode attention = root.at("attention");
  attention.only_keys({"rule", "tie_bits", "tolerance"});
  // "sparsemax" goes with architecture attention = "sparsemax" (the model is its own circuit),
  // and only with it; every other rule is a hard one.
  const std::string rule = attention.at("rule").string();
  if (rule == "sparsemax" || c.config.attention_sparsemax) {
    if (rule != "sparsemax" || !c.config.attention_sparsemax)
      attention.at("rule").fail(
          c.config.attention_sparsemax
              ? fmt::format("architecture attention = \"sparsemax\" needs rule \"sparsemax\", "
                            "not \"{}\"",
                            rule)
              : std::string("rule \"sparsemax\" needs architecture attention = \"sparsemax\""));
    c.tie.hard = nets::HardAttention::none;
    if (attention.find("tolerance"))
      attention.at("tolerance").fail("a sparsemax circuit has no tolerances");
  } else {
    try {
      c.tie.hard = parse_name<nets::HardAttention>(nets::kHardAttentionNames, "rule", rule);
    } catch (const InputError& e) {
      attention.at("rule").fail(e.what());
    }
    if (c.tie.hard == nets::HardAttention::none)
      attention.at("rule").fail("expected average, leftmost, rightmost or sparsemax");
  }
  if (auto bits = attention.find("tie_bits"))
    c.tie.tie_bits = static_cast<int>(bits->integer(1, 52));
  c.denominator_bits = static_cast<int>(root.at("denominator_bits").integer(0, 62));
  if (auto tolerance = attention.find("tolerance")) {
    if (tolerance->size() != static_cast<std::size_t>(c.config.n_layers))
      tolerance->fail(fmt::format("expected {} layers", c.config.n_layers));
    for (int l = 0; l < c.config.n_layers; ++l) {
      const JsonNode layer = tolerance->at(static_cast<std::size_t>(l));
      if (layer.size() != static_cast<std::size_t>(c.config.n_heads))
        layer.fail(fmt::format("expected {} heads", c.config.n_heads));
      for (int h = 0; h < c.config.n_heads; ++h) {
        const JsonNode t = layer.at(static_cast<std::size_t>(h));
        if (t.value().is_string()) {
          if (t.string() != "uniform") t.fail("expected a numerator >= 0 or \"uniform\"");
          c.tolerance.push_back(kUniform);
        } else {
          c.tolerance.push_back(t.integer(0, kMaxNumerator));
        }
      }
    }
    c.tie.tolerance = scaled_tolerances(c.tolerance, c.config, c.denominator_bits);
  }
  if (auto lengths = root.find("train_lengths")) c.train_lengths = lengths->string();
  if (auto f = root.find("faithfulness")) {
    f->only_keys({"train_max", "in_range", "out_of_range", "per_length"});
    Faithfulness faith;
    faith.train_max = static_cast<int>(f->at("train_max").integer(0, INT32_MAX));
    const JsonNode per = f->at("per_length");
    for (std::size_t i = 0; i < per.size(); ++i) {
      const JsonNode x = per.at(i);
      x.only_keys({"length", "words", "agree", "undecided"});
      auto& count = faith.per_length[static_cast<int>(x.at("length").integer(0, INT32_MAX))];
      count.words = x.at("words").integer(0, INT64_MAX);
      count.agree = x.at("agree").integer(0, count.words);
      count.undecided = x.at("undecided").integer(0, count.words);
    }
    c.faithfulness = faith;
  }
  const JsonNode tensors = root.at("tensors");
  for (const auto& name : tensors.keys()) {
    const JsonNode t = *tensors.find(name);
    t.only_keys({"shape", "numerators"});
    DyadicTensor d;
    const JsonNode shape = t.at("shape");
    for (std::size_t i = 0; i < shape.size(); ++i)
      d.shape.push_back(static_cast<int>(shape.at(i).integer(0, INT32_MAX)));
    // Numerators are exact integers of at most 62 bits in absolute value: never a float, a
    // boolean or a wrapped 64-bit value.
    const JsonNode numerators = t.at("numerators");
    d.numerators.reserve(numerators.size());
    for (std::size_t i = 0; i < numerators.size(); ++i)
      d.numerators.push_back(numerators.at(i).integer(-kMaxNumerator, kMaxNumerator));
    c.tensors[name] = std::move(d);
  }
  if (auto heads = root.find("heads")) {
    for (std::size_t i = 0; i < heads->size(); ++i) {
      const JsonNode h = heads->at(i);
      h.only_keys({"layer", "head", "label", "pattern", "mean_attended", "mean_fraction"});
      HeadRole r;
      r.layer = static_cast<int>(h.at("layer").integer(0, c.config.n_layers - 1));
      r.head = static_cast<int>(h.at("head").integer(0, c.config.n_heads - 1));
      if (auto v = h.find("label")) r.label = v->string();
      if (auto v = h.find("pattern")) r.pattern = v->string();
      if (auto v = h.find("mean_attended")) r.mean_attended = v->number();
      if (auto v = h.find("mean_fraction")) r.mean_fraction = v->number();
      c.heads.push_back(r);
    }
  }
  if (auto a = root.find("agreement")) {
    a->only_keys({"probe_words", "float_agree", "exact_agree", "undecided"});
    auto count = [&](const char* key) {
      return a->has(key) ? static_cast<long>(a->at(key).integer(0, INT64_MAX)) : 0L;
    };
    c.agreement = {count("probe_words"), count("float_agree"), count("exact_agree"),
                   count("undecided")};
  }
  // Every tensor the architecture needs, with its shape and size.
  const nets::ParameterLayout layout(c.config, c.alphabet.size());
  auto check = [&](const std::string& name, const std::vector<int>& shape) {
    const DyadicTensor* t = c.find(name);
    if (!t) bad(source, fmt::format("tensor '{}' is missing", name));
    if (t->shape != shape)
      bad(source, fmt::format("tensor '{}' has shape [{}], the architecture says [{}]", name,
                              fmt::join(t->shape, ","), fmt::join(shape, ",")));
    std::size_t size = 1;
    for (int d : shape) size *= d;
    if (t->numerators.size() != size)
      bad(source, fmt::format("tensor '{}' has {} numerators, its shape needs {}", name,
                              t->numerators.size(), size));
  };
  for (const auto& t : layout.tensors()) check(t.name, t.shape);
  if (c.config.positional == nets::Positional::sinusoidal)
    check("embed.sinusoidal", sinusoidal_shape(c.config));
  return c;
}

Circuit load_circuit(const std::filesystem::path& path) {
  return parse_circuit(read_file(path, "circuit file", memory_budget() / 40), path.string());
}

std::string circuit_dot(const Circuit& c) {
  const auto& cfg = c.config;
  std::ostringstream d;
  // labelloc=t: the title above the drawing, where a reader looks for it; pad: nothing at the edge.
  d << "digraph circuit {\n  rankdir=TB;\n  labelloc=t;\n  pad=0.2;\n  node [shape=box, "
       "fontname=\"monospace\"];\n";
  d << fmt::format("  label=\"saturated circuit: {} ({}, weights / 2^{})\";\n", c.language_name,
                   c.tie.describe(), c.denominator_bits);
  d << fmt::format("  embed [label=\"embed: tokens{}\"];\n",
                   cfg.positional == nets::Positional::none
                       ? ""
                       : fmt::format(" + {} positions", nets::to_string(cfg.positional)));
  std::string prev = "embed";
  const char* position = nets::kNormPositionNames[static_cast<int>(cfg.norm_position)];
  for (int l = 0; l < cfg.n_layers; ++l) {
    // labeljust=l: the edges into the heads come down the middle, clear of the label.
    d << fmt::format("  subgraph cluster_{} {{\n    label=\"layer {}\";\n    labeljust=l;\n", l, l);
    d << fmt::format("    attn{} [label=\"+ attention{}\", shape=ellipse];\n", l,
                     cfg.causal ? " (causal)" : "");
    for (int h = 0; h < cfg.n_heads; ++h) {
      std::string role;
      for (const auto& r : c.heads)
        if (r.layer == l && r.head == h)
          role = r.pattern.empty() ? r.label : fmt::format("{}: {}", r.label, r.pattern);
      d << fmt::format("    h{}_{} [label=\"head {}\\n{}\", shape=box, style=rounded];\n", l, h, h,
                       role.empty() ? "?" : role);
      d << fmt::format("    h{}_{} -> attn{};\n", l, h, l);
    }
    d << fmt::format("    ffn{} [label=\"+ FFN relu d_ff={}\", shape=ellipse];\n  }}\n", l,
                     cfg.d_ff);
    for (int h = 0; h < cfg.n_heads; ++h)
      d << fmt::format("  {} -> h{}_{} [style=dashed];\n", prev, l, h);
    d << fmt::format(
        "  {} -> attn{} [label=\"residual\"];\n  attn{} -> ffn{} [label=\"residual{}\"];\n", prev,
        l, l, l,
        cfg.norm_position == nets::NormPosition::none
            ? ""
            : fmt::format(", {}-{}", position, nets::to_string(cfg.norm)));
    prev = fmt::format("ffn{}", l);
  }
  const char* readout = nets::kReadoutNames[static_cast<int>(cfg.readout)];
  d << fmt::format(
      "  readout [label=\"readout: {} -> accept if logit > 0\", shape=doubleoctagon];\n",
      cfg.objective == nets::Objective::recognize ? readout : "end-of-word output");
  d << fmt::format("  {} -> readout;\n}}\n", prev);
  return d.str();
}

}  // namespace saturn::saturate
