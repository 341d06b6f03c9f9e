// Independent reference predicates and brute-force enumeration for the [lang] tests.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lang/alphabet.h"

namespace saturn::test {

// Membership written directly over the word's symbol names, with no machine involved.
using Predicate = std::function<bool(const std::vector<std::string>&)>;
const std::map<std::string, Predicate>& brute_force_predicates();

// Every word of length n over k symbols, in lexicographic order.
std::vector<Word> all_words(int k, int n);

}  // namespace saturn::test
