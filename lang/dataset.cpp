#include "lang/dataset.h"

#include <fmt/format.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "base/budget.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "base/json_read.h"
#include "base/lines.h"
#include "base/read_file.h"
#include "lang/words.h"

namespace saturn {

std::pair<int, int> parse_length_range(const std::string& text, const std::string& flag) {
  auto bad = [&]() -> std::pair<int, int> {
    throw InputError(fmt::format("{}: expected A:B with 0 <= A <= B (got '{}')", flag, text));
  };
  auto colon = text.find(':');
  std::string a = text.substr(0, colon),
              b = colon == std::string::npos ? a : text.substr(colon + 1);
  auto to_int = [&](const std::string& s) {
    if (s.empty() || s.size() > 7 || s.find_first_not_of("0123456789") != std::string::npos) bad();
    return std::stoi(s);
  };
  int lo = to_int(a), hi = to_int(b);
  if (lo > hi) bad();
  return {lo, hi};
}

void check_dataset_options(const DatasetOptions& o) {
  if (o.per_length < 0)
    throw InputError(fmt::format("--per-length: must be >= 0 (got {})", o.per_length));
  if (o.next_max_length > kMaxNextLength)
    throw LimitError(
        fmt::format("--next-max-length: at most {} (got {})", kMaxNextLength, o.next_max_length));
  // --distinct remembers the words of one length and class.
  if (o.distinct)
    require_memory(static_cast<double>(o.per_length) * (64.0 + 2.0 * o.max_length), "--per-length",
                   "remembering the distinct words of one length");
}

namespace {

// K distinct uniform indices below `total` (Floyd's algorithm), in increasing order.
std::vector<BigInt> distinct_indices(Rng& rng, const BigInt& total, int k) {
  std::set<BigInt> chosen;
  for (BigInt j = total - k; j < total; ++j) {
    BigInt t = uniform_below(rng, j + 1);
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  return {chosen.begin(), chosen.end()};
}

}  // namespace

Dataset make_dataset(Sampler& sampler, const DatasetOptions& options) {
  Dataset data;
  data.notes = generate_dataset(sampler, options,
                                [&](Example&& e) { data.examples.push_back(std::move(e)); });
  return data;
}

std::vector<std::string> generate_dataset(Sampler& sampler, const DatasetOptions& o,
                                          const std::function<void(Example&&)>& sink) {
  check_dataset_options(o);
  // The whole range's cost before its first word (issue 23: 1:100000 sampled for minutes before
  // a length was refused): the longest length's table holds most of the shorter lengths'
  // entries, so it is sized first (near-misses start from words one longer).
  const bool near_misses = o.negatives == Negatives::near_miss || o.negatives == Negatives::mixed;
  sampler.check_length(o.max_length + (near_misses ? 1 : 0));
  std::vector<std::string> notes;
  Rng rng(o.seed);
  const int next_bound = o.next_max_length >= 0 ? o.next_max_length : o.max_length;
  std::vector<int> skipped_accepted, skipped_rejected;
  Progress progress("sampling");
  const double total =
      (o.max_length - o.min_length + 1.0) * o.per_length * (o.negatives == Negatives::none ? 1 : 2);
  double made = 0;
  auto emit = [&](Word w, int label) {
    Example e{std::move(w), label, std::nullopt};
    if (o.next) e.next = sampler.next_targets(e.word, next_bound);
    sink(std::move(e));
    progress.update(++made, total);
  };
  // Uniform words of one class, with or without replacement.
  auto draw_uniform = [&](int n, int k, bool accepted) {
    BigInt total = accepted ? sampler.count_accepted(n) : sampler.count_rejected(n);
    const char* what = accepted ? "accepted" : "rejected";
    if (total == 0) {
      (accepted ? skipped_accepted : skipped_rejected).push_back(n);
      return;
    }
    auto draw = [&] { return accepted ? sampler.accepted(n, rng) : sampler.rejected(n, rng); };
    if (!o.distinct) {
      for (int i = 0; i < k; ++i) emit(*draw(), accepted);
      return;
    }
    if (total >= 4 * k) {
      // Sequential uniform draws, redrawing duplicates: uniform over k-subsets, and few redraws.
      std::set<Word> seen;
      while (static_cast<int>(seen.size()) < k)
        if (auto w = draw(); seen.insert(*w).second) emit(std::move(*w), accepted);
      return;
    }
    const int take = static_cast<int>(std::min<BigInt>(total, k));
    if (take < k)
      notes.push_back(
          fmt::format("length {}: only {} distinct {} words (asked for {})", n, take, what, k));
    for (const BigInt& idx : distinct_indices(rng, total, take))
      emit(accepted ? sampler.unrank_accepted(n, idx) : sampler.unrank_rejected(n, idx), accepted);
  };
  auto draw_near_miss = [&](int n, int k) {
    std::set<Word> seen;
    int made = 0;
    for (int i = 0; i < k; ++i) {
      std::optional<Word> w;
      for (int tries = 0; tries < (o.distinct ? 50 : 1); ++tries) {
        w = sampler.near_miss(n, rng);
        if (!w || !o.distinct || seen.insert(*w).second) break;
        w.reset();
      }
      if (!w) break;
      emit(std::move(*w), 0);
      ++made;
    }
    if (made < k)
      notes.push_back(fmt::format("length {}: found {} of {} near-miss negatives", n, made, k));
  };

  for (int n = o.min_length; n <= o.max_length; ++n) {
    draw_uniform(n, o.per_length, true);
    switch (o.negatives) {
      case Negatives::none:
        break;
      case Negatives::uniform:
        draw_uniform(n, o.per_length, false);
        break;
      case Negatives::near_miss:
        draw_near_miss(n, o.per_length);
        break;
      case Negatives::mixed:
        draw_uniform(n, (o.per_length + 1) / 2, false);
        draw_near_miss(n, o.per_length / 2);
        break;
    }
  }
  for (auto [lengths, what] :
       {std::pair{&skipped_accepted, "accepted"}, std::pair{&skipped_rejected, "rejected"}}) {
    if (lengths->empty()) continue;
    std::string shown = lengths->size() <= 6
                            ? fmt::format("{}", fmt::join(*lengths, ", "))
                            : fmt::format("{}, {}, {}, ..., {}", (*lengths)[0], (*lengths)[1],
                                          (*lengths)[2], lengths->back());
    notes.insert(notes.begin(),
                 fmt::format("no {} words at {} length{} ({}); skipped", what, lengths->size(),
                             lengths->size() == 1 ? "" : "s", shown));
  }
  return notes;
}

std::vector<Example> read_json_lines(const std::string& path, const Alphabet& alphabet,
                                     int max_length, const Language* check_against) {
  std::ifstream in = open_for_reading(path, "data file (JSON Lines)");
  return read_json_lines(in, path, alphabet, max_length, check_against);
}

std::vector<Example> read_json_lines(std::istream& in, const std::string& path,
                                     const Alphabet& alphabet, int max_length,
                                     const Language* check_against) {
  std::vector<Example> out;
  LineReader lines(in, path);
  std::string line;
  double bytes = 0;  // held by the examples, against the memory budget
  while (lines.next(line)) {
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", path, lines.line_number());
    const auto j = parse_json(line, where);
    const JsonNode root(j, where);
    if (!j.is_object()) root.fail("expected a JSON object");
    root.only_keys({"word", "length", "label", "next", "prefix_accepted"});
    Example e;
    try {
      e.word = parse_word(root.at("word").string(), alphabet);
    } catch (const InputError& err) {
      if (std::string(err.what()).rfind(where, 0) == 0) throw;
      root.at("word").fail(err.what());
    }
    const auto n = static_cast<std::int64_t>(e.word.size());
    if (max_length >= 0 && n > max_length)
      root.at("word").fail(fmt::format(
          "a word of length {} is longer than the model's max_length ({})", n, max_length));
    if (auto length = root.find("length"); length && length->integer(0, INT64_MAX) != n)
      length->fail(fmt::format("says {}, but the word has length {}", length->value().dump(), n));
    e.label = static_cast<int>(root.at("label").integer(0, 1));
    if (check_against && check_against->accepts(e.word) != (e.label == 1))
      root.at("label").fail(fmt::format(
          "is {}, but {} {} {} (--no-check-labels accepts mislabelled data)", e.label,
          e.word.empty() ? std::string("the empty word") : "the word " + alphabet.format(e.word),
          e.label == 1 ? "is not in" : "is in", check_against->name()));
    if (auto next = root.find("next")) {
      NextTargets t;
      if (next->size() != e.word.size() + 1)
        next->fail(fmt::format("expected {} lists (length + 1), got {}", n + 1, next->size()));
      for (std::size_t i = 0; i < next->size(); ++i) {
        const JsonNode allowed = next->at(i);
        std::vector<Symbol> symbols;
        for (std::size_t a = 0; a < allowed.size(); ++a) {
          const JsonNode name = allowed.at(a);
          auto s = alphabet.find(name.string());
          if (!s) name.fail(fmt::format("unknown symbol {}", name.describe()));
          symbols.push_back(*s);
        }
        t.next.push_back(std::move(symbols));
      }
      const JsonNode accepted = root.at("prefix_accepted");
      if (accepted.size() != e.word.size() + 1)
        accepted.fail(
            fmt::format("expected {} booleans (length + 1), got {}", n + 1, accepted.size()));
      for (std::size_t i = 0; i < accepted.size(); ++i)
        t.prefix_accepted.push_back(accepted.at(i).boolean());
      e.next = std::move(t);
    } else if (root.has("prefix_accepted")) {
      root.at("prefix_accepted").fail("needs \"next\" beside it");
    }
    bytes += 64.0 + 2.0 * static_cast<double>(e.word.size()) * (e.next ? 12 : 1);
    if (bytes > static_cast<double>(memory_budget()))
      require_memory(bytes, path, "the examples of this data file");
    out.push_back(std::move(e));
  }
  if (out.empty()) throw InputError(fmt::format("{}: no examples", path));
  return out;
}

std::string to_json_line(const Example& e, const Alphabet& alphabet) {
  nlohmann::ordered_json j;
  j["word"] = alphabet.format(e.word);
  j["length"] = e.word.size();
  j["label"] = e.label;
  if (e.next) {
    auto next = nlohmann::json::array();
    for (const auto& allowed : e.next->next) {
      auto names = nlohmann::json::array();
      for (Symbol s : allowed) names.push_back(alphabet.name(s));
      next.push_back(std::move(names));
    }
    j["next"] = std::move(next);
    j["prefix_accepted"] = e.next->prefix_accepted;
  }
  return j.dump();
}

}  // namespace saturn
