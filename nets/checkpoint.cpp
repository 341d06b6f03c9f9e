#include "nets/checkpoint.h"

#include "lang/builtin.h"
#include "lang/spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/budget.h"
#include "base/error.h"
#include "base/json_read.h"
#include "base/read_file.h"

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
  RunConfig as_trained = c.config;
  if (c.start_attention_scale) as_trained.model.attention_scale = *c.start_attention_scale;
  header["__metadata__"] = {{"format", kFormat},
                            {"config", as_trained.to_toml()},
                            {"num_symbols", std::to_string(c.num_symbols)},
                            {"language", c.language_name},
                            {"spec", c.language_spec},
                            {"step", std::to_string(c.step)},
                            {"rng", c.rng_state},
                            {"optimizer_steps", std::to_string(c.optimizer_steps)}};
  if (c.start_attention_scale)
    header["__metadata__"]["attention_scale"] = fmt::format("{}", c.config.model.attention_scale);
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
  // A checkpoint holds the parameters and Adam's two moments: the file is read whole, within
  // a quarter of the memory budget.
  return parse_checkpoint(read_file(path, "checkpoint", memory_budget() / 4), path.string());
}

Checkpoint parse_checkpoint(std::string_view bytes, const std::string& where) {
  auto fail = [&](const std::string& what) -> Checkpoint {
    throw InputError(fmt::format("{}: {}", where, what));
  };
  if (bytes.size() < 8)
    return fail(fmt::format("truncated: {} bytes, not a safetensors file", bytes.size()));
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > bytes.size() - 8)
    return fail(
        fmt::format("header length {} exceeds the file ({} bytes): truncated or not safetensors", n,
                    bytes.size()));
  nlohmann::ordered_json header;
  try {
    header = parse_json(bytes.substr(8, n), where + " (header)");
  } catch (const InputError&) {
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
  auto number = [&](const char* key, long max) {
    try {
      return parse_integer(std::string("metadata ") + key, field(key), 0, max);
    } catch (const InputError& e) {
      fail(e.what());
    }
    return std::int64_t(0);
  };
  Checkpoint c;
  c.source = where;
  c.config.load_text(field("config"), where + " (metadata config)");
  c.num_symbols = static_cast<int>(number("num_symbols", 255));
  if (c.num_symbols < 1) return fail("metadata num_symbols must be at least 1");
  c.step = number("step", INT64_MAX / 2);
  c.optimizer_steps = number("optimizer_steps", INT64_MAX / 2);
  c.language_name = field("language");
  c.language_spec = field("spec");
  c.rng_state = field("rng");
  if (meta.contains("attention_scale")) {  // a schedule's value at this step
    double scale = 0;
    try {
      scale = parse_real("metadata attention_scale", field("attention_scale"), 1e-6, 1e6);
    } catch (const InputError& e) {
      fail(e.what());
    }
    c.start_attention_scale = c.config.model.attention_scale;
    c.config.model.attention_scale = scale;
  }
  ParameterLayout layout(c.config.model, c.num_symbols);
  // Each tensor's entry is checked (shape, offsets inside the data) before any buffer is sized
  // by the config, then the data is copied.
  auto locate = [&](const std::string& name, const std::vector<int>& shape) {
    if (!header.contains(name)) fail(fmt::format("missing tensor '{}'", name));
    const JsonNode t(header[name], where, name);
    if (!t.value().is_object()) t.fail("expected an object");
    if (t.at("dtype").string() != "F32")
      t.fail(fmt::format("dtype {}, expected F32", t.at("dtype").describe()));
    std::vector<int> got;
    const JsonNode dims = t.at("shape");
    for (std::size_t i = 0; i < dims.size(); ++i)
      got.push_back(static_cast<int>(dims.at(i).integer(0, INT32_MAX)));
    if (got != shape)
      fail(fmt::format("tensor '{}' has shape {}, config says {}", name, shape_text(got),
                       shape_text(shape)));
    const JsonNode offsets = t.at("data_offsets");
    if (offsets.size() != 2) offsets.fail("expected [begin, end]");
    const auto begin = static_cast<std::size_t>(offsets.at(0).integer(0, INT64_MAX)),
               end = static_cast<std::size_t>(offsets.at(1).integer(0, INT64_MAX));
    std::size_t numel = 1;
    for (int d : shape) numel *= static_cast<std::size_t>(d);
    if (end < begin || end - begin != 4 * numel)
      fail(fmt::format("tensor '{}' has bad data_offsets", name));
    if (end > data_size)
      fail(fmt::format("truncated: tensor '{}' ends at byte {} of the data, which has {}", name,
                       end, data_size));
    return begin;
  };
  std::vector<std::size_t> begins;
  for (const auto& t : layout.tensors()) begins.push_back(locate(t.name, t.shape));
  const bool adam = header.contains("optimizer.m");
  const std::vector<int> flat = {static_cast<int>(layout.total())};
  const std::size_t m_begin = adam ? locate("optimizer.m", flat) : 0,
                    v_begin = adam ? locate("optimizer.v", flat) : 0;
  c.params.resize(layout.total());
  for (std::size_t i = 0; i < layout.tensors().size(); ++i) {
    const auto& t = layout.tensors()[i];
    std::memcpy(c.params.data() + t.offset, data + begins[i], 4 * t.size);
  }
  if (adam) {
    c.adam_m.resize(layout.total());
    c.adam_v.resize(layout.total());
    std::memcpy(c.adam_m.data(), data + m_begin, 4 * layout.total());
    std::memcpy(c.adam_v.data(), data + v_begin, 4 * layout.total());
  }
  return c;
}

std::vector<std::pair<long, std::filesystem::path>> list_checkpoints(
    const std::filesystem::path& run_or_file, bool may_be_empty) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(run_or_file, ec)) return {{-1L, run_or_file}};
  if (!std::filesystem::is_directory(run_or_file, ec))
    throw InputError(fmt::format("{}: no such run directory or checkpoint", run_or_file.string()));
  std::vector<std::pair<long, std::filesystem::path>> found;
  for (const auto& e : std::filesystem::directory_iterator(run_or_file)) {
    // ckpt-STEP.safetensors, STEP decimal digits
    const std::string f = e.path().filename().string();
    const std::string prefix = "ckpt-", suffix = ".safetensors";
    if (f.size() <= prefix.size() + suffix.size() || f.rfind(prefix, 0) != 0 ||
        f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string digits = f.substr(prefix.size(), f.size() - prefix.size() - suffix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    long step = 0;
    auto [ptr, parse_error] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
    if (parse_error != std::errc() || ptr != digits.data() + digits.size())
      throw InputError(
          fmt::format("{}: the step in this checkpoint's name is out of range", e.path().string()));
    found.emplace_back(step, e.path());
  }
  if (found.empty() && !may_be_empty)
    throw InputError(
        fmt::format("{}: no ckpt-STEP.safetensors in this run directory", run_or_file.string()));
  std::sort(found.begin(), found.end());
  return found;
}

std::filesystem::path latest_checkpoint(const std::filesystem::path& run_or_file) {
  return list_checkpoints(run_or_file).back().second;
}

std::shared_ptr<const Language> checkpoint_language(const Checkpoint& c) {
  if (!c.language_spec.empty())
    return load_spec(c.language_spec,
                     fmt::format("{} (the spec of '{}' it holds)",
                                 c.source.empty() ? "checkpoint" : c.source, c.language_name));
  if (auto l = builtin(c.language_name)) return l;
  throw InputError(fmt::format(
      "checkpoint language '{}' is not a built-in and has no spec; pass --lang", c.language_name));
}

}  // namespace saturn::nets

namespace saturn::nets {

void check_alphabet(const Checkpoint& c, const Language& language) {
  if (language.alphabet().size() != c.num_symbols)
    throw InputError(fmt::format("--lang: {} has {} symbols, the model was trained on {}",
                                 language.name(), language.alphabet().size(), c.num_symbols));
  std::shared_ptr<const Language> trained;
  try {
    trained = checkpoint_language(c);
  } catch (const InputError&) {
    return;  // a language the checkpoint cannot name: only the size can be checked
  }
  if (!(trained->alphabet() == language.alphabet()))
    throw InputError(fmt::format("--lang: {}'s alphabet ({}) is not the model's ({})",
                                 language.name(), fmt::join(language.alphabet().names(), " "),
                                 fmt::join(trained->alphabet().names(), " ")));
}

}  // namespace saturn::nets
