#include "nets/checkpoint.h"

#include "lang/builtin.h"
#include "lang/spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/atomic_file.h"
#include "base/error.h"

namespace saturn::nets {

namespace {
constexpr const char* kFormat = "saturn-checkpoint-1";

std::string shape_text(const std::vector<int>& s) {
  return fmt::format("[{}]", fmt::join(s, ","));
}
}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& c) {
  ParameterLayout layout(c.config.model, c.num_symbols);
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", kFormat},
                            {"config", c.config.to_toml()},
                            {"num_symbols", std::to_string(c.num_symbols)},
                            {"language", c.language_name},
                            {"spec", c.language_spec},
                            {"step", std::to_string(c.step)},
                            {"rng", c.rng_state},
                            {"optimizer_steps", std::to_string(c.optimizer_steps)}};
  std::vector<std::pair<const float*, std::size_t>> chunks;
  std::size_t offset = 0;
  auto add = [&](const std::string& name, const std::vector<int>& shape, const float* data,
                 std::size_t n) {
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + 4 * n}}};
    chunks.emplace_back(data, n);
    offset += 4 * n;
  };
  for (const auto& t : layout.tensors()) add(t.name, t.shape, c.params.data() + t.offset, t.size);
  if (!c.adam_m.empty()) {
    add("optimizer.m", {static_cast<int>(c.adam_m.size())}, c.adam_m.data(), c.adam_m.size());
    add("optimizer.v", {static_cast<int>(c.adam_v.size())}, c.adam_v.data(), c.adam_v.size());
  }
  std::string json = header.dump();
  while ((json.size() + 8) % 8) json += ' ';  // align the data to 8 bytes
  std::string bytes(8 + json.size() + offset, '\0');
  const std::uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  std::memcpy(bytes.data() + 8, json.data(), json.size());
  std::size_t at = 8 + json.size();
  for (auto [data, count] : chunks) {
    std::memcpy(bytes.data() + at, data, 4 * count);  // little-endian floats, as on x86-64
    at += 4 * count;
  }
  write_file_atomically(path, bytes);
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const std::string where = path.string();
  auto fail = [&](const std::string& what) -> Checkpoint {
    throw InputError(fmt::format("{}: {}", where, what));
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read checkpoint");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8)
    return fail(fmt::format("truncated: {} bytes, not a safetensors file", bytes.size()));
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > bytes.size() - 8)
    return fail(
        fmt::format("header length {} exceeds the file ({} bytes): truncated or not safetensors", n,
                    bytes.size()));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8,
                                   bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const nlohmann::json::exception&) {
    return fail("header is not valid JSON: not a safetensors file");
  }
  const std::size_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;
  if (!header.is_object() || !header.contains("__metadata__") ||
      !header["__metadata__"].is_object() || header["__metadata__"].value("format", "") != kFormat)
    return fail(fmt::format("not a saturn checkpoint (no __metadata__.format = \"{}\")", kFormat));
  const auto& meta = header["__metadata__"];
  auto field = [&](const char* key) {
    if (!meta.contains(key) || !meta[key].is_string())
      fail(fmt::format("metadata lacks '{}'", key));
    return meta[key].get<std::string>();
  };
  Checkpoint c;
  try {
    c.config.load_text(field("config"), where + " (metadata config)");
    c.num_symbols = std::stoi(field("num_symbols"));
    c.step = std::stol(field("step"));
    c.optimizer_steps = std::stol(field("optimizer_steps"));
  } catch (const std::logic_error&) {
    return fail("metadata has a malformed number");
  }
  c.language_name = field("language");
  c.language_spec = field("spec");
  c.rng_state = field("rng");
  ParameterLayout layout(c.config.model, c.num_symbols);
  auto read = [&](const std::string& name, const std::vector<int>& shape, float* out) {
    if (!header.contains(name)) fail(fmt::format("missing tensor '{}'", name));
    const auto& t = header[name];
    if (t.value("dtype", "") != "F32")
      fail(fmt::format("tensor '{}' has dtype {}, expected F32", name, t.value("dtype", "?")));
    std::vector<int> got = t.value("shape", std::vector<int>{});
    if (got != shape)
      fail(fmt::format("tensor '{}' has shape {}, config says {}", name, shape_text(got),
                       shape_text(shape)));
    auto offsets = t.value("data_offsets", std::vector<std::size_t>{});
    std::size_t numel = 1;
    for (int d : shape) numel *= static_cast<std::size_t>(d);
    if (offsets.size() != 2 || offsets[1] < offsets[0] || offsets[1] - offsets[0] != 4 * numel)
      fail(fmt::format("tensor '{}' has bad data_offsets", name));
    if (offsets[1] > data_size)
      fail(fmt::format("truncated: tensor '{}' ends at byte {} of the data, which has {}", name,
                       offsets[1], data_size));
    std::memcpy(out, data + offsets[0], 4 * numel);
  };
  c.params.resize(layout.total());
  for (const auto& t : layout.tensors()) read(t.name, t.shape, c.params.data() + t.offset);
  if (header.contains("optimizer.m")) {
    c.adam_m.resize(layout.total());
    c.adam_v.resize(layout.total());
    read("optimizer.m", {static_cast<int>(layout.total())}, c.adam_m.data());
    read("optimizer.v", {static_cast<int>(layout.total())}, c.adam_v.data());
  }
  return c;
}

std::vector<std::pair<long, std::filesystem::path>> list_checkpoints(
    const std::filesystem::path& run_or_file) {
  if (std::filesystem::is_regular_file(run_or_file)) return {{-1L, run_or_file}};
  if (!std::filesystem::is_directory(run_or_file))
    throw InputError(fmt::format("{}: no such run directory or checkpoint", run_or_file.string()));
  static const std::regex name("ckpt-([0-9]+)\\.safetensors");
  std::vector<std::pair<long, std::filesystem::path>> found;
  for (const auto& e : std::filesystem::directory_iterator(run_or_file)) {
    std::smatch m;
    std::string f = e.path().filename().string();
    if (std::regex_match(f, m, name)) found.emplace_back(std::stol(m[1]), e.path());
  }
  if (found.empty())
    throw InputError(
        fmt::format("{}: no ckpt-STEP.safetensors in this run directory", run_or_file.string()));
  std::sort(found.begin(), found.end());
  return found;
}

std::filesystem::path latest_checkpoint(const std::filesystem::path& run_or_file) {
  return list_checkpoints(run_or_file).back().second;
}

std::shared_ptr<const Language> checkpoint_language(const Checkpoint& c) {
  if (!c.language_spec.empty()) return load_spec(c.language_spec, "checkpoint:" + c.language_name);
  if (auto l = builtin(c.language_name)) return l;
  throw InputError(fmt::format(
      "checkpoint language '{}' is not a built-in and has no spec; pass --lang", c.language_name));
}

}  // namespace saturn::nets
