// `saturn lang ...`: the language zoo, spec files, counting, sampling, DOT, equivalence.
#include <fmt/format.h>

#include <iostream>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/names.h"
#include "cli/commands.h"
#include "cli/word_args.h"
#include "lang/builtin.h"
#include "lang/dataset.h"
#include "lang/equiv.h"
#include "lang/flare.h"
#include "lang/words.h"

namespace saturn::cli {
namespace {

void require_non_negative(int value, const char* flag) {
  if (value < 0) throw InputError(fmt::format("{}: must be >= 0 (got {})", flag, value));
}

void list_languages() {
  std::vector<std::shared_ptr<const Language>> langs;
  for (const auto& name : builtin_names()) langs.push_back(builtin(name));
  std::size_t wn = 4, wa = 8, wc = 5, ws = 6;
  auto alpha = [](const Language& l) {
    return fmt::format("{}", fmt::join(l.alphabet().names(), " "));
  };
  for (const auto& l : langs) {
    wn = std::max(wn, l->name().size());
    wa = std::max(wa, alpha(*l).size());
    wc = std::max(wc, l->language_class().size());
    ws = std::max(ws, l->source().size());
  }
  fmt::print("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", "name", wn, "alphabet", wa, "class", wc,
             "source", ws, "description");
  for (const auto& l : langs)
    fmt::print("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", l->name(), wn, alpha(*l), wa,
               l->language_class(), wc, l->source().empty() ? "-" : l->source(), ws,
               l->description());
}

void show_language(const std::string& what) {
  auto lang = resolve_language(what);
  fmt::print("name:        {}\n", lang->name());
  if (!lang->description().empty()) fmt::print("description: {}\n", lang->description());
  if (!lang->source().empty()) fmt::print("source:      {}\n", lang->source());
  fmt::print("alphabet:    {}\n", fmt::join(lang->alphabet().names(), " "));
  fmt::print("class:       {} ({})\n", lang->language_class(), lang->class_detail());
  fmt::print("machine:     {}\n", lang->machine().summary());
  if (lang->enumeration_limit() > 0)
    fmt::print(
        "counting:    by enumerating the values read (no polynomial table): exact up to length "
        "{} in under 30 s on one core; longer lengths grow about 2x per symbol until "
        "--table-limit or the memory budget refuses them\n",
        lang->enumeration_limit());
  fmt::print("accepted words by length:\n");
  Sampler counts(lang);
  for (int n = 0; n <= 10; ++n) fmt::print("  {:>2}: {}\n", n, counts.count_accepted(n).str());
}

}  // namespace

void add_lang_commands(CLI::App& app) {
  auto* lang =
      app.add_subcommand("lang", "Formal languages: the zoo, spec files, counting and sampling");
  lang->require_subcommand(1);

  lang->add_subcommand("list", "List the built-in languages")->callback(list_languages);

  {
    auto* cmd =
        lang->add_subcommand("show", "Alphabet, class, machine and counts for lengths 0..10");
    auto name = std::make_shared<std::string>();
    cmd->add_option("LANG", *name, "Built-in name or spec file")->required();
    cmd->callback([name] { show_language(*name); });
  }
  {
    auto* cmd = WordsCommand::add(*lang, "check", "Print accept or reject for each word");
    auto name = std::make_shared<std::string>();
    cmd->add_option("LANG", *name, "Built-in name or spec file")->required();
    cmd->add_words();
    cmd->callback([name, cmd] {
      auto l = resolve_language(*name);
      cmd->for_each_word(l->alphabet(), [&](const std::string&, const Word& w) {
        fmt::print("{}\n", l->accepts(w) ? "accept" : "reject");
      });
    });
  }
  {
    auto* cmd =
        lang->add_subcommand("count", "Exact number of accepted (or rejected) words of a length");
    auto name = std::make_shared<std::string>();
    auto length = std::make_shared<int>(0);
    auto rejected = std::make_shared<bool>(false);
    auto limit = std::make_shared<long long>(CountTable::kDefaultMaxEntries);
    cmd->add_option("LANG", *name, "Built-in name or spec file")->required();
    cmd->add_option("--length", *length, "Word length")->required();
    cmd->add_flag("--rejected", *rejected, "Count rejected words instead");
    cmd->add_option("--table-limit", *limit, "Largest exact count table, in entries")
        ->capture_default_str();
    cmd->callback([=] {
      require_non_negative(*length, "--length");  // before the language, as always
      check_table_limit(*limit);
      fmt::print("{}\n",
                 count_words_of_length(resolve_language(*name), *length, *rejected, *limit).str());
    });
  }
  {
    auto* cmd = lang->add_subcommand("sample", "Exact uniform samples as JSON Lines");
    auto name = std::make_shared<std::string>();
    auto lengths = std::make_shared<std::string>();
    auto negatives = std::make_shared<std::string>("none");
    auto out = std::make_shared<std::string>();
    auto limit = std::make_shared<long long>(CountTable::kDefaultMaxEntries);
    auto o = std::make_shared<DatasetOptions>();
    cmd->add_option("LANG", *name, "Built-in name or spec file")->required();
    cmd->add_option("--lengths", *lengths, "Length range A:B")->required();
    cmd->add_option("--per-length", o->per_length, "Words per class per length")->required();
    cmd->add_option("--negatives", *negatives, "none | uniform | near-miss | mixed")
        ->capture_default_str();
    cmd->add_flag("--distinct", o->distinct, "Without replacement (capped at what exists)");
    cmd->add_flag("--next", o->next, "Add next-symbol targets and prefix acceptance");
    cmd->add_option("--next-max-length", o->next_max_length,
                    "Length bound for next-symbol targets (default: B)");
    cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
    cmd->add_option("-o,--out", *out, "Output file (default: stdout)");
    cmd->add_option("--table-limit", *limit, "Largest exact count table, in entries")
        ->capture_default_str();
    auto format = std::make_shared<std::string>("jsonl");
    cmd->add_option("--format", *format,
                    "jsonl, or flare: -o DIR gets FLaRe's main.tok, labels.txt (and "
                    "next-symbols.jsonl with --next)")
        ->capture_default_str();
    cmd->callback([=] {
      std::tie(o->min_length, o->max_length) = parse_length_range(*lengths, "--lengths");
      o->negatives = parse_name<Negatives>(kNegativesNames, "--negatives", *negatives);
      check_dataset_options(*o);
      check_table_limit(*limit);
      if (*format != "jsonl" && *format != "flare")
        throw InputError(fmt::format("--format: expected jsonl or flare (got '{}')", *format));
      auto l = resolve_language(*name);
      Sampler sampler(l, static_cast<std::size_t>(*limit));
      if (*format == "flare") {
        if (out->empty()) throw InputError("--format flare: needs -o DIR (a dataset directory)");
        if (*out == "-")
          throw InputError(
              "--format flare: -o - is standard output, but a FLaRe dataset is a directory of "
              "files; give -o DIR");
        FlareWriter writer(*out, l->alphabet(), o->next);
        // FLaRe's next-symbol sets are unbounded: exact where a DFA decides them, so that
        // `lang import` accepts what is written.
        const auto notes = generate_dataset(sampler, *o, [&](Example&& e) {
          if (e.next)
            if (auto exact = exact_next_targets(*l, e.word)) e.next = std::move(*exact);
          writer.write(e);
        });
        writer.commit();
        for (const auto& note : notes) fmt::print(stderr, "note: {}\n", note);
        return;
      }
      // Streamed: each line is written as it is drawn; -o writes through a temporary file
      // that is renamed into place only when the whole dataset is there.
      OutputFile output(out->empty() ? "-" : *out);
      const auto notes = generate_dataset(sampler, *o, [&](Example&& e) {
        output.write(to_json_line(e, l->alphabet()));
        output.write("\n");
      });
      output.commit();
      for (const auto& note : notes) fmt::print(stderr, "note: {}\n", note);
    });
  }
  {
    auto* cmd = lang->add_subcommand(
        "import", "A FLaRe dataset directory (main.tok, labels.txt, next-symbols.jsonl) as JSONL");
    auto dir = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto no_check = std::make_shared<bool>(false);
    cmd->add_option("FLARE_DIR", *dir, "Directory with main.tok and labels.txt")->required();
    cmd->add_option("--lang", *name, "The language (its alphabet names the symbols)")->required();
    cmd->add_option("-o,--out", *out, "Output JSONL file (default: stdout)");
    cmd->add_flag("--no-check-labels", *no_check,
                  "Accept labels and next-symbols.jsonl entries that disagree with the language");
    auto next_max_length = std::make_shared<int>(0);
    cmd->add_option("--next-max-length", *next_max_length,
                    "Languages without a DFA: search accepted continuations up to this length "
                    "when checking next-symbols.jsonl (default: twice the longest word, >= 16)");
    cmd->callback([=] {
      check_import_next_max_length(*next_max_length);
      auto l = resolve_language(*name);
      std::string note;
      const auto examples = import_flare(*dir, *l, !*no_check, *next_max_length, &note);
      if (!note.empty()) fmt::print(stderr, "note: {}\n", note);
      OutputFile output(out->empty() ? "-" : *out);
      for (const auto& e : examples) {
        output.write(to_json_line(e, l->alphabet()));
        output.write("\n");
      }
      output.commit();
    });
  }
  {
    auto* cmd = lang->add_subcommand("dot", "Graphviz DOT of the minimal DFA (regular languages)");
    auto name = std::make_shared<std::string>();
    cmd->add_option("LANG", *name, "Built-in name or spec file")->required();
    cmd->callback([name] {
      auto l = resolve_language(*name);
      if (!l->dfa())
        throw InputError(l->language_class() == "regular"
                             ? fmt::format("{}: no DFA to draw ({})", l->name(), l->class_detail())
                             : fmt::format("{}: not a regular language (class {}): no DFA to draw",
                                           l->name(), l->language_class()));
      std::cout << to_dot(*l->dfa(), l->alphabet(), l->name());
    });
  }
  {
    auto* cmd = lang->add_subcommand(
        "equiv", "Equivalence of two languages, or a shortest distinguishing word");
    auto a = std::make_shared<std::string>(), b = std::make_shared<std::string>();
    auto max_length = std::make_shared<int>(12);
    cmd->add_option("LANG1", *a, "Built-in name or spec file")->required();
    cmd->add_option("LANG2", *b, "Built-in name or spec file")->required();
    cmd->add_option("--max-length", *max_length, "Length bound when a language is not regular")
        ->capture_default_str();
    cmd->callback([=] {
      require_non_negative(*max_length, "--max-length");
      auto la = resolve_language(*a), lb = resolve_language(*b);
      EquivalenceResult r = check_equivalence(*la, *lb, *max_length);
      if (r.equivalent()) {
        fmt::print("equivalent\n");
        if (!r.exact)
          fmt::print(
              stderr,
              "note: checked every word up to length {} (not both regular: no proof beyond)\n",
              r.checked_length);
        return;
      }
      bool in_a = la->accepts(*r.witness);
      fmt::print("{}\n", format_word(*r.witness, la->alphabet()));
      std::fflush(stdout);  // the word first, then the note, even through a shared pipe
      fmt::print(stderr, "note: {} {}, {} {}\n", la->name(), in_a ? "accepts" : "rejects",
                 lb->name(), in_a ? "rejects" : "accepts");
    });
  }
}

}  // namespace saturn::cli
