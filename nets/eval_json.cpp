#include "nets/eval_json.h"

namespace saturn::nets {

nlohmann::ordered_json eval_json(const std::string& language, long step, const EvalResult& r) {
  nlohmann::ordered_json j;
  j["language"] = language;
  j["step"] = step;
  j["accuracy"] = r.accuracy();
  for (const auto& [n, ct] : r.per_length)
    j["per_length"][std::to_string(n)] = {{"accuracy", double(ct.first) / ct.second},
                                          {"words", ct.second}};
  return j;
}

}  // namespace saturn::nets
