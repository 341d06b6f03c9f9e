#include "theory/suites.h"

namespace saturn::theory {

const std::vector<Suite>& suites() {
  static const std::vector<Suite> all = {merrill_suite(), xiong_suite(), wortsman_suite(),
                                         brody_suite(), geva_suite()};
  return all;
}

}  // namespace saturn::theory
