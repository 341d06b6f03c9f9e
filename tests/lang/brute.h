// Independent reference predicates and brute-force enumeration for the [lang] tests.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lang/alphabet.h"

namespace saturn::test {

// Membership written directly over the word's symbol names, with no machine involved.
using Predicate = std::function<bool(const std::vector<std::string>&)>;
const std::map<std::string, Predicate>& brute_force_predicates();
// The benchmark tasks' predicates (brute_tasks.cpp; included in the map above).
const std::map<std::string, Predicate>& task_predicates();
// A task's accepted words of length n, built from its definition (space-separated names).
std::set<std::string> task_positives(const std::string& name, int n);

// Every word of length n over k symbols, in lexicographic order.
std::vector<Word> all_words(int k, int n);

}  // namespace saturn::test
