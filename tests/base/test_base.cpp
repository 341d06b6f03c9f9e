// base/: safe outputs, the memory budget, bounded JSON and line reading, suggestions.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "base/atomic_file.h"
#include "base/budget.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "base/json_read.h"
#include "base/lines.h"
#include "base/read_file.h"
#include "base/suggest.h"
#include "support/run_saturn.h"

using namespace saturn;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("outputs: regular files by rename, devices and FIFOs directly", "[base]") {
  const auto dir = saturn::test::scratch_dir("outputs");
  const auto file = dir / "a.txt";
  write_file_atomically(file, "one\n");
  CHECK(saturn::test::slurp(file) == "one\n");
  write_file_atomically(file, "two\n");
  CHECK(saturn::test::slurp(file) == "two\n");
  // /dev/null stays a character device (as root, a rename would have replaced it).
  write_file_atomically("/dev/null", "gone\n");
  struct stat st {};
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  // A symbolic link to a regular file: the file is replaced, the link stays a link.
  const auto link = dir / "link.txt";
  fs::remove(link);
  fs::create_symlink(file, link);
  write_file_atomically(link, "three\n");
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  CHECK(saturn::test::slurp(file) == "three\n");
  // A FIFO is written directly: a reader sees the bytes, the FIFO stays a FIFO.
  const auto fifo = dir / "pipe";
  fs::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const pid_t reader = ::fork();
  if (reader == 0) {
    std::ifstream in(fifo);
    std::string line;
    std::getline(in, line);
    ::_exit(line == "through" ? 0 : 1);
  }
  write_file_atomically(fifo, "through\n");
  int status = 0;
  ::waitpid(reader, &status, 0);
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fs::is_fifo(fifo));
  // A full device: the write fails with a message naming it.
  CHECK_THAT(error_of([] { write_file_atomically("/dev/full", std::string(1 << 16, 'x')); }),
             Catch::Contains("/dev/full: write failed"));
  // A directory is not a file to write.
  CHECK_THAT(error_of([&] { write_file_atomically(dir, "x"); }),
             Catch::Contains("cannot open for writing (Is a directory)"));
}

TEST_CASE("outputs: an uncommitted file leaves nothing, stale temporaries are removed", "[base]") {
  const auto dir = saturn::test::scratch_dir("temporaries");
  const auto target = dir / "data.jsonl";
  fs::remove(target);
  {
    OutputFile out(target);
    out.write("partial\n");
  }  // an error or Ctrl-C before commit()
  CHECK(!fs::exists(target));
  for (const auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename() == "nothing");
  // A temporary file of a dead process (kill -9) is removed; one of a live process is not.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  const auto dead = dir / ("x.tmp." + std::to_string(child));
  const auto alive = dir / ("y.tmp." + std::to_string(::getpid()));
  std::ofstream(dead) << "stale";
  std::ofstream(alive) << "mine";
  const auto removed = remove_stale_temporaries(dir);
  CHECK(removed == std::vector<fs::path>{dead});
  CHECK(!fs::exists(dead));
  CHECK(fs::exists(alive));
  fs::remove(alive);
}

TEST_CASE("memory sizes and the budget", "[base]") {
  CHECK(parse_memory_size("8G", "--memory-limit") == (std::uint64_t(8) << 30));
  CHECK(parse_memory_size("512M", "--memory-limit") == (std::uint64_t(512) << 20));
  CHECK(parse_memory_size("100k", "--memory-limit") == 102400);
  CHECK(parse_memory_size("12345", "--memory-limit") == 12345);
  for (const char* bad : {"", "0", "-1", "1.5G", "8X", "G", "99999999999999999999", "20000000000T"})
    CHECK_THAT(error_of([&] { parse_memory_size(bad, "--memory-limit"); }),
               Catch::Contains("--memory-limit: expected a size"));
  const auto saved = memory_budget();
  set_memory_budget(1 << 20);
  CHECK_NOTHROW(require_memory(1000, "--x", "a thing"));
  CHECK_THAT(error_of([] { require_memory(2e6, "--x", "a thing"); }),
             Catch::Contains("--x: a thing needs about 1.91 MiB, over the memory budget of 1 MiB"));
  CHECK_THROWS_AS(require_memory(std::nan(""), "--x", "a thing"), LimitError);
  // Issue 23: "needs about 11.8 GiB, over the memory budget of 11.8 GiB" — as many digits as
  // it takes for the two sizes to differ.
  set_memory_budget(std::uint64_t(12670) << 20);  // 12.373 GiB, and 12680 MiB is 12.383
  CHECK_THAT(error_of([] { require_memory(12680.0 * (1 << 20), "--x", "a thing"); }),
             Catch::Contains("needs about 12.38 GiB, over the memory budget of 12.37 GiB"));
  set_memory_budget(1 << 30);
  CHECK_THAT(error_of([] { require_memory((1 << 30) + 1.0, "--x", "a thing"); }),
             Catch::Contains("needs about 1.000000001 GiB, over the memory budget of 1 GiB"));
  CHECK(format_bytes(1000.0 * 1024) == "1000 KiB");  // not 1e+03
  set_memory_budget(saved);
}

TEST_CASE("reading: directories refused by name, read errors and CRLF lines", "[base]") {
  const auto dir = saturn::test::scratch_dir("reading");
  CHECK(error_of([&] { open_for_reading(dir, "word file"); }) ==
        dir.string() + ": is a directory, expected a word file");
  CHECK(error_of([&] { open_for_reading(dir / "none", "word file"); }) ==
        (dir / "none").string() + ": cannot read word file (No such file or directory)");
  // A stream on a directory (opened before the check could run): the read error is an
  // InputError naming the source, not the library's "basic_filebuf::underflow".
  std::ifstream raw(dir, std::ios::binary);
  if (raw) {
    LineReader lines(raw, "d");
    std::string line;
    CHECK_THAT(error_of([&] { lines.next(line); }), Catch::Contains("d: cannot read"));
  }
  std::istringstream crlf("a b\r\n\r\nc\r");
  LineReader lines(crlf, "crlf");
  std::string line;
  std::vector<std::string> got;
  while (lines.next(line)) got.push_back(line);
  CHECK(got == std::vector<std::string>{"a b", "", "c"});
  CHECK(visible("0\r0\t\x01") == "0\\r0\\t\\x01");
  CHECK(visible(std::string(50, 'x')) == std::string(40, 'x') + "...");
}

TEST_CASE("JSON: a nesting bound before parsing, values named by path, never coerced", "[base]") {
  CHECK_THAT(error_of([] { parse_json(std::string(100000, '[') + std::string(100000, ']'), "f"); }),
             Catch::Contains("f: JSON nested deeper than 64 levels (at byte 64)"));
  // Brackets inside strings do not count.
  CHECK_NOTHROW(parse_json("{\"a\": \"" + std::string(1000, '[') + "\\\"\"}", "f"));
  CHECK_THAT(error_of([] { parse_json("{\"a\": ", "f"); }), Catch::Contains("f: not valid JSON"));
  // Found by fuzz_jsonl: a number too large for a double is an error too, not an exception
  // of another type.
  CHECK_THAT(error_of([] { parse_json("[2222222222E2222222]", "f"); }),
             Catch::Contains("f: not valid JSON (number overflow"));
  const auto j = parse_json(
      R"({"tensors": {"layers.0.w": {"numerators": [1, 256.9, true, 9223372036854775808, -3]}},
          "ok": 7})",
      "c.json");
  const JsonNode root(j, "c.json");
  const JsonNode n = root.at("tensors").at("layers.0.w").at("numerators");
  CHECK(n.at(0).integer(-10, 10) == 1);
  CHECK(n.at(4).integer(-10, 10) == -3);
  CHECK(
      error_of([&] { n.at(1).integer(-10, 10); }) ==
      "c.json: tensors[\"layers.0.w\"].numerators[1]: expected an integer in [-10, 10], got 256.9");
  CHECK_THAT(error_of([&] { n.at(2).integer(-10, 10); }), Catch::Contains("got true"));
  CHECK_THAT(error_of([&] { n.at(3).integer(-(1LL << 62), 1LL << 62); }),
             Catch::Contains("numerators[3]: expected an integer in [-2^62, 2^62]"));
  CHECK_THAT(error_of([&] { n.at(4).integer(0, 10); }), Catch::Contains("got -3"));
  CHECK_THAT(error_of([&] {
               root.only_keys({"tensors", "okay"});
             }),
             Catch::Contains("unknown field \"ok\" (did you mean 'okay'?)"));
  CHECK_THAT(error_of([&] { root.at("missing"); }), Catch::Contains("missing field \"missing\""));
  CHECK_THAT(error_of([&] { root.at("ok").string(); }),
             Catch::Contains("c.json: ok: expected a string, got 7"));
}

TEST_CASE("lines and files are read within bounds", "[base]") {
  std::istringstream in("one\ntwo\nthree");
  LineReader lines(in, "f.txt", 4);
  std::string line;
  CHECK(lines.next(line));
  CHECK(line == "one");
  CHECK(lines.next(line));
  CHECK(line == "two");
  CHECK_THAT(error_of([&] { lines.next(line); }), Catch::Contains("f.txt:3: line longer than 4"));
  CHECK_THAT(error_of([] { read_file("/dev/zero", "spec file", 1 << 20); }),
             Catch::Contains("/dev/zero: spec file larger than 1 MiB"));
  CHECK_THAT(error_of([] { read_file("/nonexistent/x", "spec file", 10); }),
             Catch::Contains("/nonexistent/x: cannot read spec file"));
}

TEST_CASE("suggestions: the nearest key by edit distance", "[base]") {
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(did_you_mean("lrr", {"lr", "seed", "steps"}) == " (did you mean 'lr'?)");
  CHECK(did_you_mean("completely", {"lr", "seed"}).empty());
}

TEST_CASE("suggestions: every name at the least distance, at most three", "[base]") {
  const std::vector<std::string> zoo = {"dyck-1", "dyck-2", "dyck-3", "majority", "parity"};
  CHECK(nearest_names("dyck2", zoo) == std::vector<std::string>{"dyck-2"});
  CHECK(nearest_names("dyck", zoo) == std::vector<std::string>{"dyck-1", "dyck-2", "dyck-3"});
  CHECK(did_you_mean("dyck", zoo) == " (did you mean 'dyck-1', 'dyck-2' or 'dyck-3'?)");
  CHECK(did_you_mean("majorty", zoo) == " (did you mean 'majority'?)");
  CHECK(nearest_names("zzzzzz", zoo).empty());
  // Nothing beyond the limit (two edits for a short name): 'lr' is three edits from 'xyz'.
  CHECK(nearest_names("xyz", {"lr", "seed"}).empty());
}

namespace {
std::atomic<int> g_host_sigints{0};
extern "C" void host_sigint(int) {
  ++g_host_sigints;
}
}  // namespace

TEST_CASE("an interrupt scope takes SIGINT while it lives and gives the host's handler back",
          "[base]") {
  struct sigaction host {
  }, saved{};
  host.sa_handler = host_sigint;
  sigemptyset(&host.sa_mask);
  REQUIRE(::sigaction(SIGINT, &host, &saved) == 0);
  {
    saturn::InterruptScope scope;
    CHECK_FALSE(scope.fired());
    CHECK_NOTHROW(saturn::check_interrupt());
    {
      saturn::InterruptScope inner;  // nested: the outer one keeps the handler
      std::raise(SIGINT);
      std::raise(SIGINT);  // a second one does not end the process inside a scope
    }
    CHECK(scope.fired());
    CHECK_THROWS_AS(saturn::check_interrupt(), saturn::Interrupted);
    CHECK(g_host_sigints == 0);
  }
  CHECK_FALSE(saturn::interrupted());  // cleared on leaving
  std::raise(SIGINT);                  // the host's handler is back
  CHECK(g_host_sigints == 1);
  ::sigaction(SIGINT, &saved, nullptr);
}
