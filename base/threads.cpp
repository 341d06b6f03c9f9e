#include "base/threads.h"

#include <fmt/format.h>

#include <charconv>

#include "base/error.h"

namespace saturn {

int parse_thread_count(std::string_view text, std::string_view where) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1 ||
      value > kMaxThreads)
    throw InputError(fmt::format("{}: expected a number of threads in 1..{} (got '{}')", where,
                                 kMaxThreads, text));
  return value;
}

}  // namespace saturn
