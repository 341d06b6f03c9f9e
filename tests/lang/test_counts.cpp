// Exact counts against closed forms, with big integers, up to length 500.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "lang/builtin.h"
#include "lang/count.h"

using namespace saturn;

namespace {

BigInt binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  BigInt r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}
BigInt catalan(int m) {
  return binomial(2 * m, m) / (m + 1);
}
BigInt pow_big(int base, int e) {
  BigInt r = 1;
  for (int i = 0; i < e; ++i) r *= base;
  return r;
}
CountTable table_for(const std::string& name) {
  return CountTable(builtin(name));
}

}  // namespace

TEST_CASE("Dyck-k counts are k^m Catalan(m) at even lengths up to 500", "[lang]") {
  auto k = GENERATE(1, 2, 3);
  auto t = table_for("dyck-" + std::to_string(k));
  for (int n = 0; n <= 500; ++n) {
    INFO("k=" << k << " n=" << n);
    REQUIRE(t.accepted(n) == (n % 2 ? BigInt(0) : pow_big(k, n / 2) * catalan(n / 2)));
  }
  // Catalan(250) * 3^250 has about 540 bits: the big integers are really exercised.
  CHECK(boost::multiprecision::msb(table_for("dyck-3").accepted(500)) > 500);
}

TEST_CASE("counting languages against binomials up to length 500", "[lang]") {
  auto majority = table_for("majority"), count_eq = table_for("count-eq"),
       parity = table_for("parity");
  auto anbn = table_for("anbn"), anbncn = table_for("anbncn");
  for (int n : {0, 1, 2, 3, 7, 10, 33, 100, 257, 499, 500}) {
    INFO("n=" << n);
    BigInt maj = 0;
    for (int j = n / 2 + 1; j <= n; ++j) maj += binomial(n, j);
    CHECK(majority.accepted(n) == maj);
    CHECK(count_eq.accepted(n) == (n % 2 ? BigInt(0) : binomial(n, n / 2)));
    CHECK(parity.accepted(n) == (n == 0 ? BigInt(0) : pow_big(2, n - 1)));
    CHECK(anbn.accepted(n) == (n % 2 == 0 ? 1 : 0));
    CHECK(anbncn.accepted(n) == (n % 3 == 0 ? 1 : 0));
  }
}

TEST_CASE("copy and reversal languages against powers of two up to length 500", "[lang]") {
  auto copy = table_for("marked-copy"), rev = table_for("marked-reversal");
  auto unmarked = table_for("unmarked-reversal"), pal = table_for("palindrome");
  for (int n : {0, 1, 2, 3, 4, 9, 10, 101, 498, 499, 500}) {
    INFO("n=" << n);
    BigInt marked = n % 2 ? pow_big(2, (n - 1) / 2) : BigInt(0);
    CHECK(copy.accepted(n) == marked);
    CHECK(rev.accepted(n) == marked);
    CHECK(unmarked.accepted(n) == (n % 2 ? BigInt(0) : pow_big(2, n / 2)));
    CHECK(pal.accepted(n) == pow_big(2, (n + 1) / 2));
  }
}

TEST_CASE("shuffle-Dyck-2 counts are sums of products of Catalan numbers", "[lang]") {
  auto t = table_for("shuffle-dyck-2");
  for (int m : {0, 1, 2, 5, 20, 60}) {
    BigInt expected = 0;
    for (int i = 0; i <= m; ++i) expected += binomial(2 * m, 2 * i) * catalan(i) * catalan(m - i);
    INFO("n=" << 2 * m);
    CHECK(t.accepted(2 * m) == expected);
  }
}

TEST_CASE("rejected counts complement accepted counts", "[lang]") {
  auto t = table_for("dyck-2");
  CHECK(t.rejected(4) == 256 - 8);
  CHECK(t.rejected(300) == pow_big(4, 300) - pow_big(2, 150) * catalan(150));
}

TEST_CASE("a table past its entry limit throws a LimitError naming the language", "[lang]") {
  CountTable t(builtin("count-eq"), 1000);
  REQUIRE_THROWS_AS(t.accepted(200), LimitError);
  try {
    t.accepted(200);
  } catch (const LimitError& e) {
    CHECK(std::string(e.what()).find("count-eq") != std::string::npos);
    CHECK(std::string(e.what()).find("1000 entries") != std::string::npos);
  }
}

TEST_CASE("Tomita 3's two readings give their published counts", "[lang]") {
  // Immediately followed (saturn's tomita-3) and anywhere later (Weiss et al. 2018).
  const std::vector<int> immediate{1, 2, 3, 6, 10, 18, 32, 56}, weiss{1, 2, 3, 6, 10, 18, 31, 54};
  auto a = table_for("tomita-3"), b = table_for("tomita-3-weiss");
  for (int n = 0; n < 8; ++n) {
    CHECK(a.accepted(n) == immediate[n]);
    CHECK(b.accepted(n) == weiss[n]);
  }
  // 1 0 1 1 1 0 0 0: an odd block of 1s, later (not immediately) an odd block of 0s.
  const Word w{1, 0, 1, 1, 1, 0, 0, 0};
  CHECK_FALSE(builtin("tomita-3-weiss")->accepts(w));
  CHECK_FALSE(builtin("tomita-3")->accepts(w));
  const Word v{1, 0, 0, 1, 1, 0};  // odd 1s, even 0s, even 1s, odd 0s
  CHECK_FALSE(builtin("tomita-3-weiss")->accepts(v));
  CHECK(builtin("tomita-3")->accepts(v));
}

TEST_CASE("FLaRe-alphabet variants count like saturn's languages they rename", "[lang]") {
  for (const auto& [flare, ours] :
       std::vector<std::pair<std::string, std::string>>{{"flare-majority", "majority"},
                                                        {"flare-even-pairs", "even-pairs"},
                                                        {"flare-dyck-2-3", "dyck-2-3"}}) {
    auto a = table_for(flare), b = table_for(ours);
    for (int n = 0; n <= 40; ++n) {
      INFO(flare << " n=" << n);
      CHECK(a.accepted(n) == b.accepted(n));
    }
  }
  // The symbol mapping: FLaRe's 1 is saturn's a in majority.
  CHECK(builtin("flare-majority")->accepts(Word{1, 1, 0}));
  CHECK_FALSE(builtin("flare-majority")->accepts(Word{1, 0}));
}
