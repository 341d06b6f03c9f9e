#include "nets/run_config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "lang/error.h"

namespace saturn::nets {

namespace {

template <class T>
T number(const std::string& key, const std::string& value) {
  try {
    std::size_t used = 0;
    double v = std::stod(value, &used);
    if (used != value.size()) throw std::invalid_argument(value);
    return static_cast<T>(v);
  } catch (const std::exception&) {
    throw InputError(fmt::format("{}: expected a number, got '{}'", key, value));
  }
}

int count(const std::string& key, const std::string& value, int min) {
  int v = number<int>(key, value);
  if (v < min) throw InputError(fmt::format("{}: must be at least {} (got {})", key, min, value));
  return v;
}

const char* schedule_name(Schedule s) {
  static const char* names[] = {"constant", "linear", "warmup_linear", "warmup_inverse_sqrt"};
  return names[static_cast<int>(s)];
}

}  // namespace

void RunConfig::set(const std::string& key, const std::string& value) {
  auto& o = train.optimizer;
  if (key == "optimizer") {
    if (value == "sgd")
      o.kind = OptimizerKind::sgd;
    else if (value == "adam")
      o.kind = OptimizerKind::adam;
    else if (value == "adamw")
      o.kind = OptimizerKind::adamw;
    else
      throw InputError(
          fmt::format("optimizer: unknown value '{}' (expected sgd, adam, adamw)", value));
  } else if (key == "lr")
    o.lr = number<double>(key, value);
  else if (key == "schedule") {
    bool found = false;
    for (auto s : {Schedule::constant, Schedule::linear, Schedule::warmup_linear,
                   Schedule::warmup_inverse_sqrt})
      if (value == schedule_name(s)) o.schedule = s, found = true;
    if (!found)
      throw InputError(
          fmt::format("schedule: unknown value '{}' (expected constant, linear, warmup_linear, "
                      "warmup_inverse_sqrt)",
                      value));
  } else if (key == "warmup_steps")
    o.warmup_steps = count(key, value, 0);
  else if (key == "weight_decay")
    o.weight_decay = number<double>(key, value);
  else if (key == "grad_clip")
    o.grad_clip = number<double>(key, value);
  else if (key == "beta1")
    o.beta1 = number<double>(key, value);
  else if (key == "beta2")
    o.beta2 = number<double>(key, value);
  else if (key == "adam_eps")
    o.eps = number<double>(key, value);
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
    train.negatives = parse_negatives(value);
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
  static const char* optimizers[] = {"sgd", "adam", "adamw"};
  out += "\n# training\n";
  out += fmt::format(
      "optimizer = \"{}\"\nlr = {}\nschedule = \"{}\"\nwarmup_steps = {}\nweight_decay = {}\n",
      optimizers[static_cast<int>(o.kind)], o.lr, schedule_name(o.schedule), o.warmup_steps,
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
