// saturn._saturn: the pybind11 module under the Python package (python/saturn/). Thin: each
// function calls the libraries as the CLI's command does (lang/, nets/, saturate/, loop/), with
// the GIL released around the work; the Python layer (saturn/__init__.py) gives it its names,
// docstrings and Python types. Errors: InputError -> saturn.InputError (a ValueError) with the
// message the CLI prints after "saturn: ", LimitError -> saturn.LimitError (an InputError).
#include <fmt/format.h>
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/budget.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "base/names.h"
#include "base/read_file.h"
#include "base/threads.h"
#include "base/version.h"
#include "lang/builtin.h"
#include "lang/dataset.h"
#include "lang/sample.h"
#include "lang/spec.h"
#include "lang/words.h"
#include "loop/close.h"
#include "loop/report.h"
#include "nets/batch.h"
#include "nets/checkpoint.h"
#include "nets/eval_json.h"
#include "nets/train.h"
#include "python/common.h"
#include "saturate/circuit.h"
#include "saturate/exact_eval.h"
#include "saturate/saturation.h"
#include "verify/selectable.h"

namespace py = pybind11;

namespace saturn::python {

namespace {

using LanguagePtr = std::shared_ptr<const Language>;

py::array_t<float> parameter_view(const float* data, const std::vector<int>& shape,
                                  py::handle owner, bool writable = false) {
  std::vector<py::ssize_t> dims(shape.begin(), shape.end()), strides(shape.size());
  py::ssize_t stride = sizeof(float);
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  py::array_t<float> a(dims, strides, data, owner);
  if (!writable) a.attr("setflags")(py::arg("write") = false);
  return a;
}

// ---- languages ---------------------------------------------------------------------------

py::list language_rows() {
  py::list rows;
  for (const auto& name : builtin_names()) {
    const auto l = builtin(name);
    py::dict row;
    row["name"] = l->name();
    row["alphabet"] = l->alphabet().names();
    row["class"] = l->language_class();
    row["source"] = l->source();
    row["description"] = l->description();
    rows.append(row);
  }
  return rows;
}

// `saturn lang sample` collected: the words (spelled as the JSONL's "word"), labels and notes.
py::tuple sample(const LanguageHandle& h, const std::string& lengths, int per_length,
                 const std::string& negatives, std::uint64_t seed, bool distinct,
                 long long table_limit) {
  DatasetOptions o;
  o.per_length = per_length;
  o.seed = seed;
  o.distinct = distinct;
  std::vector<std::string> words;
  std::vector<std::int8_t> labels;
  std::vector<std::string> notes;
  {
    py::gil_scoped_release released;
    std::tie(o.min_length, o.max_length) = parse_length_range(lengths, "--lengths");
    o.negatives = parse_name<Negatives>(kNegativesNames, "--negatives", negatives);
    check_dataset_options(o);
    check_table_limit(table_limit);
    Sampler sampler(h.language, static_cast<std::size_t>(table_limit));
    const Alphabet& alphabet = h.language->alphabet();
    notes = generate_dataset(sampler, o, [&](Example&& e) {
      words.push_back(alphabet.format(e.word));
      labels.push_back(static_cast<std::int8_t>(e.label));
    });
  }
  py::array_t<std::int8_t> label_array(static_cast<py::ssize_t>(labels.size()));
  std::copy(labels.begin(), labels.end(), label_array.mutable_data());
  return py::make_tuple(words, label_array, notes);
}

// Token ids as the model reads them (nets::make_batch): BOS = k, the symbols, EOS = k + 1, then
// EOS as padding; lengths count BOS and EOS.
py::tuple encode(const LanguageHandle& h, const std::vector<std::string>& texts) {
  const int k = h.language->alphabet().size();
  std::vector<Example> examples;
  for (auto& w : parse_words(texts, h.language->alphabet()))
    examples.push_back({std::move(w), 0, {}});
  std::vector<const Example*> ptrs;
  for (const auto& e : examples) ptrs.push_back(&e);
  std::size_t longest = 0;
  for (const auto& e : examples) longest = std::max(longest, e.word.size());
  require_memory(8.0 * static_cast<double>(examples.size()) * (static_cast<double>(longest) + 3),
                 "words", "the token ids");
  const auto batch = nets::make_batch<float>(ptrs, k, nets::Objective::recognize);
  const py::ssize_t N = static_cast<py::ssize_t>(examples.size()),
                    T = examples.empty() ? 2 : batch.Tn;
  py::array_t<std::int64_t> tokens({N, T});
  py::array_t<std::int64_t> lengths(N);
  auto tok = tokens.mutable_unchecked<2>();
  auto len = lengths.mutable_unchecked<1>();
  for (py::ssize_t i = 0; i < N; ++i) {
    len(i) = batch.lengths[i];
    for (py::ssize_t t = 0; t < T; ++t) tok(i, t) = batch.tokens[i * T + t];
  }
  return py::make_tuple(tokens, lengths);
}

// ---- models ------------------------------------------------------------------------------

struct Model {
  nets::Checkpoint checkpoint;
  LanguagePtr language;
  std::unique_ptr<nets::Transformer<float>> net;
  std::mutex busy;  // one forward at a time: the GIL is released during it
};

std::shared_ptr<Model> load_model(const std::string& run_or_checkpoint) {
  auto m = std::make_shared<Model>();
  py::gil_scoped_release released;
  const auto path = nets::latest_checkpoint(run_or_checkpoint);
  m->checkpoint = nets::load_checkpoint(path);
  m->checkpoint.source = path.string();
  m->language = nets::checkpoint_language(m->checkpoint);
  nets::check_alphabet(m->checkpoint, *m->language);
  const auto& c = m->checkpoint;
  m->net = std::make_unique<nets::Transformer<float>>(c.config.model, c.num_symbols);
  m->net->params.assign(c.params.begin(), c.params.end());
  return m;
}

// `saturn.from_torch`: a checkpoint of a run configuration (its TOML), a language and the
// parameters by checkpoint name (float32 arrays of the layout's shapes), written atomically by
// the writer `saturn train` uses. No optimizer state; the data stream is a fresh run's (a run
// resumed from it draws new batches). `start_attention_scale`: a schedule's start (the config
// holds the step's scale), or none.
void save_model_checkpoint(const std::string& path, const std::string& config_toml,
                           const LanguageHandle& language, long step,
                           std::optional<double> start_attention_scale, const py::dict& params) {
  nets::Checkpoint c;
  c.config.load_text(config_toml, "config");
  if (step < 0) throw InputError(fmt::format("from_torch: step must be >= 0 (got {})", step));
  c.num_symbols = language.language->alphabet().size();
  c.language_name = language.language->name();
  c.language_spec = language.language->spec_text();
  c.step = step;
  c.start_attention_scale = start_attention_scale;
  const nets::ModelConfig& mc = c.config.model;
  nets::require_model_memory(mc, c.num_symbols, 1, 2, false, "the module");
  const nets::ParameterLayout layout(mc, c.num_symbols);
  c.params.assign(layout.total(), 0.0f);
  for (const auto& t : layout.tensors()) {
    if (!params.contains(t.name))
      throw InputError(fmt::format("from_torch: missing parameter '{}'", t.name));
    const auto a = params[py::str(t.name)]
                       .cast<py::array_t<float, py::array::c_style | py::array::forcecast>>();
    const std::vector<int> shape(a.shape(), a.shape() + a.ndim());
    if (shape != t.shape)
      throw InputError(
          fmt::format("from_torch: parameter '{}' has shape [{}], the configuration "
                      "says [{}]",
                      t.name, fmt::join(shape, ","), fmt::join(t.shape, ",")));
    std::copy_n(a.data(), t.size, c.params.begin() + static_cast<long>(t.offset));
  }
  for (const auto& item : params) {
    const auto name = item.first.cast<std::string>();
    if (!layout.find(name))
      throw InputError(
          fmt::format("from_torch: parameter '{}' is not in the configuration's layout", name));
  }
  std::ostringstream state;
  state << Rng(mc.seed * 0x9e3779b97f4a7c15ull + 1);  // nets/train.cpp's data stream at step 0
  c.rng_state = state.str();
  py::gil_scoped_release released;
  nets::save_checkpoint(path, c);
}

// The words as examples of the model's objective; a word longer than max_length is refused as
// `saturn inspect` refuses it. Next-symbol models get empty targets (the loss is not read).
std::vector<Example> model_examples(const Model& m, const std::vector<std::string>& texts) {
  const nets::ModelConfig& mc = m.checkpoint.config.model;
  std::vector<Example> examples;
  examples.reserve(texts.size());
  std::size_t i = 0;
  for (auto& w : parse_words(texts, m.language->alphabet())) {
    const std::string& text = texts[i++];
    if (static_cast<int>(w.size()) > mc.max_length)
      throw InputError(
          fmt::format("word '{}' is longer than the model's max_length ({})", text, mc.max_length));
    Example e{std::move(w), 0, std::nullopt};
    if (mc.objective == nets::Objective::next_symbol)
      e.next = NextTargets{std::vector<std::vector<Symbol>>(e.word.size() + 1),
                           std::vector<bool>(e.word.size() + 1, false)};
    examples.push_back(std::move(e));
  }
  return examples;
}

// The logits as `saturn eval --data F --logits` computes them: the float model, the words in
// its batches (nets::forward_in_batches), so that the numbers are bit-for-bit the CLI's (at the
// same thread count). recognize: (N); next-symbol: (N, longest + 1, k + 1), NaN past a word's end.
py::array_t<float> logits(Model& m, const std::vector<Example>& examples) {
  const auto& c = m.checkpoint;
  const nets::ModelConfig& mc = c.config.model;
  const bool recognize = mc.objective == nets::Objective::recognize;
  const int outputs = m.net->num_outputs();
  std::size_t longest = 0;
  for (const auto& e : examples) longest = std::max(longest, e.word.size());
  nets::require_model_memory(mc, c.num_symbols, 64, longest + 2.0, false, "words");
  const std::size_t N = examples.size(), P = recognize ? 1 : longest + 1;
  require_memory(4.0 * static_cast<double>(N) * static_cast<double>(P) * outputs, "words",
                 "the logits");
  std::vector<float> out(N * P * outputs, std::numeric_limits<float>::quiet_NaN());
  {
    py::gil_scoped_release released;
    nets::forward_in_batches(
        *m.net, examples, [&](const nets::Batch<float>& batch, std::size_t at, float) {
          const auto& z = m.net->logits();
          for (int i = 0; i < batch.B; ++i) {
            float* row = out.data() + (at + i) * P * outputs;
            if (recognize) {
              row[0] = z[i];
              continue;
            }
            for (int t = 0; t < batch.lengths[i] - 1; ++t)
              std::copy_n(z.begin() + (static_cast<long>(i) * batch.Tn + t) * outputs, outputs,
                          row + static_cast<std::size_t>(t) * outputs);
          }
        });
  }
  std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(N)};
  if (!recognize) shape.insert(shape.end(), {static_cast<py::ssize_t>(P), outputs});
  py::array_t<float> a(shape);
  std::copy(out.begin(), out.end(), a.mutable_data());
  return a;
}

// For bench/python_overhead.py: the mean seconds of the C++ work alone under Model.forward,
// nets::forward_in_batches over the parsed words (batches, the float forward pass; no
// parsing, no checks, no arrays), repeated `repeats` times in C++ (the first pass not timed).
double kernel_seconds(Model& m, const std::vector<std::string>& texts, int repeats) {
  if (repeats < 1) throw InputError(fmt::format("repeats: expected >= 1 (got {})", repeats));
  const auto examples = model_examples(m, texts);
  std::lock_guard lock(m.busy);
  py::gil_scoped_release released;
  const auto pass = [&] {
    nets::forward_in_batches(*m.net, examples,
                             [](const nets::Batch<float>&, std::size_t, float) {});
  };
  pass();
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < repeats; ++r) pass();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return seconds / repeats;
}

// A (N, dims...) float64 array, NaN where nothing was written.
struct Stacked {
  std::vector<py::ssize_t> shape;
  std::vector<double> data;
  Stacked(py::ssize_t n, std::vector<py::ssize_t> dims) : shape{n} {
    shape.insert(shape.end(), dims.begin(), dims.end());
    std::size_t size = 1;
    for (auto d : shape) size *= static_cast<std::size_t>(d);
    data.assign(size, std::numeric_limits<double>::quiet_NaN());
  }
  std::size_t item() const { return data.size() / static_cast<std::size_t>(shape[0]); }
  // Writes a (rows, cols) block at [i, block, 0..rows, 0..cols] of a (..., R, Cn) item.
  void put(std::size_t i, std::size_t block, const double* src, int rows, int cols) {
    const std::size_t R = shape[shape.size() - 2], Cn = shape.back();
    double* dst = data.data() + i * item() + block * R * Cn;
    for (int r = 0; r < rows; ++r)
      std::copy_n(src + static_cast<std::size_t>(r) * cols, cols, dst + r * Cn);
  }
  py::array_t<double> array() const {
    py::array_t<double> a(shape);
    std::copy(data.begin(), data.end(), a.mutable_data());
    return a;
  }
};

// The activations `saturn inspect` reports, word by word (B = 1) in double precision: the model
// (with its embedding terms and attention scores recorded) and its saturated network under the
// model's own attended-set rule (saturate::model_set_rule: average-hard over the argmax,
// tolerance or uniform set of its attention_set, ties within 16 bits; for argmax the saturated
// network `inspect` shows). The same numbers as `inspect --json`, under TransformerLens's hook
// names. Positions are BOS, the word, EOS; (N, T = longest + 2, ...), NaN past a word's EOS.
py::dict activation_cache(const Model& m, const std::vector<Example>& examples) {
  const auto& c = m.checkpoint;
  const nets::ModelConfig& mc = c.config.model;
  const int C = mc.d_model, F = mc.d_ff, H = mc.n_heads, L = mc.n_layers;
  std::size_t longest = 0;
  for (const auto& e : examples) longest = std::max(longest, e.word.size());
  const py::ssize_t N = static_cast<py::ssize_t>(examples.size()),
                    T = static_cast<py::ssize_t>(longest) + 2;
  // Two models, and the soft one's recorded scores and embedding terms.
  nets::require_model_memory(mc, c.num_symbols, 1, T, false, "words", 8, true);
  require_memory(2.0 * nets::model_memory(mc, c.num_symbols, 1, T, false, 8, true) +
                     8.0 * T * (L * H * T + 2.0 * C) +
                     8.0 * N * T * (L * (3.0 * C + F + 3.0 * H * T) + 3.0 * C),
                 "words", "the activation cache");
  std::vector<Stacked> resid_pre, resid_mid, mlp_post, resid_post, pattern, saturated, scores;
  for (int l = 0; l < L; ++l) {
    resid_pre.emplace_back(N, std::vector<py::ssize_t>{T, C});
    resid_mid.emplace_back(N, std::vector<py::ssize_t>{T, C});
    mlp_post.emplace_back(N, std::vector<py::ssize_t>{T, F});
    resid_post.emplace_back(N, std::vector<py::ssize_t>{T, C});
    pattern.emplace_back(N, std::vector<py::ssize_t>{H, T, T});
    saturated.emplace_back(N, std::vector<py::ssize_t>{H, T, T});
    scores.emplace_back(N, std::vector<py::ssize_t>{H, T, T});
  }
  Stacked final_states(N, {T, C}), embed(N, {T, C}), pos_embed(N, {T, C});
  {
    py::gil_scoped_release released;
    nets::Transformer<double> soft(mc, c.num_symbols), hard(mc, c.num_symbols);
    // The model's own parameters (edited through `Model.params_writable()` or not), widened.
    soft.params.assign(m.net->params.begin(), m.net->params.end());
    hard.params.assign(m.net->params.begin(), m.net->params.end());
    soft.set_introspection(true);
    soft.set_recording(true);
    hard.set_introspection(true);
    saturate::model_set_rule(mc).apply(hard);
    for (py::ssize_t i = 0; i < N; ++i) {
      check_interrupt();
      const std::vector<const Example*> one{&examples[i]};
      const auto batch = nets::make_batch<double>(one, c.num_symbols, mc.objective);
      soft.forward(batch);
      hard.forward(batch);
      const int Tn = batch.Tn;
      const std::size_t TT = static_cast<std::size_t>(Tn) * Tn;
      for (int l = 0; l < L; ++l) {
        const auto st = soft.layer_states(l);
        resid_pre[l].put(i, 0, st.in->data(), Tn, C);
        resid_mid[l].put(i, 0, st.after_attention->data(), Tn, C);
        mlp_post[l].put(i, 0, st.ffn_hidden->data(), Tn, F);
        resid_post[l].put(i, 0, st.out->data(), Tn, C);
        for (int h = 0; h < H; ++h) {
          pattern[l].put(i, h, soft.attention_weights(l).data() + h * TT, Tn, Tn);
          saturated[l].put(i, h, hard.attention_weights(l).data() + h * TT, Tn, Tn);
          scores[l].put(i, h, soft.attention_scores(l).data() + h * TT, Tn, Tn);
        }
      }
      final_states.put(i, 0, soft.final_states().data(), Tn, C);
      embed.put(i, 0, soft.token_embeddings().data(), Tn, C);
      pos_embed.put(i, 0, soft.position_embeddings().data(), Tn, C);
    }
  }
  py::dict cache;
  cache["hook_embed"] = embed.array();
  cache["hook_pos_embed"] = pos_embed.array();
  for (int l = 0; l < L; ++l) {
    const std::string b = fmt::format("blocks.{}.", l);
    cache[py::str(b + "hook_resid_pre")] = resid_pre[l].array();
    cache[py::str(b + "attn.hook_attn_scores")] = scores[l].array();
    cache[py::str(b + "attn.hook_pattern")] = pattern[l].array();
    cache[py::str(b + "attn.hook_pattern_saturated")] = saturated[l].array();
    cache[py::str(b + "hook_resid_mid")] = resid_mid[l].array();
    cache[py::str(b + "mlp.hook_post")] = mlp_post[l].array();
    cache[py::str(b + "hook_resid_post")] = resid_post[l].array();
  }
  cache["hook_final"] = final_states.array();
  return cache;
}

// ---- training -----------------------------------------------------------------------------

// `saturn train --lang L [--config F] [--set K=V ...] --out DIR [--resume | --overwrite]`: the
// summary's fields as JSON (summary.json's, and already_finished). `progress` (None or a
// callable) is called with each metrics.jsonl line as a dict, with the GIL held; what it raises
// stops training (nets::TrainOptions::on_metrics) and reaches the caller.
std::string train_run(const LanguageHandle& h, const std::string& config_file,
                      const std::vector<std::string>& sets, const std::string& out, bool resume,
                      bool overwrite, bool quiet, bool check_labels, const py::object& progress) {
  if (resume && overwrite) throw InputError("--resume and --overwrite exclude each other");
  if (out.empty()) throw InputError("--out: expected a run directory");
  const auto config = nets::run_config_for(out, resume, config_file, sets);
  nets::TrainOptions options{out, resume, quiet, overwrite, check_labels};
  const py::object loads = py::module_::import("json").attr("loads");
  if (!progress.is_none())
    options.on_metrics = [&](const std::string& line) {
      py::gil_scoped_acquire held;
      progress(loads(line));
    };
  const auto summary = interruptible([&] { return nets::train(h.language, config, options); });
  nlohmann::ordered_json j;
  j["already_finished"] = summary.already_finished;
  j["steps"] = summary.steps;
  return j.dump();
}

// `saturn eval RUN --lengths A:B [--lang L] --json`.
std::string evaluate_run(const std::string& target, const std::optional<LanguageHandle>& lang,
                         const std::string& lengths, int per_length, bool exhaustive,
                         std::uint64_t seed) {
  return interruptible([&] {
    auto c = nets::load_checkpoint(nets::latest_checkpoint(target));
    auto language = lang ? lang->language : nets::checkpoint_language(c);
    nets::check_alphabet(c, *language);
    nets::Transformer<float> model(c.config.model, c.num_symbols);
    model.params.assign(c.params.begin(), c.params.end());
    auto [lo, hi] = parse_length_range(lengths, "--lengths");
    if (hi > c.config.model.max_length)
      throw InputError(fmt::format("--lengths: {} is longer than the model's max_length ({})", hi,
                                   c.config.model.max_length));
    if (per_length < 1 || per_length > (1 << 20))
      throw InputError(fmt::format("--per-length: expected 1..{} (got {})", 1 << 20, per_length));
    nets::require_model_memory(c.config.model, c.num_symbols, 64, hi + 2.0, false, "--lengths");
    Sampler sampler(language);
    const auto r = nets::evaluate(model, sampler, lo, hi, per_length, exhaustive, seed);
    return nets::eval_json(language->name(), c.step, r).dump();
  });
}

// ---- circuits ------------------------------------------------------------------------------

struct CircuitHandle {
  std::string path;
  std::shared_ptr<const saturate::ExactEvaluator> exact;
};

CircuitHandle load_circuit_file(const std::string& path) {
  py::gil_scoped_release released;
  return {path, std::make_shared<const saturate::ExactEvaluator>(saturate::load_circuit(path))};
}

// `saturn circuit run FILE WORD...`: per word (verdict, logit lo, logit hi, reason),
// the logit bounds as exact rationals' text ("p/q"); the interval is a point when exact.
std::vector<py::tuple> run_circuit(const CircuitHandle& h, const std::vector<std::string>& texts) {
  const auto words = parse_words(texts, h.exact->circuit().alphabet);
  std::vector<saturate::ExactResult> results(words.size());
  interruptible([&] {
    for (std::size_t i = 0; i < words.size(); ++i) {
      check_interrupt();
      results[i] = h.exact->run(words[i]);
    }
    return 0;
  });
  std::vector<py::tuple> out;
  for (const auto& r : results) {
    const bool has_logit =
        r.verdict != saturate::Verdict::undecided || r.reason.find("logit") != std::string::npos;
    out.push_back(py::make_tuple(to_string(r.verdict), has_logit ? r.logit.lo.str() : "",
                                 has_logit ? r.logit.hi.str() : "", r.reason));
  }
  return out;
}

// `saturn keys --points FILE --json`, for a point file's path or the file's text.
std::string keys_json(const std::string& path_or_text, bool is_path) {
  return interruptible([&] {
    const std::string text =
        is_path ? read_file(path_or_text, "point file", std::uint64_t(256) << 20) : path_or_text;
    return verify::point_selectability_json(
        verify::read_points(text, is_path ? path_or_text : "points"), omp_get_max_threads());
  });
}

// ---- extract and verify ------------------------------------------------------------------

std::string verify_to_json(const std::string& circuit, const std::string& against, int max_length,
                           int min_length, const std::string& method, double timeout) {
  return interruptible([&] {
    const auto r =
        loop::verify_circuit({circuit, against, min_length, max_length, method, timeout, false});
    return loop::verify_json(circuit, r).dump();
  });
}

std::string extract_to_json(const std::string& run, const std::string& against, int max_length,
                            int min_length, const std::string& method, double timeout,
                            const std::string& out, const std::string& checkpoint, int bits,
                            int per_length, const std::string& tie, std::uint64_t seed,
                            long exhaustive_max, bool no_search) {
  loop::LoopOptions o;
  o.run = run, o.checkpoint = checkpoint, o.against = against;
  o.max_length = max_length, o.min_length = min_length;
  o.timeout = timeout, o.bits = bits, o.per_length = per_length, o.seed = seed;
  o.exhaustive_max = exhaustive_max;
  o.search = !no_search;
  o.out = out;
  o.progress = false;
  o.method = parse_name<verify::Method>(verify::kMethodNames, "--method", method);
  o.tie = saturate::parse_tie_rule(tie);
  return interruptible([&] { return loop::extract_json(loop::close_loop(o)).dump(); });
}

}  // namespace

}  // namespace saturn::python

PYBIND11_MODULE(_saturn, m) {
  using namespace saturn;
  using namespace saturn::python;
  m.doc() = "saturn's libraries (the package `saturn` wraps this module; see docs/python.md)";
  m.attr("__version__") = saturn::version();
  m.attr("commit") = saturn::commit();

  // Bad input: ValueError subclasses carrying the CLI's message (after "saturn: ").
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  static py::exception<LimitError> limit_error(m, "LimitError", input_error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const LimitError& e) {
      limit_error(e.what());
    } catch (const InputError& e) {
      input_error(e.what());
    } catch (const Interrupted&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const std::filesystem::filesystem_error& e) {
      // As the CLI reports it: the path and the system's reason.
      const std::string path = e.path1().empty() ? "" : e.path1().string() + ": ";
      input_error((path + e.code().message()).c_str());
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError,
                      "out of memory: a size was not checked against the memory budget (a bug in "
                      "saturn; please report the call)");
    }
  });

  m.def("set_threads", [](int n) {
    parse_thread_count(std::to_string(n), "--threads");
    omp_set_num_threads(n);
  });
  m.def("set_threads_from_env", [](const std::string& text) {
    omp_set_num_threads(parse_thread_count(text, "SATURN_THREADS"));
  });
  m.def("threads", [] { return omp_get_max_threads(); });
  m.def("set_memory_limit", [](const std::string& text) {
    set_memory_budget(parse_memory_size(text, "--memory-limit"));
  });
  m.def("memory_limit", [] { return memory_budget(); });

  py::class_<LanguageHandle>(m, "LanguageHandle")
      .def_property_readonly("name", [](const LanguageHandle& h) { return h.language->name(); })
      .def_property_readonly("alphabet",
                             [](const LanguageHandle& h) { return h.language->alphabet().names(); })
      .def_property_readonly("language_class",
                             [](const LanguageHandle& h) { return h.language->language_class(); })
      .def_property_readonly("class_detail",
                             [](const LanguageHandle& h) { return h.language->class_detail(); })
      .def_property_readonly("description",
                             [](const LanguageHandle& h) { return h.language->description(); })
      .def_property_readonly("source", [](const LanguageHandle& h) { return h.language->source(); })
      .def_property_readonly("spec_text",
                             [](const LanguageHandle& h) { return h.language->spec_text(); })
      .def("accepts",
           [](const LanguageHandle& h, const std::vector<std::string>& texts) {
             const auto words = parse_words(texts, h.language->alphabet());
             std::vector<bool> verdicts;
             py::gil_scoped_release released;
             for (const auto& w : words) verdicts.push_back(h.language->accepts(w));
             return verdicts;
           })
      .def("count",
           [](const LanguageHandle& h, int n, bool rejected, long long table_limit) {
             py::gil_scoped_release released;
             return count_words_of_length(h.language, n, rejected, table_limit).str();
           })
      .def("sample", &sample)
      .def("encode", &encode);

  m.def("resolve_language",
        [](const std::string& what) { return LanguageHandle{resolve_language(what)}; });
  m.def("load_spec", [](const std::string& text, const std::string& source) {
    return LanguageHandle{load_spec(text, source)};
  });
  m.def("load_spec_file",
        [](const std::string& path) { return LanguageHandle{load_spec_file(path)}; });
  m.def("languages", &language_rows);
  m.attr("default_table_limit") = static_cast<long long>(CountTable::kDefaultMaxEntries);
  m.attr("default_exhaustive_max") = loop::kDefaultExhaustiveMax;

  py::class_<Model, std::shared_ptr<Model>>(m, "ModelHandle")
      .def_property_readonly("config_toml",
                             [](const Model& x) { return x.checkpoint.config.to_toml(); })
      .def_property_readonly("step", [](const Model& x) { return x.checkpoint.step; })
      .def_property_readonly("start_attention_scale",
                             [](const Model& x) { return x.checkpoint.start_attention_scale; })
      .def_property_readonly("checkpoint", [](const Model& x) { return x.checkpoint.source; })
      .def_property_readonly("language", [](const Model& x) { return LanguageHandle{x.language}; })
      .def(
          "params",
          [](py::object self, bool writable) {
            const Model& x = self.cast<const Model&>();
            py::dict d;
            for (const auto& t : x.net->layout().tensors())
              d[py::str(t.name)] =
                  parameter_view(x.net->params.data() + t.offset, t.shape, self, writable);
            return d;
          },
          py::arg("writable") = false)
      .def("forward",
           [](Model& x, const std::vector<std::string>& texts, bool cache) -> py::object {
             const auto examples = model_examples(x, texts);
             std::unique_lock lock(x.busy, std::defer_lock);
             {
               py::gil_scoped_release released;  // another thread's forward may hold the model
               lock.lock();
             }
             py::array_t<float> z = logits(x, examples);
             if (!cache) return z;
             return py::make_tuple(z, activation_cache(x, examples));
           });
  m.def("load", &load_model);
  // saturn.torch (Model.to_torch, saturn.from_torch): nets/'s key lists, defaults and checks.
  m.def("model_keys", [] { return nets::model_keys(); });
  m.def("training_keys", [] { return nets::training_keys(); });
  m.def("default_config_toml", [] { return nets::RunConfig().to_toml(); });
  m.def("check_config",
        [](const std::string& toml) { nets::RunConfig().load_text(toml, "config"); });
  m.def("save_checkpoint", &save_model_checkpoint);
  m.def("kernel_seconds", &kernel_seconds);  // bench/python_overhead.py

  py::class_<CircuitHandle>(m, "CircuitHandle")
      .def_property_readonly("path", [](const CircuitHandle& h) { return h.path; })
      .def_property_readonly(
          "alphabet", [](const CircuitHandle& h) { return h.exact->circuit().alphabet.names(); })
      .def_property_readonly(
          "tie", [](const CircuitHandle& h) { return h.exact->circuit().tie.describe(); })
      .def("run", &run_circuit);
  m.def("load_circuit", &load_circuit_file);
  m.def("keys", &keys_json);
  m.def("train", &train_run);
  m.def("evaluate", &evaluate_run);
  m.def("verify", &verify_to_json);
  m.def("extract", &extract_to_json);
  bind_pyapi(m);
}
