// `saturn lang` at the command line: output formats, and every bad input of the issue's §5
// giving a one-line message that names the place, exit code 2, and no partial output file.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

struct Run {
  int code;
  std::string out, err;
};

// Runs `saturn ARGS` in a shell, capturing stdout, stderr and the exit code.
Run saturn(const std::string& args) {
  static int counter = 0;
  fs::path dir = fs::temp_directory_path() / ("saturn-cli-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path out = dir / ("out" + std::to_string(counter)),
           err = dir / ("err" + std::to_string(counter++));
  std::string cmd =
      std::string(SATURN_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string();
  int status = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

// A spec file in a fresh temporary directory.
fs::path write_spec(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / ("saturn-specs-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / name) << text;
  return dir / name;
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// Exit code 2 and exactly one line on stderr containing `expected`.
void expect_bad_input(const std::string& args, const std::string& expected) {
  Run r = saturn(args);
  INFO("saturn " << args << "\nstderr: " << r.err);
  CHECK(r.code == 2);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find(expected) != std::string::npos);
  CHECK(r.out.empty());
}

const std::string header = "name = \"bad\"\nalphabet = [\"a\", \"b\"]\n\n[accept]\n";

}  // namespace

TEST_CASE("lang count prints exactly one integer", "[lang][cli]") {
  Run r = saturn("lang count dyck-2 --length 10");
  CHECK(r.code == 0);
  CHECK(r.out == "1344\n");
  CHECK(saturn("lang count dyck-2 --length 10 --rejected").out ==
        std::to_string((1 << 20) - 1344) + "\n");
}

TEST_CASE("lang check prints accept or reject per word", "[lang][cli]") {
  Run r = saturn("lang check dyck-2 '(()[])' '([)]' '\"\"'");
  CHECK(r.code == 0);
  CHECK(r.out == "accept\nreject\naccept\n");
}

TEST_CASE("lang sample writes JSON lines, the same for the same seed", "[lang][cli]") {
  Run a = saturn(
      "lang sample majority --lengths 3:5 --per-length 4 --negatives uniform --seed 9 --next");
  Run b = saturn(
      "lang sample majority --lengths 3:5 --per-length 4 --negatives uniform --seed 9 --next");
  REQUIRE(a.code == 0);
  CHECK(a.out == b.out);
  std::istringstream in(a.out);
  std::string line;
  int n = 0, positives = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    std::string w = j["word"];
    CHECK(j["length"] == w.size());
    CHECK(j["next"].size() == w.size() + 1);
    CHECK(j["prefix_accepted"].size() == w.size() + 1);
    positives += j["label"].get<int>();
    ++n;
  }
  CHECK(n == 24);
  CHECK(positives == 12);
}

TEST_CASE("lang dot draws regular languages and refuses the others", "[lang][cli]") {
  Run r = saturn("lang dot tomita-3");
  CHECK(r.code == 0);
  CHECK(r.out.find("digraph \"tomita-3\"") == 0);
  expect_bad_input("lang dot dyck-1", "not a regular language (class counter)");
}

TEST_CASE("lang equiv prints equivalent or a shortest distinguishing word", "[lang][cli]") {
  Run r = saturn("lang equiv tomita-5 tomita-6");
  CHECK(r.code == 0);
  CHECK(r.out == "00\n");
  CHECK(saturn("lang equiv " +
               (fs::path(SATURN_SOURCE_DIR) / "examples/languages/tomita3.toml").string() +
               " tomita-3")
            .out == "equivalent\n");
  CHECK(saturn("lang equiv a-star aa-star").code == 2);
}

TEST_CASE("bad spec files: one line naming file:line:col, exit 2", "[lang][cli]") {
  SECTION("regex with an unbalanced parenthesis") {
    auto p = write_spec("paren.toml", header + "regex = \"(ab\"\n");
    expect_bad_input("lang show " + p.string(), p.string() + ":5:10: unbalanced '(' in regex");
  }
  SECTION("unknown symbol in a regex") {
    auto p = write_spec("regex_sym.toml", header + "regex = \"a*c\"\n");
    expect_bad_input("lang show " + p.string(), p.string() + ":5:12: unknown symbol 'c' in regex");
  }
  SECTION("count term naming a symbol not in the alphabet") {
    auto p = write_spec("count_sym.toml", header + "\n\ncounts = [\"#a > #c\"]\n");
    expect_bad_input("lang show " + p.string(),
                     p.string() + ":7:17: unknown symbol 'c' in count term");
  }
  SECTION("DFA row of the wrong length") {
    auto p = write_spec("dfa_row.toml",
                        header + "dfa = { start = 0, accept = [0], delta = [[0, 0], [1]] }\n");
    expect_bad_input("lang show " + p.string(),
                     p.string() + ":5:51: delta row 1 has 1 entries, the alphabet has 2");
  }
  SECTION("DFA state out of range") {
    auto p = write_spec("dfa_state.toml",
                        header + "dfa = { start = 0, accept = [0], delta = [[0, 5]] }\n");
    expect_bad_input("lang show " + p.string(), ":5:47: delta entry must be a state in 0..0 or -1");
  }
  SECTION("TOML syntax error") {
    auto p = write_spec("syntax.toml", header + "regex = \"a*\n");
    expect_bad_input("lang show " + p.string(), p.string() + ":5:");
  }
  SECTION("empty alphabet") {
    auto p = write_spec("empty.toml", "name = \"e\"\nalphabet = []\n[accept]\n");
    expect_bad_input("lang show " + p.string(), p.string() + ":2:12: empty alphabet");
  }
  SECTION("duplicate symbols") {
    auto p = write_spec("dup.toml", "name = \"d\"\nalphabet = [\"a\", \"b\", \"a\"]\n[accept]\n");
    expect_bad_input("lang show " + p.string(),
                     p.string() + ":2:23: duplicate symbol 'a' in alphabet");
  }
  SECTION("unknown key") {
    auto p = write_spec("key.toml", header + "regexp = \"a*\"\n");
    expect_bad_input("lang show " + p.string(),
                     p.string() + ":5:10: unknown key 'regexp' in [accept]");
  }
}

TEST_CASE("bad command-line input: exit 2 with the symbol or flag named", "[lang][cli]") {
  expect_bad_input("lang check majority abc", "unknown symbol 'c' at symbol 3 of word 'abc'");
  expect_bad_input("lang count majority --length -1", "--length: must be >= 0 (got -1)");
  expect_bad_input("lang sample majority --lengths 5:2 --per-length 1", "--lengths: expected A:B");
  expect_bad_input("lang sample majority --lengths 1:2 --per-length 1 --negatives some",
                   "--negatives: unknown value 'some' (expected none, uniform, near-miss, mixed)");
  expect_bad_input("lang show no-such-language", "unknown language 'no-such-language'");
  expect_bad_input("lang count", "LANG is required");
}

TEST_CASE("a failed sample leaves no output file behind", "[lang][cli]") {
  fs::path dir = fs::temp_directory_path() / ("saturn-out-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path out = dir / "data.jsonl";
  // The count table of dyck-2 at length 400 needs far more than 100 entries: a LimitError.
  Run r = saturn("lang sample dyck-2 --lengths 1:400 --per-length 2 --table-limit 100 -o " +
                 out.string());
  CHECK(r.code == 2);
  CHECK(r.err.find("--table-limit: dyck-2: the exact count table") != std::string::npos);
  CHECK(r.err.find(" 100 entries") != std::string::npos);
  CHECK(fs::is_empty(dir));
  Run ok = saturn("lang sample dyck-2 --lengths 2:4 --per-length 2 -o " + out.string());
  CHECK(ok.code == 0);
  CHECK(fs::exists(out));
  CHECK(fs::file_size(out) > 0);
}

TEST_CASE("lang sample --format flare and lang import round-trip at the command line",
          "[lang][cli]") {
  const std::string dir = "/tmp/saturn-flare-cli-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  const std::string opts = " --lengths 0:8 --per-length 3 --negatives mixed --next --seed 9";
  Run r = saturn("lang sample dyck-2" + opts + " --format flare -o " + dir);
  REQUIRE(r.code == 0);
  r = saturn("lang import " + dir + " --lang dyck-2");
  REQUIRE(r.code == 0);
  const Run direct = saturn("lang sample dyck-2" + opts);
  REQUIRE(direct.code == 0);
  // Same words and labels, line by line (next symbols: FLaRe keeps them for positives only).
  std::istringstream a(r.out), b(direct.out);
  std::string la, lb;
  int lines = 0;
  while (std::getline(a, la) && std::getline(b, lb)) {
    const auto ja = nlohmann::json::parse(la), jb = nlohmann::json::parse(lb);
    CHECK(ja["word"] == jb["word"]);
    CHECK(ja["label"] == jb["label"]);
    if (jb["label"] == 1) CHECK(ja["next"] == jb["next"]);
    ++lines;
  }
  CHECK(lines > 20);
  CHECK_FALSE(std::getline(b, lb));
  r = saturn("lang import " + dir + " --lang dyck-1");
  CHECK(r.code == 2);
  CHECK(r.err.find("main.tok:") != std::string::npos);
  r = saturn("lang sample dyck-2 --lengths 0:2 --per-length 1 --format flare");
  CHECK(r.code == 2);
  CHECK(r.err == "saturn: --format flare: needs -o DIR (a dataset directory)\n");
  r = saturn("lang sample dyck-2 --lengths 0:2 --per-length 1 --format xml");
  CHECK(r.code == 2);
  CHECK(r.err == "saturn: --format: expected jsonl or flare (got 'xml')\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("issue 23: directories, CRLF, FIFOs and option-like words: one named line, exit 2",
          "[lang][cli]") {
  const fs::path dir = fs::temp_directory_path() / ("saturn-i23-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string flare = (dir / "parity").string();
  REQUIRE(
      saturn("lang sample parity --lengths 0:5 --per-length 2 --next --format flare -o " + flare)
          .code == 0);
  const Run lf = saturn("lang import " + flare + " --lang parity");
  REQUIRE(lf.code == 0);
  // main.tok or labels.txt a directory (found by fuzzing imports: exit 1 with the library's
  // "basic_filebuf::underflow ... Is a directory").
  for (const std::string name : {"main.tok", "labels.txt", "next-symbols.jsonl"}) {
    const fs::path copy = dir / ("dir-" + name);
    fs::copy(flare, copy);
    fs::remove(copy / name);
    fs::create_directory(copy / name);
    expect_bad_input("lang import " + copy.string() + " --lang parity",
                     (copy / name).string() + ": is a directory, expected a FLaRe " + name);
  }
  // CRLF line ends read as LF ones; a carriage return inside a line is shown as \r.
  const fs::path crlf = dir / "crlf";
  fs::create_directory(crlf);
  for (const std::string name : {"main.tok", "labels.txt", "next-symbols.jsonl"}) {
    std::ifstream in(fs::path(flare) / name);
    std::ofstream out(crlf / name, std::ios::binary);
    for (std::string line; std::getline(in, line);) out << line << "\r\n";
  }
  const Run from_crlf = saturn("lang import " + crlf.string() + " --lang parity");
  CHECK(from_crlf.code == 0);
  CHECK(from_crlf.out == lf.out);
  std::ofstream(crlf / "labels.txt", std::ios::binary) << "0\r0\n";
  expect_bad_input("lang import " + crlf.string() + " --lang parity",
                   "labels.txt:1: expected a label 0 or 1, got '0\\r0'");
  std::ofstream(dir / "words.txt", std::ios::binary) << "ab\r\nba\r\n";
  const Run words = saturn("lang check majority --words " + (dir / "words.txt").string());
  CHECK(words.code == 0);
  CHECK(words.out == "reject\nreject\n");
  // A FLaRe dataset is a directory: -o - is refused.
  expect_bad_input("lang sample parity --lengths 0:2 --per-length 1 --format flare -o -",
                   "--format flare: -o - is standard output, but a FLaRe dataset is a directory");
  CHECK_FALSE(fs::exists("-"));
  // A spec given as a FIFO is read; a directory is named as one.
  const fs::path fifo = dir / "spec.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const pid_t writer = ::fork();
  if (writer == 0) {
    std::ofstream(fifo)
        << "name = \"through-fifo\"\nalphabet = [\"a\"]\n[accept]\nregex = \"a*\"\n";
    ::_exit(0);
  }
  const Run from_fifo = saturn("lang show " + fifo.string());
  ::waitpid(writer, nullptr, 0);
  CHECK(from_fifo.code == 0);
  CHECK(from_fifo.out.find("through-fifo") != std::string::npos);
  expect_bad_input("lang show " + dir.string(),
                   dir.string() + ": is a directory, expected a spec file");
  // A word that starts with '-' is an unknown option, with the way to give it.
  expect_bad_input("lang check majority ab -a",
                   "lang check: unknown option '-a'; a word that begins with '-' goes after --, "
                   "as in: saturn lang check ... -- -a");
  expect_bad_input("lang check majority ab --wrods f",
                   "unknown option '--wrods' (did you mean "
                   "'--words'?)");
  CHECK(saturn("lang check majority -- ab ba").out == "reject\nreject\n");
  fs::remove_all(dir);
}

TEST_CASE("lang import checks next-symbols.jsonl: e flags and FLaRe's unbounded next symbols",
          "[lang][cli]") {
  const fs::path dir = fs::temp_directory_path() / ("saturn-next-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Rewrites line `line` (1-based) of next-symbols.jsonl in a copy of `from`.
  auto edited = [&](const std::string& from, const std::string& name, int line,
                    const std::string& what, const std::string& with) {
    const fs::path copy = dir / name;
    fs::copy(dir / from, copy);
    std::ifstream in(copy / "next-symbols.jsonl");
    std::string text, l;
    for (int i = 1; std::getline(in, l); ++i) {
      if (i == line) {
        const auto at = l.find(what);
        REQUIRE(at != std::string::npos);
        l.replace(at, what.size(), with);
      }
      text += l + "\n";
    }
    std::ofstream(copy / "next-symbols.jsonl") << text;
    return copy.string();
  };
  // parity has a DFA: every set is decided, and export writes the unbounded sets (after the
  // longest words too), which import accepts.
  REQUIRE(saturn("lang sample parity --lengths 0:4 --per-length 2 --next --format flare -o " +
                 (dir / "parity").string())
              .code == 0);
  REQUIRE(saturn("lang import " + (dir / "parity").string() + " --lang parity").code == 0);
  std::string first;
  std::getline(std::ifstream(dir / "parity" / "next-symbols.jsonl"), first);
  CHECK(first == R"([{"e":false,"s":"0 1"},{"e":true,"s":"0 1"}])");
  std::string last;
  for (std::ifstream in(dir / "parity" / "next-symbols.jsonl"); std::getline(in, first);)
    last = first;
  CHECK(last.size() > 100);  // a word of length 4
  CHECK(last.substr(last.size() - 11) == R"("s":"0 1"}])");
  expect_bad_input(
      "lang import " + edited("parity", "e", 1, R"("e":true)", R"("e":false)") + " --lang parity",
      "next-symbols.jsonl:1: [1].e: is false, but the prefix '1' is in parity "
      "(--no-check-labels skips this check)");
  const std::string omits =
      edited("parity", "s", 1, R"({"e":true,"s":"0 1"})", R"({"e":true,"s":"0"})");
  expect_bad_input("lang import " + omits + " --lang parity",
                   "next-symbols.jsonl:1: [1].s: omits '1', but an accepted word of parity "
                   "begins with the prefix '1' and then '1'");
  CHECK(saturn("lang import " + omits + " --lang parity --no-check-labels").code == 0);
  // dyck-1 has no DFA: an omitted symbol is refused when an accepted word no longer than the
  // example continues that way; a listed one with no continuation found is noted, not refused.
  REQUIRE(saturn("lang sample dyck-1 --lengths 2:2 --per-length 1 --next --format flare -o " +
                 (dir / "dyck").string())
              .code == 0);
  std::string dyck;
  std::getline(std::ifstream(dir / "dyck" / "next-symbols.jsonl"), dyck);
  // Written within the sampled lengths (saturn's bounded sets: nothing after "( )" at length 2).
  REQUIRE(dyck == R"j([{"e":true,"s":"("},{"e":false,"s":")"},{"e":true,"s":""}])j");
  expect_bad_input("lang import " + edited("dyck", "dyck-omits", 1, R"j("s":")")j", R"j("s":"")j") +
                       " --lang dyck-1",
                   "[1].s: omits ')', but an accepted word of dyck-1 begins with the prefix '(' "
                   "and then ')' (one of length <= 2)");
  const Run noted = saturn(
      "lang import " +
      edited("dyck", "dyck-lists", 1, R"j([{"e":true,"s":"("})j", R"j([{"e":true,"s":"( )"})j") +
      " --lang dyck-1 --next-max-length 8");
  CHECK(noted.code == 0);
  CHECK(noted.err.find("dyck-1 has no DFA, so FLaRe's unbounded next-symbol sets are checked with "
                       "continuations of at most 8 symbols: 1 listed symbol had none") !=
        std::string::npos);
  fs::remove_all(dir);
}
