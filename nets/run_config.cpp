#include "nets/run_config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/names.h"
#include "base/read_file.h"
#include "base/suggest.h"

namespace saturn::nets {

namespace {

double number(const std::string& key, const std::string& value, double min, double max) {
  return parse_real(key, value, min, max);
}

int count(const std::string& key, const std::string& value, int min, int max = 1'000'000'000) {
  return static_cast<int>(parse_integer(key, value, min, max));
}

}  // namespace

std::string float_text(double v) {
  std::string text = fmt::format("{}", v);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

bool is_text_key(const std::string& key) {
  static const auto defaults = RunConfig().to_map();
  const auto it = defaults.find(key);
  return key == "data" || (it != defaults.end() && !it->second.empty() && it->second[0] == '"');
}

std::string quoted_value_error(const std::string& key, const std::string& value) {
  const bool boolean =
      RunConfig().to_map().at(key) == "true" || RunConfig().to_map().at(key) == "false";
  return fmt::format("{}: expected {}, got the string \"{}\" (write it without quotes)", key,
                     boolean ? "a boolean" : "a number", value.substr(0, 40));
}

const std::vector<std::string>& training_keys() {
  static const std::vector<std::string> keys = {"optimizer",
                                                "lr",
                                                "schedule",
                                                "warmup_steps",
                                                "weight_decay",
                                                "grad_clip",
                                                "beta1",
                                                "beta2",
                                                "adam_eps",
                                                "batch_size",
                                                "steps",
                                                "eval_every",
                                                "checkpoint_every",
                                                "eval_per_length",
                                                "train_lengths",
                                                "test_lengths",
                                                "negatives",
                                                "data",
                                                "log_grad_norms"};
  return keys;
}

void RunConfig::set(const std::string& key, const std::string& value) {
  auto& o = train.optimizer;
  if (key == "optimizer")
    o.kind = parse_name<OptimizerKind>(kOptimizerNames, key, value);
  else if (key == "lr")
    o.lr = number(key, value, 0, 1e6);
  else if (key == "schedule")
    o.schedule = parse_name<Schedule>(kScheduleNames, key, value);
  else if (key == "warmup_steps")
    o.warmup_steps = count(key, value, 0);
  else if (key == "weight_decay")
    o.weight_decay = number(key, value, 0, 1e6);
  else if (key == "grad_clip")
    o.grad_clip = number(key, value, 0, 1e30);
  else if (key == "beta1")
    o.beta1 = number(key, value, 0, 1);
  else if (key == "beta2")
    o.beta2 = number(key, value, 0, 1);
  else if (key == "adam_eps")
    o.eps = number(key, value, 0, 1);
  else if (key == "batch_size")
    train.batch_size = count(key, value, 1, 1 << 20);
  else if (key == "steps")
    train.steps = count(key, value, 1);
  else if (key == "eval_every")
    train.eval_every = count(key, value, 0);
  else if (key == "checkpoint_every")
    train.checkpoint_every = count(key, value, 0);
  else if (key == "eval_per_length")
    train.eval_per_length = count(key, value, 1, 1 << 20);
  else if (key == "train_lengths")
    parse_length_range(value, key), train.train_lengths = value;
  else if (key == "test_lengths")
    parse_length_range(value, key), train.test_lengths = value;
  else if (key == "data")
    train.data = value;
  else if (key == "log_grad_norms")
    train.log_grad_norms = parse_bool(key, value);
  else if (key == "negatives")
    train.negatives = parse_name<Negatives>(kNegativesNames, key, value);
  else if (std::find(model_keys().begin(), model_keys().end(), key) != model_keys().end())
    model.set(key, value);
  else {
    std::vector<std::string> all = model_keys();
    all.insert(all.end(), training_keys().begin(), training_keys().end());
    throw InputError(fmt::format("unknown key '{}': not a model or training key{}", key,
                                 did_you_mean(key, all)));
  }
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
    const std::string key(k.str());
    if (node.is_string()) {
      value = *node.value<std::string>();
      if (!is_text_key(key) && RunConfig().to_map().count(key))
        throw InputError(fmt::format("{}:{}:{}: {}", source, node.source().begin.line,
                                     node.source().begin.column, quoted_value_error(key, value)));
    } else if (node.is_boolean())
      value = *node.value<bool>() ? "true" : "false";
    else if (node.is_integer())
      value = std::to_string(*node.value<std::int64_t>());
    else if (node.is_floating_point())
      value = float_text(*node.value<double>());
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
  try {
    model.validate();
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", source, e.what()));
  }
}

void RunConfig::load(const std::filesystem::path& path) {
  load_text(read_file(path, "config file", kMaxTextFile), path.string());
}

std::map<std::string, std::string> RunConfig::to_map() const {
  auto out = model.to_map();
  const auto& o = train.optimizer;
  // A TOML basic string: quotes, backslashes and control characters escaped.
  auto q = [](const std::string& s) {
    std::string text = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\')
        text += '\\', text += c;
      else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        text += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
      else
        text += c;
    }
    return text + "\"";
  };
  out["optimizer"] = q(name_of(kOptimizerNames, o.kind));
  out["lr"] = fmt::format("{}", o.lr);
  out["schedule"] = q(name_of(kScheduleNames, o.schedule));
  out["warmup_steps"] = std::to_string(o.warmup_steps);
  out["weight_decay"] = fmt::format("{}", o.weight_decay);
  out["grad_clip"] = fmt::format("{}", o.grad_clip);
  out["beta1"] = fmt::format("{}", o.beta1);
  out["beta2"] = fmt::format("{}", o.beta2);
  out["adam_eps"] = fmt::format("{}", o.eps);
  out["batch_size"] = std::to_string(train.batch_size);
  out["steps"] = std::to_string(train.steps);
  out["eval_every"] = std::to_string(train.eval_every);
  out["checkpoint_every"] = std::to_string(train.checkpoint_every);
  out["eval_per_length"] = std::to_string(train.eval_per_length);
  out["train_lengths"] = q(train.train_lengths);
  out["test_lengths"] = q(train.test_lengths);
  out["negatives"] = q(to_string(train.negatives));
  if (!train.data.empty()) out["data"] = q(train.data);
  out["log_grad_norms"] = train.log_grad_norms ? "true" : "false";
  return out;
}

std::string RunConfig::to_toml() const {
  const auto all = to_map();
  std::string out = "# model\n";
  for (const auto& [k, v] : model.to_map()) out += fmt::format("{} = {}\n", k, v);
  out += "\n# training\n";
  for (const auto& k : training_keys())
    if (auto it = all.find(k); it != all.end()) out += fmt::format("{} = {}\n", k, it->second);
  return out;
}

RunConfig run_config_for(const std::filesystem::path& out, bool resume,
                         const std::string& config_file, const std::vector<std::string>& sets) {
  RunConfig config;
  const auto resumed_config = out / "config.toml";
  if (resume && std::filesystem::exists(resumed_config)) {
    if (!config_file.empty())
      throw InputError("--resume reads the run's own config.toml; --config is not used");
    config.load(resumed_config);
  } else if (resume && config_file.empty() && sets.empty() && std::filesystem::is_directory(out)) {
    // A run killed before its config.toml was complete, or no run at all: resuming the
    // default configuration would train something nobody asked for.
    throw InputError(fmt::format(
        "--resume: {} holds no config.toml (no run, or one killed before its configuration "
        "was written); give the run's --config/--set to start it, or use --overwrite",
        out.string()));
  } else if (!config_file.empty()) {
    config.load(config_file);
  }
  for (const auto& s : sets) config.set_assignment(s);
  return config;
}

}  // namespace saturn::nets
