// A newcomer's first commands (issue 23 §5): --version, "did you mean" for misspelled
// subcommands, flags and language names, usage lines, FLaRe's spaced words, progress in a log.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "base/error.h"
#include "lang/words.h"
#include "tests/support/run_saturn.h"

namespace fs = std::filesystem;
using saturn::test::count_lines;
using saturn::test::run_saturn;

namespace {

void write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Exit 2 and exactly one line on stderr, containing `part`.
void require_refused(const saturn::test::Run& r, const std::string& part) {
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.rfind("saturn: ", 0) == 0);
  CHECK_THAT(r.err, Catch::Contains(part));
}

}  // namespace

TEST_CASE("saturn --version prints the version, the commit and the build", "[cli]") {
  const auto r = run_saturn("--version");
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  CHECK(count_lines(r.out) == 3);
  CHECK(std::regex_search(r.out, std::regex(R"(^saturn \d+\.\d+\.\d+\n)")));
  // A commit (hex, maybe -dirty) or "unknown" outside a git checkout.
  CHECK(std::regex_search(r.out, std::regex(R"(\ncommit: ([0-9a-f]{7,40}(-dirty)?|unknown)\n)")));
  CHECK(std::regex_search(
      r.out, std::regex(R"(\nbuild: (native \(-march=native\)|portable \(SATURN_PORTABLE\)), )"
                        R"((MPI|no MPI), Z3 \d+\.\d+\.\d+\.\d+\n)")));
}

TEST_CASE("a misspelled subcommand, flag or language name gets the nearest names", "[cli]") {
  SECTION("subcommands") {
    require_refused(run_saturn("lnag list"), "(did you mean 'lang'?)");
    require_refused(run_saturn("lang lsit"), "(did you mean 'list'?)");
  }
  SECTION("flags") {
    require_refused(run_saturn("lang count majority --lenght 5"), "(did you mean '--length'?)");
    // train has no --steps: steps is a training key, set with --set.
    const auto r = run_saturn("train --lang majority --out /nonexistent/x --stpes 10");
    require_refused(r, "(did you mean '--set steps=VALUE'?)");
    CHECK_THAT(r.err, Catch::Contains("--stpes"));
  }
  SECTION("language names") {
    require_refused(run_saturn("lang count majorty --length 3"), "(did you mean 'majority'?)");
    require_refused(run_saturn("lang show dyck2"), "(did you mean 'dyck-2'?)");
    // Nothing near: no suggestion.
    const auto r = run_saturn("lang show qqqqqqqqqq");
    require_refused(r, "unknown language 'qqqqqqqqqq'");
    CHECK_THAT(r.err, !Catch::Contains("did you mean"));
  }
  SECTION("language names in a sweep grid") {
    const auto dir = saturn::test::scratch_dir("first-run-grid");
    write(dir / "grid.toml", "languages = [\"parity\", \"dyck2\"]\nsteps = 2\n");
    const auto r =
        run_saturn("sweep " + (dir / "grid.toml").string() + " --out " + (dir / "sweep").string());
    require_refused(r, "(did you mean 'dyck-2'?)");
    CHECK_THAT(r.err, Catch::Contains("grid.toml:1"));
    CHECK(!fs::exists(dir / "sweep" / "results.jsonl"));
  }
}

TEST_CASE("help: usage lines name the whole command, train lists its keys", "[cli]") {
  auto r = run_saturn("train --help");
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("Usage: saturn train [OPTIONS]"));
  // Every key --set takes, with its default.
  CHECK_THAT(r.out, Catch::Contains("steps = 1000"));
  CHECK_THAT(r.out, Catch::Contains("batch_size = 32"));
  CHECK_THAT(r.out, Catch::Contains("d_model = "));
  r = run_saturn("lang check --help");
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("Usage: saturn lang check [OPTIONS]"));
}

TEST_CASE("word files: FLaRe's space-separated symbols, where unambiguous", "[lang][cli]") {
  const auto dir = saturn::test::scratch_dir("first-run-words");
  SECTION("one space between every two single-character symbols is read as the word") {
    write(dir / "main.tok", "1 1 0\n0 1\n\n1\n");
    const auto r = run_saturn("lang check flare-majority --words " + (dir / "main.tok").string());
    INFO(r.err);
    REQUIRE(r.code == 0);
    // The same verdicts as the words written without spaces.
    const auto plain = run_saturn("lang check flare-majority 110 01 '\"\"' 1");
    REQUIRE(plain.code == 0);
    CHECK(r.out == plain.out);
    CHECK(r.out == "accept\nreject\nreject\naccept\n");
  }
  SECTION("on the command line too") {
    const auto r = run_saturn("lang check majority 'a b a' aba");
    REQUIRE(r.code == 0);
    CHECK(count_lines(r.out) == 2);
    CHECK(r.out.find("reject") == std::string::npos);
  }
  SECTION("any other space is refused, naming the line") {
    write(dir / "ambiguous.tok", "1 1\n11 0\n");
    require_refused(
        run_saturn("lang check flare-majority --words " + (dir / "ambiguous.tok").string()),
        "ambiguous.tok:2");
    require_refused(run_saturn("lang check flare-majority '1  0'"), "spaces may only separate");
    require_refused(run_saturn("lang check flare-majority ' 1'"), "spaces may only separate");
    require_refused(run_saturn("lang check flare-majority '1 0 '"), "spaces may only separate");
  }
}

TEST_CASE("parse_word: single spaces between single-character symbols only", "[lang]") {
  const saturn::Alphabet binary({"0", "1"}), named({"ab", "c"});
  CHECK(saturn::parse_word("0 1 1", binary) == saturn::Word{0, 1, 1});
  CHECK(saturn::parse_word("0 1 1", binary) == saturn::parse_word("011", binary));
  CHECK(saturn::parse_word("1", binary) == saturn::Word{1});
  for (const char* bad : {"01 1", "0  1", " 0", "0 ", " ", "0 1 "}) {
    INFO(bad);
    CHECK_THROWS_AS(saturn::parse_word(bad, binary), saturn::InputError);
  }
  CHECK_THROWS_WITH(saturn::parse_word("0 2", binary), Catch::Contains("unknown symbol '2'"));
  // Names of more than one character: spaces separate as before.
  CHECK(saturn::parse_word("ab c  ab", named) == saturn::Word{0, 1, 0});
}

TEST_CASE("lang import --lang majority on FLaRe's 0/1 data points to flare-majority",
          "[lang][cli]") {
  const auto dir = saturn::test::scratch_dir("first-run-import");
  write(dir / "main.tok", "1 1 0\n0\n");
  write(dir / "labels.txt", "1\n0\n");
  auto r = run_saturn("lang import " + dir.string() + " --lang majority");
  require_refused(r, "use --lang flare-majority");
  r = run_saturn("lang import " + dir.string() + " --lang flare-majority");
  CHECK(r.code == 0);
  CHECK(count_lines(r.out) == 2);
  // Data that is not FLaRe's majority either: no pointer.
  write(dir / "main.tok", "1 2\n0\n");
  r = run_saturn("lang import " + dir.string() + " --lang majority");
  require_refused(r, "main.tok:1");
  CHECK_THAT(r.err, !Catch::Contains("flare-majority"));
}

TEST_CASE("a long command prints progress lines when stderr is not a terminal", "[lang][cli]") {
  // SATURN_PROGRESS_SECONDS shortens the interval (default 5 s) so that a command of a fraction
  // of a second counts as long; the child inherits it.
  const auto sample = "lang sample majority --lengths 1:300 --per-length 20 --seed 1 -o /dev/null";
  ::setenv("SATURN_PROGRESS_SECONDS", "0.001", 1);
  const auto r = run_saturn(sample);
  ::unsetenv("SATURN_PROGRESS_SECONDS");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(count_lines(r.err) >= 1);
  // Whole lines, no terminal control characters.
  CHECK(r.err.find('\r') == std::string::npos);
  CHECK(r.err.find('\033') == std::string::npos);
  CHECK(std::regex_search(r.err, std::regex(R"((^|\n)sampling: \d+)")));
  // With an interval far above the command's time, it prints none.
  ::setenv("SATURN_PROGRESS_SECONDS", "1000", 1);
  const auto quiet = run_saturn(sample);
  ::unsetenv("SATURN_PROGRESS_SECONDS");
  REQUIRE(quiet.code == 0);
  CHECK(quiet.err.empty());
  // A bad interval is bad input.
  ::setenv("SATURN_PROGRESS_SECONDS", "soon", 1);
  const auto bad = run_saturn(sample);
  ::unsetenv("SATURN_PROGRESS_SECONDS");
  require_refused(bad, "SATURN_PROGRESS_SECONDS");
}
