#include "base/budget.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "base/error.h"

namespace saturn {

namespace {

std::uint64_t default_budget() {
  if (const char* env = std::getenv("SATURN_MEMORY_LIMIT"); env && *env)
    return parse_memory_size(env, "SATURN_MEMORY_LIMIT");
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return std::uint64_t(4) << 30;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 2;
}

std::atomic<std::uint64_t>& budget() {
  static std::atomic<std::uint64_t> bytes{default_budget()};
  return bytes;
}

}  // namespace

std::uint64_t memory_budget() {
  return budget().load(std::memory_order_relaxed);
}

void set_memory_budget(std::uint64_t bytes) {
  budget().store(bytes, std::memory_order_relaxed);
}

std::uint64_t parse_memory_size(const std::string& text, const std::string& flag) {
  auto bad = [&]() -> std::uint64_t {
    throw InputError(fmt::format(
        "{}: expected a size such as 8G, 512M or 1000000 (bytes), got '{}'", flag, text));
  };
  std::size_t i = 0;
  std::uint64_t v = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (v > (UINT64_MAX - 9) / 10) bad();
    v = v * 10 + static_cast<std::uint64_t>(text[i++] - '0');
  }
  if (i == 0) bad();
  int shift = 0;
  if (i < text.size()) {
    switch (text[i]) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      case 't':
      case 'T':
        shift = 40;
        break;
      default:
        bad();
    }
    ++i;
    if (i < text.size() && (text[i] == 'B' || text[i] == 'b')) ++i;
  }
  if (i != text.size() || v == 0) bad();
  if (shift && v > (UINT64_MAX >> shift)) bad();
  return v << shift;
}

std::string format_bytes(double bytes, int significant_digits) {
  static const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) bytes /= 1024, ++u;
  // 1000..1023 of a unit in full, not as 1e+03.
  const int digits = std::max(significant_digits, bytes >= 999.5 ? 4 : 1);
  return u == 0 ? fmt::format("{:.0f} bytes", bytes)
                : fmt::format("{:.{}g} {}", bytes, digits, units[u]);
}

void require_memory(double bytes, std::string_view knob, std::string_view what) {
  const double budget = static_cast<double>(memory_budget());
  if (!(bytes <= budget)) {  // also catches NaN
    // As many digits as it takes for the two sizes to read differently.
    int digits = 3;
    while (digits < 15 && format_bytes(bytes, digits) == format_bytes(budget, digits)) ++digits;
    const bool apart = format_bytes(bytes, digits) != format_bytes(budget, digits);
    throw LimitError(fmt::format(
        "{}: {} needs about {}, over the memory budget of {} (raise it with --memory-limit)", knob,
        what, apart ? format_bytes(bytes, digits) : fmt::format("{:.0f} bytes", bytes),
        apart ? format_bytes(budget, digits) : fmt::format("{:.0f} bytes", budget)));
  }
}

}  // namespace saturn
