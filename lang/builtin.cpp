#include "lang/builtin.h"

#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>

#include "base/error.h"
#include "base/suggest.h"
#include "lang/spec.h"
#include "lang/zoo_machines.h"
#include "lang/zoo_tasks.h"

namespace saturn {

// Generated at build time from lang/zoo/*.toml (see lang/CMakeLists.txt).
extern const std::vector<std::pair<std::string, std::string>> kZooSpecs;

namespace {

using Factory = std::function<std::shared_ptr<const Language>()>;

std::map<std::string, Factory> factories() {
  std::map<std::string, Factory> f;
  for (const auto& [name, text] : kZooSpecs) {
    const std::string* spec = &text;
    const std::string source = "builtin:" + name;
    f[name] = [spec, source] { return load_spec(*spec, source); };
  }
  const Alphabet marked({"0", "1", "#"}), binary({"0", "1"});
  const auto with_source = [](std::shared_ptr<Language> l, const char* source) {
    l->set_source(source);
    return std::shared_ptr<const Language>(std::move(l));
  };
  f["marked-reversal"] = [=] {
    return with_source(
        std::make_shared<Language>("marked-reversal", "w # w^R for w over {0,1}", marked,
                                   make_marked_reversal(), "", "deterministic-cf"),
        "FLaRe");
  };
  f["unmarked-reversal"] = [=] {
    return with_source(
        std::make_shared<Language>("unmarked-reversal", "w w^R for w over {0,1} (even palindromes)",
                                   binary, make_palindrome(true), "", "cf"),
        "FLaRe");
  };
  f["palindrome"] = [=] {
    return with_source(
        std::make_shared<Language>("palindrome", "palindromes over {0,1}, any length", binary,
                                   make_palindrome(false), "", "cf"),
        "textbook");
  };
  f["marked-copy"] = [=] {
    return with_source(std::make_shared<Language>("marked-copy", "w # w for w over {0,1}", marked,
                                                  make_marked_copy(), "", "cs"),
                       "FLaRe");
  };
  for (const auto& name : task_language_names())
    f[name] = [name] { return std::shared_ptr<const Language>(make_task_language(name)); };
  return f;
}

const std::map<std::string, Factory>& registry() {
  static const auto r = factories();
  return r;
}

}  // namespace

std::vector<std::string> builtin_names() {
  std::vector<std::string> names;
  for (const auto& [name, _] : registry()) names.push_back(name);
  return names;
}

std::shared_ptr<const Language> builtin(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Language>> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  auto f = registry().find(name);
  if (f == registry().end()) return nullptr;
  return cache[name] = f->second();
}

std::shared_ptr<const Language> resolve_language(const std::string& what) {
  if (auto lang = builtin(what)) return lang;
  // Any file but a directory: a FIFO or device is read as a stream (read_file refuses a directory).
  if (std::error_code ec; std::filesystem::exists(what, ec)) return load_spec_file(what);
  throw InputError(
      fmt::format("unknown language '{}': not a built-in (see 'saturn lang list') and no such "
                  "file{}",
                  what, did_you_mean(what, builtin_names())));
}

}  // namespace saturn
