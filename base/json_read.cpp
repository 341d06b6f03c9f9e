#include "base/json_read.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "base/suggest.h"

namespace saturn {

namespace {

// The deepest nesting of [ and { outside strings, scanned without recursion; stops early once
// over `max_depth` and returns the byte offset where it got there.
std::optional<std::size_t> too_deep(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

// 4611686018427387904 as "2^62": bounds are read by people.
std::string bound_text(std::int64_t v) {
  const std::uint64_t magnitude =
      v < 0 ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
  if (magnitude >= (1u << 20) && (magnitude & (magnitude - 1)) == 0)
    return fmt::format("{}2^{}", v < 0 ? "-" : "", 63 - __builtin_clzll(magnitude));
  return std::to_string(v);
}

bool identifier(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

}  // namespace

nlohmann::ordered_json parse_json(std::string_view text, const std::string& source, int max_depth) {
  if (auto at = too_deep(text, max_depth))
    throw InputError(
        fmt::format("{}: JSON nested deeper than {} levels (at byte {})", source, max_depth, *at));
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // A syntax error, or a number too large for a double (out_of_range.406). e.what() is
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ...": keep what
    // follows the tag.
    std::string what = e.what();
    const auto tag = what.find("] ");
    if (tag != std::string::npos) what = what.substr(tag + 2);
    throw InputError(fmt::format("{}: not valid JSON ({})", source, what));
  }
}

void JsonNode::fail(const std::string& what) const {
  if (path_.empty()) throw InputError(fmt::format("{}: {}", source_, what));
  throw InputError(fmt::format("{}: {}: {}", source_, path_, what));
}

std::string JsonNode::describe() const {
  std::string text = value_->dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

bool JsonNode::has(std::string_view key) const {
  return value_->is_object() && value_->contains(key);
}

std::optional<JsonNode> JsonNode::find(std::string_view key) const {
  if (!value_->is_object()) fail(fmt::format("expected an object, got {}", describe()));
  auto it = value_->find(key);
  if (it == value_->end()) return std::nullopt;
  const std::string child = identifier(key) ? (path_.empty() ? "" : path_ + ".") + std::string(key)
                                            : fmt::format("{}[\"{}\"]", path_, key);
  return JsonNode(*it, source_, child);
}

JsonNode JsonNode::at(std::string_view key) const {
  if (auto child = find(key)) return *child;
  fail(fmt::format("missing field \"{}\"", key));
}

JsonNode JsonNode::at(std::size_t index) const {
  if (!value_->is_array()) fail(fmt::format("expected an array, got {}", describe()));
  if (index >= value_->size()) fail(fmt::format("has no element {}", index));
  return JsonNode((*value_)[index], source_, fmt::format("{}[{}]", path_, index));
}

std::size_t JsonNode::size() const {
  if (!value_->is_array()) fail(fmt::format("expected an array, got {}", describe()));
  return value_->size();
}

void JsonNode::only_keys(std::initializer_list<std::string_view> allowed) const {
  if (!value_->is_object()) fail(fmt::format("expected an object, got {}", describe()));
  std::vector<std::string> names(allowed.begin(), allowed.end());
  for (const auto& [key, _] : value_->items())
    if (std::find(names.begin(), names.end(), key) == names.end())
      fail(fmt::format("unknown field \"{}\"{}", key, did_you_mean(key, names)));
}

std::vector<std::string> JsonNode::keys() const {
  if (!value_->is_object()) fail(fmt::format("expected an object, got {}", describe()));
  std::vector<std::string> out;
  for (const auto& [key, _] : value_->items()) out.push_back(key);
  return out;
}

std::string JsonNode::string() const {
  if (!value_->is_string()) fail(fmt::format("expected a string, got {}", describe()));
  return value_->get<std::string>();
}

std::int64_t JsonNode::integer(std::int64_t lo, std::int64_t hi) const {
  auto bad = [&]() -> std::int64_t {
    fail(fmt::format("expected an integer in [{}, {}], got {}", bound_text(lo), bound_text(hi),
                     describe()));
  };
  if (value_->is_number_unsigned()) {
    const auto v = value_->get<std::uint64_t>();
    if (hi < 0 || v > static_cast<std::uint64_t>(hi)) bad();
    return static_cast<std::int64_t>(v);
  }
  if (!value_->is_number_integer()) bad();
  const auto v = value_->get<std::int64_t>();
  if (v < lo || v > hi) bad();
  return v;
}

double JsonNode::number() const {
  if (!value_->is_number()) fail(fmt::format("expected a number, got {}", describe()));
  const double v = value_->get<double>();
  if (!std::isfinite(v)) fail(fmt::format("expected a finite number, got {}", describe()));
  return v;
}

bool JsonNode::boolean() const {
  if (!value_->is_boolean()) fail(fmt::format("expected true or false, got {}", describe()));
  return value_->get<bool>();
}

}  // namespace saturn
