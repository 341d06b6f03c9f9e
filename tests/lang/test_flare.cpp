// [lang]: FLaRe's dataset format (lang/flare.h) both ways: export then import gives the same
// words, labels and next-symbol targets; a directory written the way FLaRe's sampler writes it
// imports; mislabelled and malformed files are refused naming file and line.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "lang/builtin.h"
#include "lang/flare.h"

using namespace saturn;
namespace fs = std::filesystem;

namespace {

fs::path fresh(const std::string& what) {
  const fs::path dir =
      fs::temp_directory_path() / ("saturn-flare-" + what + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

std::string error_of(const fs::path& dir, const Language& l, bool check = true) {
  try {
    read_flare(dir, l.alphabet(), check ? &l : nullptr);
  } catch (const InputError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("FLaRe format: export then import round-trips words, labels and next symbols", "[lang]") {
  for (const char* name : {"dyck-1", "majority", "marked-reversal"}) {
    const auto l = resolve_language(name);
    Sampler sampler(l);
    DatasetOptions o;
    o.min_length = 0, o.max_length = 9, o.per_length = 3, o.next = true, o.seed = 5;
    o.negatives = Negatives::mixed;
    std::vector<Example> written;
    const fs::path dir = fresh(name);
    {
      FlareWriter writer(dir, l->alphabet(), true);
      generate_dataset(sampler, o, [&](Example&& e) {
        writer.write(e);
        written.push_back(std::move(e));
      });
      writer.commit();
    }
    const auto back = read_flare(dir, l->alphabet(), l.get());
    INFO(name);
    REQUIRE(back.size() == written.size());
    for (std::size_t i = 0; i < back.size(); ++i) {
      CHECK(back[i].word == written[i].word);
      CHECK(back[i].label == written[i].label);
      if (written[i].label == 1) {  // FLaRe keeps next symbols for positives only
        REQUIRE(back[i].next);
        CHECK(back[i].next->next == written[i].next->next);
        CHECK(back[i].next->prefix_accepted == written[i].next->prefix_accepted);
      } else {
        CHECK_FALSE(back[i].next);
      }
    }
    fs::remove_all(dir);
  }
}

TEST_CASE("FLaRe format: a directory written as FLaRe's sampler writes it imports", "[lang]") {
  // parity over 0/1: "1 0 1" is even (rejected), "1" and "1 1 1" odd (accepted), "" rejected.
  const auto l = resolve_language("parity");
  const fs::path dir = fresh("shipped");
  fs::create_directories(dir);
  std::ofstream(dir / "main.tok") << "1\n1 0 1\n\n1 1 1\n";
  std::ofstream(dir / "labels.txt") << "1\n0\n0\n1\n";
  std::ofstream(dir / "next-symbols.jsonl")
      << R"([{"s": "0 1", "e": false}, {"s": "0 1", "e": true}])"
      << "\n"
      << R"([{"s": "0 1", "e": false}, {"s": "0 1", "e": true}, {"s": "0 1", "e": false}, {"s": "0 1", "e": true}])"
      << "\n";
  const auto e = read_flare(dir, l->alphabet(), l.get());
  REQUIRE(e.size() == 4);
  CHECK(e[0].word == Word{1});
  CHECK(e[1].word == Word{1, 0, 1});
  CHECK(e[2].word.empty());
  CHECK(e[3].word == Word{1, 1, 1});
  CHECK(e[0].label == 1);
  CHECK(e[2].label == 0);
  REQUIRE(e[3].next);
  CHECK(e[3].next->prefix_accepted == std::vector<bool>{false, true, false, true});
  CHECK(e[3].next->next[2] == std::vector<Symbol>{0, 1});
  CHECK_FALSE(e[1].next);

  // Mislabelled: line 2 says 1, but 1 0 1 is not in parity.
  std::ofstream(dir / "labels.txt") << "1\n1\n0\n1\n";
  CHECK(error_of(dir, *l) == (dir / "labels.txt").string() +
                                 ":2: label 1, but the word 101 (main.tok line 2) is not in "
                                 "parity (--no-check-labels accepts mislabelled data)");
  CHECK(error_of(dir, *l, false) ==
        (dir / "next-symbols.jsonl").string() +
            ": 2 lines, but labels.txt has more positive examples (the first without a line: "
            "main.tok line 4)");
  std::ofstream(dir / "labels.txt") << "1\n0\n0\nyes\n";
  CHECK(error_of(dir, *l) ==
        (dir / "labels.txt").string() + ":4: expected a label 0 or 1, got 'yes'");
  std::ofstream(dir / "labels.txt") << "1\n0\n0\n";
  CHECK(error_of(dir, *l) ==
        (dir / "labels.txt").string() + ": 3 labels, but main.tok has more lines");
  std::ofstream(dir / "labels.txt") << "1\n0\n0\n1\n";
  std::ofstream(dir / "main.tok") << "1\n1 0 1\n\n1 2 1\n";
  CHECK(error_of(dir, *l) ==
        (dir / "main.tok").string() + ":4: unknown symbol '2' (the alphabet: 0 1)");
  std::ofstream(dir / "main.tok") << "1\n1  0 1\n\n1 1 1\n";
  CHECK(error_of(dir, *l).find("main.tok:2: an empty token") != std::string::npos);
  fs::remove_all(dir);
  CHECK(error_of(dir, *l).find("cannot read") != std::string::npos);
}
