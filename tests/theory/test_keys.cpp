// [theory]: exact selectability of keys (verify/selectable.h) against answers computed
// independently here: convex hulls in 2-D by brute force over pairs and triples in integers,
// polygons with interior points, rational points on a circle; the double-precision fast paths
// against Z3 alone; the point-file reader; `saturn keys`.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/error.h"
#include "support/run_saturn.h"
#include "verify/selectable.h"

using namespace saturn;
using namespace saturn::verify;

namespace {

using P = std::array<long long, 2>;

long long cross(const P& o, const P& a, const P& b) {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}
bool on_segment(const P& p, const P& a, const P& b) {
  return cross(a, b, p) == 0 && std::min(a[0], b[0]) <= p[0] && p[0] <= std::max(a[0], b[0]) &&
         std::min(a[1], b[1]) <= p[1] && p[1] <= std::max(a[1], b[1]);
}
bool in_triangle(const P& p, const P& a, const P& b, const P& c) {
  if (cross(a, b, c) == 0) return false;  // degenerate: its segments decide
  const long long d1 = cross(a, b, p), d2 = cross(b, c, p), d3 = cross(c, a, p);
  const bool neg = d1 < 0 || d2 < 0 || d3<0, pos = d1> 0 || d2 > 0 || d3 > 0;
  return !(neg && pos);
}

// Brute force: a value is a hull vertex unless it lies on a segment between, or in a triangle
// of, other distinct values (Caratheodory in the plane).
std::vector<Selectability> brute_force(const std::vector<P>& pts) {
  std::vector<P> distinct = pts;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const std::size_t m = distinct.size();
  std::vector<Selectability> out;
  for (const P& p : pts) {
    bool inside = false;
    for (std::size_t a = 0; a < m && !inside; ++a)
      for (std::size_t b = a + 1; b < m && !inside; ++b) {
        if (distinct[a] == p || distinct[b] == p) continue;
        if (on_segment(p, distinct[a], distinct[b])) inside = true;
        for (std::size_t c = b + 1; c < m && !inside; ++c)
          if (distinct[c] != p && in_triangle(p, distinct[a], distinct[b], distinct[c]))
            inside = true;
      }
    const auto copies = std::count(pts.begin(), pts.end(), p);
    out.push_back(inside       ? Selectability::unselectable
                  : copies > 1 ? Selectability::tied
                               : Selectability::selectable);
  }
  return out;
}

PointSet to_set(const std::vector<P>& pts) {
  PointSet s;
  s.d = 2;
  for (const P& p : pts) s.coords.emplace_back(p[0]), s.coords.emplace_back(p[1]);
  return s;
}

std::size_t count(const std::vector<Selectability>& v, Selectability s) {
  return static_cast<std::size_t>(std::count(v.begin(), v.end(), s));
}

}  // namespace

TEST_CASE("keys: a square's corners are selectable, its centre and edge midpoints are not",
          "[theory]") {
  const std::vector<P> pts{{0, 0}, {2, 0}, {0, 2}, {2, 2}, {1, 1}, {1, 0}};
  const auto s = selectability(to_set(pts));
  CHECK(s == std::vector<Selectability>{Selectability::selectable, Selectability::selectable,
                                        Selectability::selectable, Selectability::selectable,
                                        Selectability::unselectable, Selectability::unselectable});
}

TEST_CASE("keys: in 2-D the selectable points are the convex hull's vertices (brute force)",
          "[theory]") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    // A small grid: many collinear points, duplicates and points on edges.
    const int side = 3 + trial % 6, n = 3 + trial % 22;
    std::uniform_int_distribution<long long> coord(-side, side);
    std::vector<P> pts(n);
    for (P& p : pts) p = {coord(rng), coord(rng)};
    const auto expected = brute_force(pts);
    INFO("trial " << trial);
    CHECK(selectability(to_set(pts), 2) == expected);
    CHECK(selectability(to_set(pts), 1, nullptr, /*fast=*/false) == expected);
  }
}

TEST_CASE("keys: a 12-gon on a circle with interior points, and rational points on a circle",
          "[theory]") {
  // The 12 integer points with x^2 + y^2 = 25, then interior points.
  std::vector<P> pts{{5, 0}, {-5, 0}, {0, 5},  {0, -5},  {3, 4}, {-3, 4}, {3, -4},  {-3, -4},
                     {4, 3}, {-4, 3}, {4, -3}, {-4, -3}, {0, 0}, {4, 2},  {-4, -2}, {2, 4}};
  const auto s = selectability(to_set(pts));
  CHECK(count(s, Selectability::selectable) == 12);
  CHECK(count(s, Selectability::unselectable) == 4);
  CHECK(s == brute_force(pts));
  // ((1 - t^2) / (1 + t^2), 2t / (1 + t^2)) lies exactly on the unit circle: all selectable,
  // however close together (t = k / 1000).
  PointSet circle;
  circle.d = 2;
  for (int k = -40; k <= 40; ++k) {
    const Rational t(k, 1000), den = 1 + t * t;
    circle.coords.push_back((1 - t * t) / den);
    circle.coords.push_back(2 * t / den);
  }
  const auto c = selectability(circle);
  CHECK(count(c, Selectability::selectable) == circle.size());
  // Their centroid is inside: un-selectable.
  Rational cx = 0, cy = 0;
  for (std::size_t i = 0; i < circle.size(); ++i) cx += circle.at(i, 0), cy += circle.at(i, 1);
  circle.coords.push_back(cx / circle.size());
  circle.coords.push_back(cy / circle.size());
  const auto c2 = selectability(circle);
  CHECK(c2.back() == Selectability::unselectable);
  CHECK(count(c2, Selectability::selectable) == circle.size() - 1);
}

TEST_CASE("keys: the double fast paths agree with Z3 alone in 3 to 6 dimensions", "[theory]") {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 12; ++trial) {
    PointSet s;
    s.d = 3 + trial % 4;
    const int n = 10 + 7 * trial;
    for (int i = 0; i < n * s.d; ++i) s.coords.emplace_back(normal(rng));
    // Some points inside on purpose: midpoints of two others, and a copy.
    for (int k = 0; k < s.d; ++k) s.coords.push_back((s.at(0, k) + s.at(1, k)) / 2);
    for (int k = 0; k < s.d; ++k) s.coords.push_back(s.at(2, k));
    SelectabilityStats fast_stats;
    const auto fast = selectability(s, 2, &fast_stats);
    const auto z3 = selectability(s, 1, nullptr, false);
    INFO("trial " << trial);
    CHECK(fast == z3);
    CHECK(fast[n] == Selectability::unselectable);
    CHECK(fast[n + 1] != Selectability::selectable);
    CHECK(fast[2] == fast[n + 1]);
    CHECK(fast_stats.distinct == static_cast<std::size_t>(n + 1));
  }
}

TEST_CASE("keys: point files are read exactly, and bad ones are refused with the place",
          "[theory]") {
  const PointSet p =
      read_points(R"({"points": [[0.1, "1/3"], [-2.5e-3, 7], ["-4/6", "1e2"]]})", "f.json");
  REQUIRE(p.size() == 3);
  CHECK(p.at(0, 0) == Rational(1, 10));
  CHECK(p.at(0, 1) == Rational(1, 3));
  CHECK(p.at(1, 0) == Rational(-1, 400));
  CHECK(p.at(2, 0) == Rational(-2, 3));
  CHECK(p.at(2, 1) == 100);
  // Leading zeros are decimal, not octal: 0.9 is 9/10, "010/08" is 10/8.
  const PointSet z = read_points(R"({"points": [[0.9, "010/08", "0.0125", 0.75e1]]})", "z.json");
  CHECK(z.at(0, 0) == Rational(9, 10));
  CHECK(z.at(0, 1) == Rational(10, 8));
  CHECK(z.at(0, 2) == Rational(1, 80));
  CHECK(z.at(0, 3) == Rational(15, 2));
  const auto refused = [](const std::string& text) {
    try {
      read_points(text, "f.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused(R"({"points": [[1, 2], [3]]})") ==
        "f.json: points[1]: has 1 coordinates, the first point has 2");
  CHECK(refused(R"({"points": [[1, "1/0"]]})") == "f.json: points[0][1]: \"1/0\" divides by zero");
  CHECK(refused(R"({"points": [[1, true]]})") ==
        "f.json: points[0][1]: expected a number, got a boolean");
  CHECK(refused(R"({"points": []})") == "f.json: no points");
  CHECK(refused(R"({"pts": []})").find("unknown key \"pts\"") != std::string::npos);
  CHECK(refused(R"({"points": [[1e5000]]})").find("beyond +-4000") != std::string::npos);
  CHECK(refused(R"({"points": [[1, 2]]} x)").find("not JSON") != std::string::npos);
  CHECK(refused(R"("09")") == "f.json: expected an object {\"points\": [...]}, got a string");
  CHECK(refused(R"({"points": "1"})") == "f.json: expected an array of points, got a string");
  CHECK(refused("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]").find("expected an object") !=
        std::string::npos);
}

TEST_CASE("keys: saturn keys --points prints the counts and indices", "[theory]") {
  const std::string path = (test::scratch_dir("keys") / "square.json").string();
  std::ofstream(path) << R"({"points": [[0,0],[2,0],[0,2],[2,2],[1,1],[2,2]]})";
  const auto r = test::run_saturn("keys --points " + path + " --json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["num_selectable"] == 5);
  CHECK(j["num_tied"] == 2);
  CHECK(j["num_unselectable"] == 1);
  CHECK(j["unselectable"] == nlohmann::json::array({4}));
  CHECK(j["tied"] == nlohmann::json::array({3, 5}));
  const auto bad = test::run_saturn("keys --points " + path + " --lang majority");
  CHECK(bad.code == 2);
  CHECK(bad.err == "saturn: --lang and --lengths go with CKPT, not --points\n");
  CHECK(test::run_saturn("keys").code == 2);
}

TEST_CASE("keys: saturn keys CKPT counts every key, and a scaled model has none un-selectable",
          "[theory]") {
  const auto dir = test::scratch_dir("keys-ckpt");
  for (const char* norm : {"scale", "projection"}) {
    const std::string run = (dir / norm).string();
    const auto t = test::run_saturn(fmt::format(
        "train --lang majority --out {} --overwrite -q --set d_model=4 --set n_heads=1 --set "
        "d_ff=8 --set n_layers=2 --set norm={} --set norm_affine=false --set norm_eps=0 --set "
        "steps=60 --set train_lengths=1:12 --set test_lengths=13:14 --set eval_per_length=2",
        run, norm));
    REQUIRE(t.code == 0);
    const auto r = test::run_saturn(
        fmt::format("keys {} --lang majority --lengths 6:9 --per-length 3 --json", run));
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(r.out);
    const int words = j["words"];
    CHECK(words == 4 * 6);  // 3 accepted and 3 rejected per length
    REQUIRE(j["heads"].size() == 2);
    for (const auto& h : j["heads"]) {
      // Every position of every word: sum of (n + 2) over the probes.
      CHECK(h["keys"] == 6 * (8 + 9 + 10 + 11));
      CHECK(h["selectable"].get<int>() + h["tied"].get<int>() + h["unselectable"].get<int>() ==
            h["keys"].get<int>());
      if (std::string(norm) == "scale") CHECK(h["unselectable"] == 0);
    }
  }
  const auto bad =
      test::run_saturn(fmt::format("keys {} --lang majority", (dir / "scale").string()));
  CHECK(bad.code == 2);
  CHECK(bad.err == "saturn: keys CKPT: needs --lang L and --lengths A:B (the probe words)\n");
}
