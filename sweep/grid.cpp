#include "sweep/grid.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "base/error.h"
#include "base/read_file.h"
#include "lang/builtin.h"
#include "verify/equivalence.h"

namespace saturn::sweep {

namespace fs = std::filesystem;

namespace {

// "GRID.toml:LINE:COL: " for a node.
std::string where(const std::string& file, const toml::node& node) {
  return fmt::format("{}:{}:{}: ", file, node.source().begin.line, node.source().begin.column);
}

// A scalar as the text RunConfig::set takes; nullopt for arrays and tables.
std::optional<std::string> scalar_text(const toml::node& node) {
  if (node.is_string()) return *node.value<std::string>();
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_floating_point()) return nets::float_text(*node.value<double>());
  return std::nullopt;
}

std::string scalar_or_throw(const std::string& file, const std::string& key,
                            const toml::node& node) {
  auto text = scalar_text(node);
  // "2" for d_model: a number key given a string is refused, as in a config file.
  const std::string base = key.substr(key.rfind('.') + 1);
  if (node.is_string() && !nets::is_text_key(base) && nets::RunConfig().to_map().count(base))
    throw InputError(where(file, node) + nets::quoted_value_error(base, *text));
  if (!text)
    throw InputError(where(file, node) +
                     fmt::format("'{}' must be a string, number or boolean", key));
  return *text;
}

// Keys of a table of scalars (a [[points]] entry, a [per_language.X] table).
Keys scalar_keys(const std::string& file, const std::string& path, const toml::table& table) {
  Keys keys;
  for (auto&& [k, node] : table)
    keys.emplace_back(std::string(k.str()),
                      scalar_or_throw(file, path + "." + std::string(k.str()), node));
  return keys;
}

// Applies keys to a configuration, naming the grid's file, line and key on a bad one.
void apply(nets::RunConfig& c, const Keys& keys, const std::string& file,
           const std::map<std::string, const toml::node*>& nodes) {
  for (const auto& [k, v] : keys) {
    try {
      if (k == "seed") throw InputError("seed: a sweep's seeds are its 'seeds' key");
      c.set(k, v);
    } catch (const InputError& e) {
      const auto it = nodes.find(k);
      throw InputError((it != nodes.end() ? where(file, *it->second) : file + ": ") + e.what());
    }
  }
}

constexpr const char* kReserved[] = {"languages", "seeds",        "per_length",     "grid",
                                     "points",    "per_language", "eval_negatives", "extract"};

// [extract]: every key checked here, naming file:line:col and the key.
ExtractSpec extract_spec(const std::string& file, const fs::path& path, const toml::node& node) {
  if (!node.is_table())
    throw InputError(where(file, node) + "extract: expected an [extract] table");
  ExtractSpec x;
  bool has_max = false;
  for (auto&& [k, v] : *node.as_table()) {
    const std::string key(k.str());
    const std::string at = where(file, v) + "extract." + key + ": ";
    if (key == "against") {
      const auto text = v.value<std::string>();
      if (!v.is_string()) throw InputError(at + "expected a language name or spec file");
      x.against = *text;
      if (!builtin(x.against) && fs::is_regular_file(path.parent_path() / x.against))
        x.against = (path.parent_path() / x.against).string();
      try {
        resolve_language(x.against);
      } catch (const InputError& e) {
        throw InputError(at + e.what());
      }
    } else if (key == "max_length") {
      if (!v.is_integer() || *v.value<std::int64_t>() < 0 || *v.value<std::int64_t>() > 1000000)
        throw InputError(at + "expected a length 0..1000000");
      x.max_length = static_cast<int>(*v.value<std::int64_t>());
      has_max = true;
    } else if (key == "method") {
      const auto text = v.value<std::string>();
      if (!v.is_string() ||
          std::find_if(verify::kMethodNames.begin(), verify::kMethodNames.end(),
                       [&](const char* m) { return *text == m; }) == verify::kMethodNames.end())
        throw InputError(at + "expected auto, enumerate, smt or counts");
      x.method = *text;
    } else if (key == "timeout") {
      const auto t = v.value<double>();
      if (!(v.is_integer() || v.is_floating_point()) || !t || !std::isfinite(*t) || *t < 0 ||
          *t > 1e7)
        throw InputError(at + "expected seconds in [0, 10^7] (0: none)");
      x.timeout = *t;
    } else if (key == "exhaustive_max") {
      if (!v.is_integer() || *v.value<std::int64_t>() < 0 ||
          *v.value<std::int64_t>() > (std::int64_t{1} << 40))
        throw InputError(at + "expected 0 (probes only) to 2^40 words per length");
      x.exhaustive_max = static_cast<long>(*v.value<std::int64_t>());
    } else {
      throw InputError(where(file, v) +
                       fmt::format("extract.{}: not a key of [extract] (against, max_length, "
                                   "method, timeout, exhaustive_max)",
                                   key));
    }
  }
  if (!has_max) throw InputError(where(file, node) + "extract: max_length is required");
  return x;
}

}  // namespace

std::string GridConfig::label() const {
  if (keys.empty()) return "(defaults)";
  std::string s;
  for (const auto& [k, v] : keys) s += (s.empty() ? "" : " ") + k + "=" + v;
  return s;
}

std::vector<Task> Grid::tasks() const {
  std::vector<Task> out;
  for (int l = 0; l < static_cast<int>(languages.size()); ++l)
    for (int c = 0; c < static_cast<int>(configs.size()); ++c)
      for (auto seed : seeds) out.push_back({l, c, seed});
  return out;
}

nets::RunConfig Grid::config(const Task& t) const {
  nets::RunConfig c;
  for (const Keys* keys : {&fixed, &languages[t.language].keys, &configs[t.config].keys})
    for (const auto& [k, v] : *keys) c.set(k, v);
  c.model.seed = t.seed;
  c.model.validate();
  return c;
}

fs::path Grid::run_dir(const fs::path& out, const Task& t) const {
  return out / "runs" / languages[t.language].name / configs[t.config].id /
         fmt::format("seed-{}", t.seed);
}

Grid load_grid(const fs::path& path) {
  return load_grid_text(read_file(path, "grid", kMaxTextFile), path);
}

Grid load_grid_text(const std::string& text, const fs::path& path) {
  Grid g;
  g.file = path;
  const std::string file = path.string();
  g.text = text;
  toml::table doc;
  try {
    doc = toml::parse(g.text, file);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: {}", file, e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
  std::map<std::string, const toml::node*> nodes;  // where each key was written, for messages

  // languages
  const toml::node* langs = doc.get("languages");
  if (!langs || !langs->is_array() || langs->as_array()->empty())
    throw InputError(file + ": 'languages' must be a non-empty list of language names or files");
  std::set<std::string> names;
  for (const auto& node : *langs->as_array()) {
    if (!node.is_string())
      throw InputError(where(file, node) + "languages: each entry must be a string");
    std::string spec = *node.value<std::string>();
    if (!builtin(spec)) {
      const fs::path relative = path.parent_path() / spec;
      if (fs::is_regular_file(relative)) spec = relative.string();
    }
    std::string name;
    try {
      name = resolve_language(spec)->name();
    } catch (const InputError& e) {
      throw InputError(where(file, node) + "languages: " + e.what());
    }
    if (!names.insert(name).second)
      throw InputError(where(file, node) + fmt::format("languages: '{}' is listed twice", name));
    g.languages.push_back({spec, name, {}});
  }

  // seeds
  const toml::node* seeds = doc.get("seeds");
  if (!seeds) {
    g.seeds = {1};
  } else if (seeds->is_integer()) {
    const auto n = *seeds->value<std::int64_t>();
    if (n < 1 || n > 10000) throw InputError(where(file, *seeds) + "seeds: expected 1..10000");
    for (std::int64_t s = 1; s <= n; ++s) g.seeds.push_back(static_cast<std::uint64_t>(s));
  } else if (seeds->is_array() && !seeds->as_array()->empty()) {
    std::set<std::int64_t> seen;
    for (const auto& node : *seeds->as_array()) {
      if (!node.is_integer() || *node.value<std::int64_t>() < 0)
        throw InputError(where(file, node) + "seeds: each seed must be a whole number >= 0");
      if (!seen.insert(*node.value<std::int64_t>()).second)
        throw InputError(where(file, node) + "seeds: a seed is listed twice");
      g.seeds.push_back(static_cast<std::uint64_t>(*node.value<std::int64_t>()));
    }
  } else {
    throw InputError(where(file, *seeds) + "seeds: expected a count or a non-empty list");
  }

  if (const toml::node* pl = doc.get("per_length")) {
    if (!pl->is_integer() || *pl->value<std::int64_t>() < 1 || *pl->value<std::int64_t>() > 1 << 20)
      throw InputError(where(file, *pl) + fmt::format("per_length: expected 1..{}", 1 << 20));
    g.per_length = static_cast<int>(*pl->value<std::int64_t>());
  }

  if (const toml::node* en = doc.get("eval_negatives")) {
    const auto v = en->value<std::string>();
    if (!v || (*v != "uniform" && *v != "near-miss" && *v != "mixed"))
      throw InputError(where(file, *en) + "eval_negatives: expected uniform, near-miss or mixed");
    g.eval_negatives = parse_name<Negatives>(kNegativesNames, "eval_negatives", *v);
  }

  if (const toml::node* x = doc.get("extract")) g.extract = extract_spec(file, path, *x);

  // Every other top-level key: a run key for all tasks.
  for (auto&& [k, node] : doc) {
    const std::string key(k.str());
    if (std::find(std::begin(kReserved), std::end(kReserved), key) != std::end(kReserved)) continue;
    g.fixed.emplace_back(key, scalar_or_throw(file, key, node));
    nodes[key] = &node;
  }

  // [[points]] crossed with [grid]
  std::vector<Keys> points{{}};
  if (const toml::node* p = doc.get("points")) {
    if (!p->is_array_of_tables() || p->as_array()->empty())
      throw InputError(where(file, *p) + "points: expected [[points]] tables");
    points.clear();
    for (const auto& t : *p->as_array()) {
      points.push_back(scalar_keys(file, "points", *t.as_table()));
      for (auto&& [k, node] : *t.as_table()) nodes.emplace(std::string(k.str()), &node);
      // The same point twice would run the same configuration twice (as a seed listed twice).
      Keys sorted = points.back();
      std::sort(sorted.begin(), sorted.end());
      for (std::size_t i = 0; i + 1 < points.size(); ++i) {
        Keys other = points[i];
        std::sort(other.begin(), other.end());
        if (other == sorted)
          throw InputError(where(file, t) +
                           fmt::format("points: the same point as [[points]] number {}", i + 1));
      }
    }
  }
  std::map<std::string, const toml::node*> point_nodes;  // a key of [[points]], where first set
  if (const toml::node* p = doc.get("points"))
    for (const auto& t : *p->as_array())
      for (auto&& [k, node] : *t.as_table()) point_nodes.emplace(std::string(k.str()), &node);
  if (const toml::node* grid = doc.get("grid")) {
    if (!grid->is_table()) throw InputError(where(file, *grid) + "grid: expected a [grid] table");
    for (auto&& [k, node] : *grid->as_table()) {
      const std::string key(k.str());
      if (const auto it = point_nodes.find(key); it != point_nodes.end())
        throw InputError(where(file, node) +
                         fmt::format("grid.{}: also set in [[points]] (line {}); one of the two "
                                     "values would be dropped: set it in one place",
                                     key, it->second->source().begin.line));
      nodes[key] = &node;
      std::vector<std::string> values;
      if (const auto* arr = node.as_array()) {
        if (arr->empty())
          throw InputError(where(file, node) + fmt::format("grid.{}: empty list", key));
        for (const auto& v : *arr) {
          values.push_back(scalar_or_throw(file, "grid." + key, v));
          if (std::find(values.begin(), values.end() - 1, values.back()) != values.end() - 1)
            throw InputError(where(file, v) +
                             fmt::format("grid.{}: {} is listed twice", key, values.back()));
        }
      } else {
        values.push_back(scalar_or_throw(file, "grid." + key, node));
      }
      std::vector<Keys> next;
      for (const auto& point : points)
        for (const auto& v : values) {
          next.push_back(point);
          next.back().emplace_back(key, v);
        }
      points = std::move(next);
      if (points.size() > 100000)
        throw InputError(where(file, node) + "grid: more than 100000 points");
    }
  }
  for (std::size_t i = 0; i < points.size(); ++i)
    g.configs.push_back({fmt::format("c{}", i + 1), points[i]});

  // [per_language.NAME]
  if (const toml::node* pl = doc.get("per_language")) {
    if (!pl->is_table()) throw InputError(where(file, *pl) + "per_language: expected tables");
    for (auto&& [k, node] : *pl->as_table()) {
      const std::string name(k.str());
      auto it = std::find_if(g.languages.begin(), g.languages.end(),
                             [&](const GridLanguage& l) { return l.name == name; });
      if (it == g.languages.end())
        throw InputError(where(file, node) +
                         fmt::format("per_language.{}: not one of the grid's languages", name));
      if (!node.is_table())
        throw InputError(where(file, node) +
                         fmt::format("per_language.{}: expected a table", name));
      it->keys = scalar_keys(file, "per_language." + name, *node.as_table());
      for (auto&& [kk, n] : *node.as_table()) nodes.emplace(std::string(kk.str()), &n);
    }
  }

  // Every task's configuration, checked now.
  for (int l = 0; l < static_cast<int>(g.languages.size()); ++l)
    for (int c = 0; c < static_cast<int>(g.configs.size()); ++c) {
      nets::RunConfig rc;
      for (const Keys* keys : {&g.fixed, &g.languages[l].keys, &g.configs[c].keys})
        apply(rc, *keys, file, nodes);
      try {
        rc.model.validate();
      } catch (const InputError& e) {
        throw InputError(fmt::format("{}: language {}, point {} ({}): {}", file,
                                     g.languages[l].name, g.configs[c].id, g.configs[c].label(),
                                     e.what()));
      }
      if (rc.model.objective != nets::Objective::recognize)
        throw InputError(
            fmt::format("{}: objective: a sweep reports accuracy per length, which "
                        "needs objective = recognize",
                        file));
    }
  return g;
}

}  // namespace saturn::sweep
