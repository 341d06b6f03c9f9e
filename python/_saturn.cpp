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

  bind_model(m);

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
