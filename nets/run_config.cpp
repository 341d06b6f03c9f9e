#include "nets/run_config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/names.h"

namespace saturn::nets {

namespace {

double number(const std::string& key, const std::string& value) {
  try {
    std::size_t used = 0;
    double v = std::stod(value, &used);
    if (used == value.size()) return v;
  } catch (const std::exception&) {
  }
  throw InputError(fmt::format("{}: expected a number, got '{}'", key, value));
}

// A whole number >= min: "1.5" is an error, not 1.
int count(const std::string& key, const std::string& value, int min) {
  const double v = number(key, value);
  if (v != std::floor(v) || v > 2e9)
    throw InputError(fmt::format("{}: expected a whole number, got '{}'", key, value));
  if (v < min) throw InputError(fmt::format("{}: must be at least {} (got {})", key, min, value));
  return static_cast<int>(v);
}

}  // namespace

void RunConfig::set(const std::string& key, const std::string& value) {
  auto& o = train.optimizer;
  if (key == "optimizer")
    o.kind = parse_name<OptimizerKind>(kOptimizerNames, key, value);
  else if (key == "lr")
    o.lr = number(key, value);
  else if (key == "schedule")
    o.schedule = parse_name<Schedule>(kScheduleNames, key, value);
  else if (key == "warmup_steps")
    o.warmup_steps = count(key, value, 0);
  else if (key == "weight_decay")
    o.weight_decay = number(key, value);
  else if (key == "grad_clip")
    o.grad_clip = number(key, value);
  else if (key == "beta1")
    o.beta1 = number(key, value);
  else if (key == "beta2")
    o.beta2 = number(key, value);
  else if (key == "adam_eps")
    o.eps = number(key, value);
  else if (key == "batch_size")
    train.batch_size = count(key, value, 1);
  else if (key == "steps")
    train.steps = count(key, value, 1);
  else if (key == "eval_every")
    train.eval_every = count(key, value, 0);
  else if (key == "checkpoint_every")
    train.checkpoint_every = count(key, value, 0);
  else if (key == "eval_per_length")
    train.eval_per_length = count(key, value, 1);
  else if (key == "train_lengths")
    parse_length_range(value, key), train.train_lengths = value;
  else if (key == "test_lengths")
    parse_length_range(value, key), train.test_lengths = value;
  else if (key == "data")
    train.data = value;
  else if (key == "negatives")
    train.negatives = parse_name<Negatives>(kNegativesNames, key, value);
  else
    model.set(key, value);
  o.total_steps = train.steps;
}

void RunConfig::set_assignment(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(fmt::format("--set: expected key=value, got '{}'", assignment));
  std::string value = assignment.substr(eq + 1);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  set(assignment.substr(0, eq), value);
}

void RunConfig::load_text(const std::string& text, const std::string& source) {
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: {}", source, e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
  for (auto&& [k, node] : doc) {
    std::string value;
    // By the node's own type: value<bool>() would also convert the integer 1.
    if (node.is_string())
      value = *node.value<std::string>();
    else if (node.is_boolean())
      value = *node.value<bool>() ? "true" : "false";
    else if (node.is_integer())
      value = std::to_string(*node.value<std::int64_t>());
    else if (node.is_floating_point())
      value = fmt::format("{}", *node.value<double>());
    else
      throw InputError(fmt::format("{}:{}:{}: '{}' must be a string, number or boolean", source,
                                   node.source().begin.line, node.source().begin.column, k.str()));
    try {
      set(std::string(k.str()), value);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}:{}:{}: {}", source, node.source().begin.line,
                                   node.source().begin.column, e.what()));
    }
  }
}

void RunConfig::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot read config file", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  load_text(ss.str(), path.string());
}

std::string RunConfig::to_toml() const {
  std::string out = "# model\n";
  for (const auto& [k, v] : model.to_map()) out += fmt::format("{} = {}\n", k, v);
  const auto& o = train.optimizer;
  out += "\n# training\n";
  out += fmt::format(
      "optimizer = \"{}\"\nlr = {}\nschedule = \"{}\"\nwarmup_steps = {}\nweight_decay = {}\n",
      name_of(kOptimizerNames, o.kind), o.lr, name_of(kScheduleNames, o.schedule), o.warmup_steps,
      o.weight_decay);
  out += fmt::format("grad_clip = {}\nbeta1 = {}\nbeta2 = {}\nadam_eps = {}\n", o.grad_clip,
                     o.beta1, o.beta2, o.eps);
  out += fmt::format(
      "batch_size = {}\nsteps = {}\neval_every = {}\ncheckpoint_every = {}\neval_per_length = {}\n",
      train.batch_size, train.steps, train.eval_every, train.checkpoint_every,
      train.eval_per_length);
  out += fmt::format("train_lengths = \"{}\"\ntest_lengths = \"{}\"\nnegatives = \"{}\"\n",
                     train.train_lengths, train.test_lengths, to_string(train.negatives));
  if (!train.data.empty()) out += fmt::format("data = \"{}\"\n", train.data);
  return out;
}

}  // namespace saturn::nets
