// Progress of long commands in a log (issue 23 §5): `saturate` over every checkpoint prints
// whole progress lines on stderr when it is not a terminal, and its rows as they are known.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "tests/support/run_saturn.h"

using saturn::test::count_lines;
using saturn::test::run_saturn;

TEST_CASE("saturate prints progress lines when stderr is not a terminal", "[nets][cli]") {
  const auto dir = saturn::test::scratch_dir("progress");
  const std::string run = (dir / "run").string();
  auto r = run_saturn("train --lang majority --out " + run +
                      " --overwrite --set steps=4 --set checkpoint_every=2 --set d_model=8 "
                      "--set n_heads=2 --set d_ff=8 --set max_length=12 --set train_lengths=1:6 "
                      "--set test_lengths=7:12 -q");
  REQUIRE(r.code == 0);
  const std::string saturate = "saturate " + run + " --checkpoint all --per-length 2";
  // An interval far below the command's time (the default is 5 s).
  ::setenv("SATURN_PROGRESS_SECONDS", "0.0001", 1);
  r = run_saturn(saturate);
  ::unsetenv("SATURN_PROGRESS_SECONDS");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(count_lines(r.err) >= 1);
  CHECK(r.err.find('\r') == std::string::npos);
  CHECK(std::regex_search(
      r.err,
      std::regex(R"((^|\n)saturate: checkpoint [1-3]/3 \(step \d+\), forward pass \d+/12\n)")));
  // The table on stdout is the same with and without progress lines.
  ::setenv("SATURN_PROGRESS_SECONDS", "1000", 1);
  const auto plain = run_saturn(saturate);
  ::unsetenv("SATURN_PROGRESS_SECONDS");
  REQUIRE(plain.code == 0);
  CHECK(plain.err.empty());
  CHECK(plain.out == r.out);
}
