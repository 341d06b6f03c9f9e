// JSON read safely: a nesting bound checked before parsing (nlohmann's parser and destructor
// recurse once per level, so 10^6 nested arrays would overflow the stack), and a reader that
// names a bad value by its JSON path: `circuit.json: tensors["layers.0.attn.wqkv"]
// .numerators[3]: expected an integer in [-2^62, 2^62], got 256.9`. Values are never coerced:
// a float is not an integer, `true` is not 1.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace saturn {

inline constexpr int kMaxJsonDepth = 64;

// Throws InputError "SOURCE: not JSON (...)" or "SOURCE: JSON nested deeper than N levels".
nlohmann::ordered_json parse_json(std::string_view text, const std::string& source,
                                  int max_depth = kMaxJsonDepth);

// A value inside a document, with its path for error messages. Holds a reference to the value:
// the document must outlive it.
class JsonNode {
 public:
  using json = nlohmann::ordered_json;
  JsonNode(const json& value, std::string source, std::string path = "")
      : value_(&value), source_(std::move(source)), path_(std::move(path)) {}

  const json& value() const { return *value_; }
  const std::string& path() const { return path_; }
  // "SOURCE: PATH: what" (or "SOURCE: what" at the root).
  [[noreturn]] void fail(const std::string& what) const;

  bool has(std::string_view key) const;
  JsonNode at(std::string_view key) const;  // fails when missing or not an object
  std::optional<JsonNode> find(std::string_view key) const;
  JsonNode at(std::size_t index) const;
  std::size_t size() const;  // of an array; fails otherwise
  // Fails on a key outside `allowed`, suggesting the nearest.
  void only_keys(std::initializer_list<std::string_view> allowed) const;
  // Keys of an object, in document order.
  std::vector<std::string> keys() const;

  std::string string() const;
  std::int64_t integer(std::int64_t lo, std::int64_t hi) const;
  double number() const;  // finite
  bool boolean() const;
  std::string describe() const;  // the value, shortened, for messages

 private:
  const json* value_;
  std::string source_;
  std::string path_;
};

}  // namespace saturn
