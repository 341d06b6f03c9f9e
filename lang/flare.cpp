// FLaRe's dataset format (flare.h).
#include "lang/flare.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/atomic_file.h"
#include "base/budget.h"
#include "base/error.h"
#include "base/json_read.h"
#include "base/lines.h"
#include "base/read_file.h"
#include "lang/builtin.h"
#include "lang/count.h"
#include "lang/dfa.h"
#include "lang/language.h"

namespace saturn {

namespace fs = std::filesystem;

namespace {

// "a b c" to a word; "" is the empty word. Single spaces only, as FLaRe writes them.
Word parse_tokens(const std::string& line, const Alphabet& alphabet, const LineReader& where) {
  Word w;
  if (line.empty()) return w;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(' ', start);
    const std::string token = line.substr(start, end == std::string::npos ? end : end - start);
    if (token.empty()) where.fail("an empty token (symbols are separated by single spaces)");
    const auto s = alphabet.find(token);
    if (!s)
      where.fail(fmt::format("unknown symbol '{}' (the alphabet: {})", visible(token),
                             fmt::join(alphabet.names(), " ")));
    w.push_back(*s);
    if (end == std::string::npos) return w;
    start = end + 1;
  }
}

// FLaRe's next-symbol sets, decided with the DFA or searched with the count tables (flare.h).
class NextSymbolChecker {
 public:
  NextSymbolChecker(const Language& language, int max_length)
      : language_(language), max_length_(max_length) {
    if (language.dfa()) {
      live_ = live_states(*language.dfa());
    } else {
      // A non-owning pointer: the table lives only while the language is in use.
      table_ = std::make_unique<CountTable>(
          std::shared_ptr<const Language>(std::shared_ptr<const Language>(), &language));
    }
  }

  void check(const Word& w, const NextTargets& t, const JsonNode& root, NextSymbolsCheck& report) {
    const Runner& runner = language_.runner();
    const int k = language_.alphabet().size();
    Config c = runner.start(), next;
    StateId q = language_.dfa() ? language_.dfa()->start() : 0;
    for (std::size_t i = 0; i <= w.size(); ++i) {
      const JsonNode item = root.at(i);
      const bool accepted = runner.accepting(c);
      if (accepted != t.prefix_accepted[i])
        item.at("e").fail(
            fmt::format("is {}, but the prefix {} {} {} (--no-check-labels skips this check)",
                        t.prefix_accepted[i] ? "true" : "false", prefix_text(w, i),
                        accepted ? "is in" : "is not in", language_.name()));
      for (int s = 0; s < k; ++s) {
        const bool listed =
            std::binary_search(t.next[i].begin(), t.next[i].end(), static_cast<Symbol>(s));
        bool follows = false, decided = true;
        if (live_) {
          follows = (*live_)[static_cast<std::size_t>(language_.dfa()->next(q, s))];
        } else {
          next = c;
          runner.step(next, static_cast<Symbol>(s));
          const int shortest = shortest_continuation(next);
          // Unlisted: wrong when an accepted word no longer than w begins with prefix + s.
          // Listed: confirmed when one was found within max_length.
          follows = shortest >= 0 && (listed || shortest <= static_cast<int>(w.size() - i) - 1);
          decided = follows || !listed;
          if (!decided) ++report.unconfirmed;
        }
        if (decided && follows != listed) {
          const std::string symbol = language_.alphabet().name(static_cast<Symbol>(s));
          item.at("s").fail(fmt::format(
              "{} '{}', but {} word of {} begins with the prefix {} and then '{}'{} "
              "(--no-check-labels skips this check)",
              listed ? "lists" : "omits", symbol, listed ? "no accepted" : "an accepted",
              language_.name(), prefix_text(w, i), symbol,
              live_ ? "" : fmt::format(" (one of length <= {})", w.size())));
        }
      }
      if (i < w.size()) {
        runner.step(c, w[i]);
        if (live_) q = language_.dfa()->next(q, w[i]);
      }
    }
  }

 private:
  std::string prefix_text(const Word& w, std::size_t i) const {
    if (i == 0) return "\"\" (empty)";
    const std::string text = language_.alphabet().format(Word(w.begin(), w.begin() + i));
    return "'" + (text.size() > 40 ? text.substr(0, 37) + "..." : text) + "'";
  }
  // The length of the shortest accepted continuation of c, up to max_length; -1 if none.
  int shortest_continuation(const Config& c) {
    key_.clear();
    append_config(c, key_);
    if (auto it = shortest_.find(key_); it != shortest_.end()) return it->second;
    int found = -1;
    for (int r = 0; r <= max_length_ && found < 0; ++r)
      if (table_->accepted_from(c, r) > 0) found = r;
    shortest_.emplace(key_, found);
    return found;
  }

  const Language& language_;
  int max_length_;
  std::optional<std::vector<bool>> live_;
  std::unique_ptr<CountTable> table_;
  std::map<Key, int> shortest_;
  Key key_;
};

}  // namespace

std::optional<NextTargets> exact_next_targets(const Language& language, const Word& w) {
  if (!language.dfa()) return std::nullopt;
  const Dfa& dfa = *language.dfa();
  const auto live = live_states(dfa);
  NextTargets out;
  StateId q = dfa.start();
  for (std::size_t i = 0; i <= w.size(); ++i) {
    out.prefix_accepted.push_back(dfa.accepting(q));
    std::vector<Symbol> allowed;
    for (int s = 0; s < dfa.num_symbols(); ++s)
      if (live[static_cast<std::size_t>(dfa.next(q, static_cast<Symbol>(s)))])
        allowed.push_back(static_cast<Symbol>(s));
    out.next.push_back(std::move(allowed));
    if (i < w.size()) q = dfa.next(q, w[i]);
  }
  return out;
}

NextTargets flare_next_targets(Sampler& sampler, const Word& w, int max_length) {
  if (auto exact = exact_next_targets(sampler.language(), w)) return std::move(*exact);
  return sampler.next_targets(w, max_length);
}

void check_import_next_max_length(int next_max_length) {
  if (next_max_length < 0 || next_max_length > 100000)
    throw InputError(fmt::format("--next-max-length: expected 0 (the default) to 100000 (got {})",
                                 next_max_length));
}

std::vector<Example> import_flare(const fs::path& dir, const Language& language, bool check_labels,
                                  int next_max_length, std::string* note) {
  check_import_next_max_length(next_max_length);
  NextSymbolsCheck check{next_max_length};
  std::vector<Example> examples;
  try {
    examples = read_flare(dir, language.alphabet(), check_labels ? &language : nullptr, &check);
  } catch (const InputError& e) {
    // FLaRe's own spelling of a language saturn also has (majority over 0 1, not a b): point to
    // the variant when the data reads as it. The alphabet is what tells FLaRe's spelling: the
    // variant is tried without label checks.
    const auto variant = builtin("flare-" + language.name());
    if (!variant) throw;
    bool reads_as_variant = true;
    try {
      read_flare(dir, variant->alphabet(), nullptr);
    } catch (const InputError&) {
      reads_as_variant = false;
    }
    if (!reads_as_variant) throw;
    throw InputError(fmt::format("{} (the data is FLaRe's {}: use --lang {})", e.what(),
                                 language.name(), variant->name()));
  }
  if (note) {
    note->clear();
    if (check.unconfirmed > 0)
      *note = fmt::format(
          "{}: {} has no DFA, so FLaRe's unbounded next-symbol sets are checked with "
          "continuations of at most {} symbols: {} listed symbol{} had none that short (kept; "
          "raise --next-max-length to search further)",
          (dir / "next-symbols.jsonl").string(), language.name(), check.max_length,
          check.unconfirmed, check.unconfirmed == 1 ? "" : "s");
  }
  return examples;
}

std::vector<Example> read_flare(const fs::path& dir, const Alphabet& alphabet,
                                const Language* check_against, NextSymbolsCheck* next_check) {
  const fs::path tok = dir / "main.tok", labels = dir / "labels.txt",
                 next = dir / "next-symbols.jsonl";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(fmt::format(
        "{}: cannot read the dataset: {} (a FLaRe dataset is a directory holding main.tok and "
        "labels.txt)",
        dir.string(), fs::exists(dir, ec) ? "not a directory" : "no such directory"));
  std::ifstream tin = open_for_reading(tok, "FLaRe main.tok (one example per line)");
  std::ifstream lin = open_for_reading(labels, "FLaRe labels.txt (one label per line)");
  std::ifstream nin;
  if (fs::exists(fs::symlink_status(next, ec)))
    nin = open_for_reading(next, "FLaRe next-symbols.jsonl");
  return read_flare(tin, lin, nin.is_open() ? &nin : nullptr, dir.string(), alphabet, check_against,
                    next_check);
}

std::vector<Example> read_flare(std::istream& tin, std::istream& lin, std::istream* nin,
                                const std::string& dir_name, const Alphabet& alphabet,
                                const Language* check_against, NextSymbolsCheck* next_check) {
  const fs::path dir(dir_name), tok = dir / "main.tok", labels = dir / "labels.txt",
                                next = dir / "next-symbols.jsonl";
  LineReader tokens(tin, tok.string()), label_lines(lin, labels.string());
  std::vector<Example> out;
  std::string t, l;
  double bytes = 0;
  for (;;) {
    const bool more_t = tokens.next(t), more_l = label_lines.next(l);
    if (!more_t && !more_l) break;
    if (more_t != more_l)
      throw InputError(more_t ? fmt::format("{}: {} labels, but main.tok has more lines",
                                            labels.string(), label_lines.line_number())
                              : fmt::format("{}: {} words, but labels.txt has more lines",
                                            tok.string(), tokens.line_number()));
    Example e;
    e.word = parse_tokens(t, alphabet, tokens);
    if (l != "0" && l != "1")
      label_lines.fail(fmt::format("expected a label 0 or 1, got '{}'", visible(l)));
    e.label = l == "1" ? 1 : 0;
    if (check_against && check_against->accepts(e.word) != (e.label == 1))
      label_lines.fail(fmt::format(
          "label {}, but {} (main.tok line {}) {} {} (--no-check-labels accepts mislabelled data)",
          e.label,
          e.word.empty() ? std::string("the empty word") : "the word " + alphabet.format(e.word),
          tokens.line_number(), e.label == 1 ? "is not in" : "is in", check_against->name()));
    bytes += 64.0 + 2.0 * static_cast<double>(e.word.size());
    if (bytes > static_cast<double>(memory_budget()))
      require_memory(bytes, tok.string(), "the examples of this dataset");
    out.push_back(std::move(e));
  }
  if (!nin) return out;
  LineReader next_lines(*nin, next.string());
  std::string line;
  NextSymbolsCheck default_check;
  if (!next_check) next_check = &default_check;
  std::optional<NextSymbolChecker> checker;
  if (check_against) {
    std::size_t longest = 0;
    for (const auto& e : out) longest = std::max(longest, e.word.size());
    if (next_check->max_length <= 0)
      next_check->max_length = static_cast<int>(std::max<std::size_t>(16, 2 * longest));
    checker.emplace(*check_against, next_check->max_length);
    next_check->exact = check_against->dfa().has_value();
  }
  for (auto& e : out) {
    if (e.label != 1) continue;
    if (!next_lines.next(line))
      throw InputError(fmt::format(
          "{}: {} lines, but labels.txt has more positive examples (the first without a line: "
          "main.tok line {})",
          next.string(), next_lines.line_number(), &e - out.data() + 1));
    const std::string where = fmt::format("{}:{}", next.string(), next_lines.line_number());
    const auto j = parse_json(line, where);
    const JsonNode root(j, where);
    const std::size_t n = e.word.size();
    if (!j.is_array() || j.size() != n + 1)
      root.fail(fmt::format("expected an array of {} objects (the word's length + 1)", n + 1));
    NextTargets targets;
    for (std::size_t i = 0; i <= n; ++i) {
      const JsonNode item = root.at(i);
      item.only_keys({"s", "e"});
      const std::string symbols = item.at("s").string();
      std::vector<Symbol> allowed;
      std::size_t start = 0;
      while (start < symbols.size()) {
        std::size_t end = symbols.find(' ', start);
        if (end == std::string::npos) end = symbols.size();
        const auto s = alphabet.find(symbols.substr(start, end - start));
        if (!s)
          item.at("s").fail(
              fmt::format("unknown symbol '{}'", visible(symbols.substr(start, end - start))));
        allowed.push_back(*s);
        start = end + 1;
      }
      std::sort(allowed.begin(), allowed.end());  // FLaRe sorts by name; saturn by symbol
      targets.next.push_back(std::move(allowed));
      targets.prefix_accepted.push_back(item.at("e").boolean());
    }
    if (checker) checker->check(e.word, targets, root, *next_check);
    e.next = std::move(targets);
  }
  if (next_lines.next(line)) next_lines.fail("more lines than positive examples in labels.txt");
  return out;
}

struct FlareWriter::Files {
  explicit Files(const fs::path& dir, bool next)
      : tok(dir / "main.tok"), labels(dir / "labels.txt") {
    if (next) next_symbols.emplace(dir / "next-symbols.jsonl");
  }
  OutputFile tok, labels;
  std::optional<OutputFile> next_symbols;
};

FlareWriter::FlareWriter(const fs::path& dir, const Alphabet& alphabet, bool next_symbols)
    : alphabet_(alphabet), next_(next_symbols) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw InputError(fmt::format("{}: cannot create the dataset directory", dir.string()));
  files_ = std::make_unique<Files>(dir, next_symbols);
}

FlareWriter::~FlareWriter() = default;

void FlareWriter::write(const Example& e) {
  std::string line;
  for (std::size_t i = 0; i < e.word.size(); ++i)
    line += (i ? " " : "") + alphabet_.name(e.word[i]);
  files_->tok.write(line + "\n");
  files_->labels.write(e.label == 1 ? "1\n" : "0\n");
  if (!next_ || e.label != 1) return;
  if (!e.next) throw InputError("--format flare: a positive example without next-symbol targets");
  nlohmann::json row = nlohmann::json::array();
  for (std::size_t i = 0; i < e.next->next.size(); ++i) {
    std::vector<std::string> names;
    for (Symbol s : e.next->next[i]) names.push_back(alphabet_.name(s));
    std::sort(names.begin(), names.end());
    std::string joined;
    for (const auto& nm : names) joined += (joined.empty() ? "" : " ") + nm;
    row.push_back({{"s", joined}, {"e", static_cast<bool>(e.next->prefix_accepted[i])}});
  }
  files_->next_symbols->write(row.dump() + "\n");
}

void FlareWriter::commit() {
  files_->tok.commit();
  files_->labels.commit();
  if (files_->next_symbols) files_->next_symbols->commit();
}

}  // namespace saturn
