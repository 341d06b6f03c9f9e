#include "lang/dataset.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"

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

Dataset make_dataset(Sampler& sampler, const DatasetOptions& o) {
  Dataset data;
  Rng rng(o.seed);
  const int next_bound = o.next_max_length >= 0 ? o.next_max_length : o.max_length;
  std::vector<int> skipped_accepted, skipped_rejected;
  auto emit = [&](Word w, int label) {
    Example e{std::move(w), label, std::nullopt};
    if (o.next) e.next = sampler.next_targets(e.word, next_bound);
    data.examples.push_back(std::move(e));
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
      data.notes.push_back(
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
      data.notes.push_back(
          fmt::format("length {}: found {} of {} near-miss negatives", n, made, k));
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
    data.notes.insert(data.notes.begin(),
                      fmt::format("no {} words at {} length{} ({}); skipped", what, lengths->size(),
                                  lengths->size() == 1 ? "" : "s", shown));
  }
  return data;
}

std::vector<Example> read_json_lines(const std::string& path, const Alphabet& alphabet) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot read data file", path));
  std::vector<Example> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    auto fail = [&](const std::string& what) {
      throw InputError(fmt::format("{}:{}: {}", path, number, what));
    };
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail("not a JSON object");
    if (!j.contains("word") || !j["word"].is_string()) fail("missing string field 'word'");
    if (!j.contains("label") || !j["label"].is_number_integer())
      fail("missing integer field 'label'");
    Example e;
    try {
      e.word = alphabet.parse(j["word"].get<std::string>());
    } catch (const InputError& err) {
      fail(err.what());
    }
    e.label = j["label"].get<int>() ? 1 : 0;
    if (j.contains("next")) {
      NextTargets t;
      if (!j["next"].is_array() || j["next"].size() != e.word.size() + 1)
        fail("'next' needs length+1 lists");
      for (const auto& allowed : j["next"]) {
        std::vector<Symbol> symbols;
        for (const auto& name : allowed) {
          auto s = name.is_string() ? alphabet.find(name.get<std::string>()) : std::nullopt;
          if (!s) fail(fmt::format("unknown symbol {} in 'next'", name.dump()));
          symbols.push_back(*s);
        }
        t.next.push_back(std::move(symbols));
      }
      if (!j.contains("prefix_accepted") || j["prefix_accepted"].size() != e.word.size() + 1)
        fail("'next' needs 'prefix_accepted' with length+1 booleans");
      for (const auto& b : j["prefix_accepted"]) t.prefix_accepted.push_back(b.get<bool>());
      e.next = std::move(t);
    }
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
