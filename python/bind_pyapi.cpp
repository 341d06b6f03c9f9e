// saturn._saturn, continued: sweeps (sweep/), the theory suites (theory/), FLaRe datasets and
// next-symbol samples (lang/), each as the CLI's command composes them (`saturn sweep`,
// `saturn theory`, `saturn lang import`, `saturn lang sample --next [--format flare]`).
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "base/budget.h"
#include "lang/dataset.h"
#include "lang/flare.h"
#include "lang/sample.h"
#include "python/common.h"
#include "sweep/grid.h"
#include "sweep/sweep.h"
#include "theory/suite.h"

namespace saturn::python {

namespace {

// The calling thread's OpenMP thread count, put back when the call ends (the sweep and the
// suites set it for their work; saturn.threads() must not change under the user).
class KeepThreads {
 public:
  KeepThreads() : threads_(omp_get_max_threads()) {}
  ~KeepThreads() { omp_set_num_threads(threads_); }
  KeepThreads(const KeepThreads&) = delete;
  KeepThreads& operator=(const KeepThreads&) = delete;

 private:
  int threads_;
};

// ---- sweeps and theory --------------------------------------------------------------------

// `saturn sweep GRID --out DIR [--jobs J] [--threads T] [--resume] [-q]` on this machine, for a
// grid file or a grid's TOML text (spec files then relative to the working directory; messages
// name it "grid"). Returns the summary the CLI prints.
std::string run_sweep(const std::string& grid, bool is_text, const std::string& out, int jobs,
                      int threads, bool resume, bool quiet) {
  if (out.empty()) throw InputError("--out: expected a sweep directory");
  return interruptible([&] {
    const sweep::SweepOptions options{out, jobs, threads, resume, quiet};
    sweep::check_options(options);
    const sweep::Grid g = is_text ? sweep::load_grid_text(grid, "grid") : sweep::load_grid(grid);
    const KeepThreads keep;
    return sweep::run_sweep(g, options);
  });
}

// `saturn theory --suite S --scale X --out DIR [--seeds N] [--threads T] --json`: results.json's
// content (also written to DIR/results.json).
std::string run_theory(const std::string& suites, const std::string& scale, const std::string& out,
                       int seeds, bool seeds_given, int threads, bool progress) {
  return interruptible([&] {
    theory::TheoryOptions options;
    options.scale = theory::parse_scale(scale);
    options.seeds = seeds;
    options.threads = threads;
    options.out = out;
    options.progress = progress;
    theory::check_options(options, seeds_given);
    const auto selected = theory::select_suites(suites);
    const KeepThreads keep;
    const auto results = theory::run_theory(selected, options);
    return theory::results_json(results, options).dump();
  });
}

// ---- next-symbol targets ------------------------------------------------------------------

// Per example, the targets as arrays: next (N, longest + 1, k), true where symbol s may follow
// the prefix w[:i]; prefix_accepted (N, longest + 1); both false past a word's end and for
// examples without targets.
py::tuple next_arrays(const std::vector<Example>& examples, int k) {
  std::size_t longest = 0;
  for (const auto& e : examples) longest = std::max(longest, e.word.size());
  const py::ssize_t N = static_cast<py::ssize_t>(examples.size()),
                    P = static_cast<py::ssize_t>(longest) + 1;
  require_memory(static_cast<double>(N) * static_cast<double>(P) * (k + 1), "words",
                 "the next-symbol arrays");
  py::array_t<bool> next({N, P, static_cast<py::ssize_t>(k)});
  py::array_t<bool> accepted({N, P});
  std::fill_n(next.mutable_data(), next.size(), false);
  std::fill_n(accepted.mutable_data(), accepted.size(), false);
  auto nx = next.mutable_unchecked<3>();
  auto ac = accepted.mutable_unchecked<2>();
  for (py::ssize_t i = 0; i < N; ++i) {
    const auto& t = examples[i].next;
    if (!t) continue;
    for (std::size_t p = 0; p < t->next.size(); ++p) {
      ac(i, p) = t->prefix_accepted[p];
      for (Symbol s : t->next[p]) nx(i, p, s) = true;
    }
  }
  return py::make_tuple(next, accepted);
}

std::vector<std::string> word_texts(const std::vector<Example>& examples,
                                    const Alphabet& alphabet) {
  std::vector<std::string> words;
  words.reserve(examples.size());
  for (const auto& e : examples) words.push_back(alphabet.format(e.word));
  return words;
}

py::array_t<std::int8_t> label_array(const std::vector<Example>& examples) {
  py::array_t<std::int8_t> labels(static_cast<py::ssize_t>(examples.size()));
  for (std::size_t i = 0; i < examples.size(); ++i)
    labels.mutable_data()[i] = static_cast<std::int8_t>(examples[i].label);
  return labels;
}

// `saturn lang sample ... --next [--next-max-length M]`: (words, labels, next, prefix_accepted,
// notes), the targets as next_arrays; next_max_length -1: the longest sampled length.
py::tuple sample_next(const LanguageHandle& h, const std::string& lengths, int per_length,
                      const std::string& negatives, std::uint64_t seed, bool distinct,
                      long long table_limit, int next_max_length) {
  DatasetOptions o;
  o.per_length = per_length;
  o.seed = seed;
  o.distinct = distinct;
  o.next = true;
  o.next_max_length = next_max_length;
  std::vector<Example> examples;
  std::vector<std::string> notes;
  interruptible([&] {
    std::tie(o.min_length, o.max_length) = parse_length_range(lengths, "--lengths");
    o.negatives = parse_name<Negatives>(kNegativesNames, "--negatives", negatives);
    check_dataset_options(o);
    check_table_limit(table_limit);
    Sampler sampler(h.language, static_cast<std::size_t>(table_limit));
    notes = generate_dataset(sampler, o, [&](Example&& e) { examples.push_back(std::move(e)); });
    return 0;
  });
  const Alphabet& alphabet = h.language->alphabet();
  const auto arrays = next_arrays(examples, alphabet.size());
  return py::make_tuple(word_texts(examples, alphabet), label_array(examples), arrays[0], arrays[1],
                        notes);
}

// ---- FLaRe datasets -----------------------------------------------------------------------

// `saturn lang import DIR --lang L [--no-check-labels] [--next-max-length M]`: (words, labels,
// next, prefix_accepted, note); next and prefix_accepted None without next-symbols.jsonl.
py::tuple flare_read(const std::string& dir, const LanguageHandle& h, bool check_labels,
                     int next_max_length) {
  std::string note;
  const auto examples = interruptible(
      [&] { return import_flare(dir, *h.language, check_labels, next_max_length, &note); });
  const Alphabet& alphabet = h.language->alphabet();
  const bool has_next = std::any_of(examples.begin(), examples.end(),
                                    [](const Example& e) { return e.next.has_value(); });
  py::object next = py::none(), accepted = py::none();
  if (has_next) {
    const auto arrays = next_arrays(examples, alphabet.size());
    next = arrays[0];
    accepted = arrays[1];
  }
  return py::make_tuple(word_texts(examples, alphabet), label_array(examples), next, accepted,
                        note);
}

// DIR/main.tok, labels.txt (and with next_symbols next-symbols.jsonl, the sets as `lang sample
// --format flare --next` writes them: flare_next_targets, bounded by next_max_length, -1: the
// longest word) for the words and labels, as `lang sample --format flare` writes a sample. With
// check_labels a label the language disagrees with is refused.
void flare_write(const std::string& dir, const LanguageHandle& h,
                 const std::vector<std::string>& texts, const std::vector<long long>& labels,
                 bool next_symbols, int next_max_length, bool check_labels, long long table_limit) {
  const Alphabet& alphabet = h.language->alphabet();
  if (texts.size() != labels.size())
    throw InputError(fmt::format("labels: {} labels for {} words", labels.size(), texts.size()));
  auto words = parse_words(texts, alphabet);
  interruptible([&] {
    if (next_max_length > kMaxNextLength)
      throw LimitError(
          fmt::format("--next-max-length: at most {} (got {})", kMaxNextLength, next_max_length));
    check_table_limit(table_limit);
    if (dir.empty()) throw InputError("--format flare: needs -o DIR (a dataset directory)");
    std::size_t longest = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (labels[i] != 0 && labels[i] != 1)
        throw InputError(fmt::format("labels[{}]: expected a label 0 or 1, got {}", i, labels[i]));
      if (check_labels && h.language->accepts(words[i]) != (labels[i] == 1))
        throw InputError(fmt::format(
            "labels[{}]: label {}, but {} {} {} (check_labels=False writes it as given)", i,
            labels[i], words[i].empty() ? std::string("the empty word") : "the word " + texts[i],
            labels[i] == 1 ? "is not in" : "is in", h.language->name()));
      longest = std::max(longest, words[i].size());
    }
    const int bound = next_max_length >= 0 ? next_max_length : static_cast<int>(longest);
    std::optional<Sampler> sampler;
    if (next_symbols) sampler.emplace(h.language, static_cast<std::size_t>(table_limit));
    FlareWriter writer(dir, alphabet, next_symbols);
    for (std::size_t i = 0; i < words.size(); ++i) {
      check_interrupt();
      Example e{std::move(words[i]), static_cast<int>(labels[i]), std::nullopt};
      if (next_symbols && e.label == 1) e.next = flare_next_targets(*sampler, e.word, bound);
      writer.write(e);
    }
    writer.commit();
    return 0;
  });
}

}  // namespace

void bind_pyapi(py::module_& m) {
  m.def("run_sweep", &run_sweep);
  m.def("run_theory", &run_theory);
  m.def("theory_suites", [] {
    std::vector<std::string> names;
    for (const auto& s : theory::suites()) names.push_back(s.name);
    return names;
  });
  m.def("sample_next", &sample_next);
  m.def("flare_read", &flare_read);
  m.def("flare_write", &flare_write);
}

}  // namespace saturn::python
