#include "lang/spec.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "base/error.h"
#include "base/read_file.h"
#include "base/suggest.h"
#include "lang/components.h"
#include "lang/count_expr.h"
#include "lang/regex.h"

namespace saturn {
namespace {

constexpr std::size_t kMaxNameLength = 100;
constexpr std::size_t kMaxSymbols = 255;

// [a-z0-9_-]+, at most kMaxNameLength characters.
bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

class SpecReader {
 public:
  explicit SpecReader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& what,
                         int column_offset = 0) const {
    if (where.begin.line == 0) throw InputError(fmt::format("{}: {}", source_, what));
    throw InputError(fmt::format("{}:{}:{}: {}", source_, where.begin.line,
                                 where.begin.column + column_offset, what));
  }
  [[noreturn]] void fail(const toml::node& node, const std::string& what,
                         int column_offset = 0) const {
    fail(node.source(), what, column_offset);
  }

  std::shared_ptr<const Language> read(std::string_view text) {
    toml::table doc;
    try {
      doc = toml::parse(text, source_);
    } catch (const toml::parse_error& e) {
      fail(e.source(), std::string(e.description()));
    }
    static const std::vector<std::string> top_keys = {"name", "description", "source", "alphabet",
                                                      "accept"};
    for (auto&& [k, v] : doc)
      if (std::find(top_keys.begin(), top_keys.end(), k.str()) == top_keys.end())
        fail(v, fmt::format(
                    "unknown key '{}'{} (expected name, description, source, alphabet, [accept])",
                    k.str(), did_you_mean(k.str(), top_keys)));

    auto* name_node = doc.get("name");
    if (!name_node) fail(doc, "missing 'name'");
    auto name = name_node->value<std::string>();
    if (!name) fail(*name_node, "'name' must be a string");
    if (!valid_name(*name))
      fail(*name_node,
           fmt::format("name '{}' must match [a-z0-9_-]+ and have at most {} characters",
                       name->size() <= 40 ? *name : name->substr(0, 40) + "...", kMaxNameLength));

    std::string description;
    if (auto* d = doc.get("description")) {
      auto v = d->value<std::string>();
      if (!v) fail(*d, "'description' must be a string");
      description = *v;
    }

    std::string source;
    if (auto* d = doc.get("source")) {
      auto v = d->value<std::string>();
      if (!v) fail(*d, "'source' must be a string");
      source = *v;
    }

    auto* alpha_node = doc.get("alphabet");
    if (!alpha_node) fail(doc, "missing 'alphabet'");
    auto* alpha_arr = alpha_node->as_array();
    if (!alpha_arr) fail(*alpha_node, "'alphabet' must be an array of strings");
    if (alpha_arr->empty()) fail(*alpha_node, "empty alphabet");
    if (alpha_arr->size() > kMaxSymbols)
      fail(*alpha_node, fmt::format("alphabet has {} symbols, more than the {} saturn supports",
                                    alpha_arr->size(), kMaxSymbols));
    std::vector<std::string> names;
    for (auto&& el : *alpha_arr) {
      auto v = el.value<std::string>();
      if (!v) fail(el, "alphabet entries must be strings");
      if (std::find(names.begin(), names.end(), *v) != names.end())
        fail(el, fmt::format("duplicate symbol '{}' in alphabet", *v));
      try {
        Alphabet({*v});
      } catch (const InputError& e) {
        fail(el, e.what());
      }
      names.push_back(*v);
    }
    alphabet_ = Alphabet(names);

    auto* accept = doc.get("accept");
    if (!accept) fail(doc, "missing [accept] table");
    auto* accept_table = accept->as_table();
    if (!accept_table) fail(*accept, "'accept' must be a table");
    auto machine = read_constraints(*accept_table, "[accept]");
    auto language = std::make_shared<Language>(*name, description, alphabet_, std::move(machine),
                                               std::string(text));
    language->set_source(source);
    return language;
  }

 private:
  std::string string_of(const toml::node& n, const char* key) const {
    auto v = n.value<std::string>();
    if (!v) fail(n, fmt::format("'{}' must be a string", key));
    return *v;
  }
  const toml::array& array_of(const toml::node& n, const char* key) const {
    auto* a = n.as_array();
    if (!a) fail(n, fmt::format("'{}' must be an array", key));
    return *a;
  }
  // Offset of a string's first character from its node's column (the opening quote).
  static int quote_offset(const toml::node&) { return 1; }

  // One table of constraints, all of which must hold.
  std::shared_ptr<Machine> read_constraints(const toml::table& t, const std::string& where) {
    static const std::vector<std::string> keys = {"regex",    "counts",    "prefix_counts", "mod",
                                                  "brackets", "max_depth", "dfa",           "all",
                                                  "any",      "not"};
    std::vector<std::shared_ptr<Machine>> parts;
    for (auto&& [k, v] : t)
      if (std::find(keys.begin(), keys.end(), k.str()) == keys.end())
        fail(v, fmt::format("unknown key '{}' in {}{} (expected one of: {})", k.str(), where,
                            did_you_mean(k.str(), keys), fmt::join(keys, ", ")));

    if (auto* n = t.get("regex")) {
      std::string pattern = string_of(*n, "regex");
      try {
        parts.push_back(
            std::make_shared<DfaMachine>(compile_regex(pattern, alphabet_), "regex " + pattern));
      } catch (const RegexError& e) {
        fail(*n, e.what(), quote_offset(*n) + e.offset);
      }
    }
    if (auto* n = t.get("dfa")) parts.push_back(read_dfa(*n));

    std::vector<CountConstraint> whole, prefix;
    for (auto [key, out] : {std::pair{"counts", &whole}, std::pair{"prefix_counts", &prefix}})
      if (auto* n = t.get(key))
        for (auto&& el : array_of(*n, key)) {
          std::string text = string_of(el, key);
          try {
            out->push_back(parse_count_constraint(text, alphabet_));
          } catch (const ExprError& e) {
            fail(el, e.what(), quote_offset(el) + e.offset);
          }
        }
    if (!whole.empty() || !prefix.empty())
      parts.push_back(std::make_shared<CountsMachine>(whole, prefix, alphabet_));

    if (auto* n = t.get("mod")) {
      std::vector<ModConstraint> mods;
      for (auto&& el : array_of(*n, "mod")) {
        std::string text = string_of(el, "mod");
        try {
          mods.push_back(parse_mod_constraint(text, alphabet_));
        } catch (const ExprError& e) {
          fail(el, e.what(), quote_offset(el) + e.offset);
        }
      }
      if (!mods.empty()) parts.push_back(std::make_shared<ModMachine>(std::move(mods), alphabet_));
    }

    if (auto* n = t.get("brackets")) {
      std::optional<int> max_depth;
      if (auto* d = t.get("max_depth")) {
        auto v = d->is_integer() ? d->value<std::int64_t>() : std::nullopt;
        if (!v || *v < 0 || *v > INT32_MAX)
          fail(*d, fmt::format("'max_depth' must be an integer in 0..{}", INT32_MAX));
        max_depth = static_cast<int>(*v);
      }
      parts.push_back(read_brackets(*n, max_depth));
    } else if (auto* d = t.get("max_depth")) {
      fail(*d, "'max_depth' needs 'brackets' in the same table");
    }

    if (auto* n = t.get("all")) parts.push_back(read_list<AllMachine>(*n, "all", where));
    if (auto* n = t.get("any")) parts.push_back(read_list<AnyMachine>(*n, "any", where));
    if (auto* n = t.get("not")) {
      auto* sub = n->as_table();
      if (!sub) fail(*n, "'not' must be a table");
      parts.push_back(std::make_shared<NotMachine>(read_constraints(*sub, where + ".not")));
    }
    if (parts.empty()) {
      // No constraint: every word. A regex ".*" says so as a machine.
      parts.push_back(std::make_shared<DfaMachine>(compile_regex(".*", alphabet_), "any word"));
    }
    return std::make_shared<AllMachine>(std::move(parts));
  }

  template <class Composite>
  std::shared_ptr<Machine> read_list(const toml::node& n, const char* key,
                                     const std::string& where) {
    auto* arr = n.as_array();
    if (!arr || arr->empty()) fail(n, fmt::format("'{}' must be a non-empty array of tables", key));
    std::vector<std::shared_ptr<Machine>> subs;
    int i = 0;
    for (auto&& el : *arr) {
      auto* sub = el.as_table();
      if (!sub) fail(el, fmt::format("'{}' entries must be tables", key));
      subs.push_back(read_constraints(*sub, fmt::format("{}.{}[{}]", where, key, i++)));
    }
    return std::make_shared<Composite>(std::move(subs));
  }

  Symbol symbol_of(const toml::node& el, const char* key) const {
    std::string name = string_of(el, key);
    auto s = alphabet_.find(name);
    if (!s) fail(el, fmt::format("unknown symbol '{}' in {}", name, key));
    return *s;
  }

  std::shared_ptr<Machine> read_brackets(const toml::node& n, std::optional<int> max_depth) {
    std::vector<std::pair<Symbol, Symbol>> pairs;
    std::set<Symbol> used;
    for (auto&& el : array_of(n, "brackets")) {
      auto* pair = el.as_array();
      if (!pair || pair->size() != 2) fail(el, "each bracket pair must be an array of two symbols");
      Symbol open = symbol_of(*pair->get(0), "brackets"),
             close = symbol_of(*pair->get(1), "brackets");
      for (Symbol s : {open, close})
        if (!used.insert(s).second)
          fail(el,
               fmt::format("symbol '{}' appears in more than one bracket role", alphabet_.name(s)));
      pairs.emplace_back(open, close);
    }
    if (pairs.empty()) fail(n, "'brackets' needs at least one pair");
    return std::make_shared<BracketsMachine>(std::move(pairs), max_depth, alphabet_);
  }

  std::shared_ptr<Machine> read_dfa(const toml::node& n) {
    auto* t = n.as_table();
    if (!t) fail(n, "'dfa' must be a table { start = 0, accept = [..], delta = [[..], ..] }");
    for (auto&& [k, v] : *t)
      if (k.str() != "start" && k.str() != "accept" && k.str() != "delta")
        fail(v, fmt::format("unknown key '{}' in 'dfa'{} (expected start, accept, delta)", k.str(),
                            did_you_mean(k.str(), {"start", "accept", "delta"})));
    auto* delta_node = t->get("delta");
    if (!delta_node) fail(n, "'dfa' needs 'delta'");
    const auto& rows = array_of(*delta_node, "delta");
    const int states = static_cast<int>(rows.size());
    if (states == 0) fail(*delta_node, "'delta' needs at least one state");
    auto state_of = [&](const toml::node& el, const char* what, bool allow_reject) {
      auto v = el.is_integer() ? el.value<std::int64_t>() : std::nullopt;
      if (!v || *v < (allow_reject ? -1 : 0) || *v >= states)
        fail(el, fmt::format("{} must be a state in 0..{}{}", what, states - 1,
                             allow_reject ? " or -1" : ""));
      return static_cast<StateId>(*v);
    };
    Dfa dfa(alphabet_.size());
    std::set<StateId> accepting;
    if (auto* a = t->get("accept"))
      for (auto&& el : array_of(*a, "accept"))
        accepting.insert(state_of(el, "accept entry", false));
    for (int q = 0; q < states; ++q) dfa.add_state(accepting.count(q) > 0);
    int q = 0;
    for (auto&& row_node : rows) {
      const auto& row = array_of(row_node, "delta row");
      if (static_cast<int>(row.size()) != alphabet_.size())
        fail(row_node, fmt::format("delta row {} has {} entries, the alphabet has {} symbols", q,
                                   row.size(), alphabet_.size()));
      int s = 0;
      for (auto&& el : row)
        dfa.set_transition(q, static_cast<Symbol>(s++), state_of(el, "delta entry", true));
      ++q;
    }
    auto* start = t->get("start");
    dfa.set_start(start ? state_of(*start, "start", false) : 0);
    return std::make_shared<DfaMachine>(dfa, fmt::format("dfa ({} states)", states));
  }

  std::string source_;
  Alphabet alphabet_;
};

}  // namespace

std::shared_ptr<const Language> load_spec(std::string_view text, const std::string& source) {
  return SpecReader(source).read(text);
}

std::shared_ptr<const Language> load_spec_file(const std::filesystem::path& path) {
  return load_spec(read_file(path, "spec file", kMaxTextFile), path.string());
}

}  // namespace saturn
