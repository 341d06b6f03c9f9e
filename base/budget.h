// The memory budget: every size a user controls (model dimensions, batch, lengths, table
// entries, per-length counts) is turned into an estimate of the bytes it needs and checked here
// *before* the memory is taken. The default is half the machine's physical memory; the
// `--memory-limit` flag (or SATURN_MEMORY_LIMIT) sets it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace saturn {

// The budget in bytes.
std::uint64_t memory_budget();
void set_memory_budget(std::uint64_t bytes);
// "8G", "512M", "100k", "123456" (bytes); K/M/G/T are powers of 1024. Throws InputError naming
// `flag` on anything else (fractions, negative values, overflow).
std::uint64_t parse_memory_size(const std::string& text, const std::string& flag);
// "1.5 GiB".
std::string format_bytes(double bytes, int significant_digits = 3);

// Throws LimitError when `bytes` exceeds the budget: "KNOB: WHAT needs about 3.2 GiB, over the
// memory budget of 2 GiB (raise it with --memory-limit)". `bytes` is a double so that products
// of user sizes cannot wrap before they are compared.
void require_memory(double bytes, std::string_view knob, std::string_view what);

}  // namespace saturn
