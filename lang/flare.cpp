// FLaRe's dataset format (flare.h).
#include "lang/flare.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/atomic_file.h"
#include "base/budget.h"
#include "base/error.h"
#include "base/json_read.h"
#include "base/lines.h"

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
      where.fail(fmt::format("unknown symbol '{}' (the alphabet: {})", token.substr(0, 40),
                             fmt::join(alphabet.names(), " ")));
    w.push_back(*s);
    if (end == std::string::npos) return w;
    start = end + 1;
  }
}

}  // namespace

std::vector<Example> read_flare(const fs::path& dir, const Alphabet& alphabet,
                                const Language* check_against) {
  const fs::path tok = dir / "main.tok", labels = dir / "labels.txt",
                 next = dir / "next-symbols.jsonl";
  std::ifstream tin(tok, std::ios::binary), lin(labels, std::ios::binary);
  if (!tin)
    throw InputError(
        fmt::format("{}: cannot read (a FLaRe dataset directory holds "
                    "main.tok and labels.txt)",
                    tok.string()));
  if (!lin) throw InputError(fmt::format("{}: cannot read", labels.string()));
  std::ifstream nin;
  if (fs::exists(next)) {
    nin.open(next, std::ios::binary);
    if (!nin) throw InputError(fmt::format("{}: cannot read", next.string()));
  }
  return read_flare(tin, lin, nin.is_open() ? &nin : nullptr, dir.string(), alphabet,
                    check_against);
}

std::vector<Example> read_flare(std::istream& tin, std::istream& lin, std::istream* nin,
                                const std::string& dir_name, const Alphabet& alphabet,
                                const Language* check_against) {
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
      label_lines.fail(fmt::format("expected a label 0 or 1, got '{}'", l.substr(0, 40)));
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
          item.at("s").fail(fmt::format("unknown symbol '{}'", symbols.substr(start, end - start)));
        allowed.push_back(*s);
        start = end + 1;
      }
      std::sort(allowed.begin(), allowed.end());  // FLaRe sorts by name; saturn by symbol
      targets.next.push_back(std::move(allowed));
      targets.prefix_accepted.push_back(item.at("e").boolean());
    }
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
