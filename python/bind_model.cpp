// saturn._saturn, models: a checkpoint loaded for Python (`saturn.load`), its parameters as
// numpy views, the float forward pass (bit-for-bit `saturn eval --logits`), the activation
// cache under TransformerLens names, and the checkpoint writer behind `saturn.from_torch`.
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

}  // namespace

void bind_model(py::module_& m) {
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
}

}  // namespace saturn::python
