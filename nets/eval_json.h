// What `saturn eval RUN --lengths A:B --json` prints, composed here so that the CLI and the
// Python package (Run.evaluate) give the same fields.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "nets/train.h"

namespace saturn::nets {

// {"language", "step", "accuracy", "per_length": {"N": {"accuracy", "words"}}}.
nlohmann::ordered_json eval_json(const std::string& language, long step, const EvalResult& r);

}  // namespace saturn::nets
