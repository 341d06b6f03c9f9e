// What the binding files of saturn._saturn share (_saturn.cpp, bind_model.cpp, bind_pyapi.cpp): the
// language handle, words parsed as the CLI parses them, and long calls with the GIL released and
// Ctrl-C delivered to saturn.
#pragma once

#include <fmt/format.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/interrupt.h"
#include "lang/language.h"
#include "lang/words.h"

namespace saturn::python {

namespace py = pybind11;

struct LanguageHandle {
  std::shared_ptr<const Language> language;
};

// Words as Python strings, spelled as on the command line (parse_word: `""` or "" is the empty
// word); InputError names the word as the CLI's WORD... arguments do ("WORD 2: ...", from 1).
inline std::vector<Word> parse_words(const std::vector<std::string>& texts,
                                     const Alphabet& alphabet) {
  std::vector<Word> words;
  words.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      words.push_back(parse_word(texts[i], alphabet));
    } catch (const InputError& e) {
      throw InputError(fmt::format("WORD {}: {}", i + 1, e.what()));
    }
  }
  return words;
}

// Runs `work` with the GIL released and Ctrl-C delivered to saturn (the libraries' interrupt
// flag) instead of Python's handler, when called from the main thread: a long call stops at its
// next check and raises KeyboardInterrupt; a Ctrl-C that came as it finished raises too, as
// Python would have.
template <class Work>
auto interruptible(Work&& work) {
  // Kept for the process's life: a static py::object would be released after the interpreter
  // has finalised.
  static const py::handle threading = py::module_::import("threading").release();
  const bool main_thread = threading.attr("current_thread")().is(threading.attr("main_thread")());
  py::gil_scoped_release released;
  std::optional<InterruptScope> scope;
  if (main_thread) scope.emplace();
  auto result = work();
  if (scope && scope->fired()) throw Interrupted();
  return result;
}

// Sweeps, theory suites, FLaRe datasets and next-symbol samples (bind_pyapi.cpp).
void bind_pyapi(py::module_& m);
// Models: load, params, forward and the activation cache, from_torch's writer (bind_model.cpp).
void bind_model(py::module_& m);

}  // namespace saturn::python
