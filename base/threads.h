// The number of threads one computation uses: `--threads T` on every command that computes,
// `SATURN_THREADS` as the environment's default (README, "Threads on a shared machine").
#pragma once

#include <string_view>

namespace saturn {

inline constexpr int kMaxThreads = 4096;

// A thread count 1..kMaxThreads written as a whole decimal number; throws InputError naming
// `where` (the flag or the environment variable) on anything else: "0", "5000", "x", "2.5".
int parse_thread_count(std::string_view text, std::string_view where);

}  // namespace saturn
