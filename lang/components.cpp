#include "lang/components.h"

#include <fmt/format.h>
#include <boost/graph/strong_components.hpp>

#include <algorithm>

namespace saturn {

// ---------------------------------------------------------------- DfaMachine

DfaMachine::DfaMachine(Dfa dfa, std::string label) : dfa_(complete(dfa)), label_(std::move(label)) {
  distance_ = distance_to_accept(dfa_);
  // future_[q]: symbols on edges that stay live, over everything reachable from q. All states of
  // a strongly connected component share it; Tarjan numbers components in reverse topological
  // order, so each component's successors are done before it.
  const int n = dfa_.num_states();
  std::vector<int> comp(n);
  int ncomp = boost::strong_components(
      dfa_.graph(), boost::make_iterator_property_map(
                        comp.begin(), boost::get(boost::vertex_index, dfa_.graph())));
  std::vector<std::vector<StateId>> members(ncomp);
  for (int q = 0; q < n; ++q) members[comp[q]].push_back(q);
  std::vector<SymbolSet> comp_future(ncomp);
  for (int c = 0; c < ncomp; ++c)
    for (StateId q : members[c])
      for (int s = 0; s < dfa_.num_symbols(); ++s) {
        StateId t = dfa_.next(q, s);
        if (distance_[t] < 0) continue;
        comp_future[c].set(s);
        if (comp[t] != c) comp_future[c] |= comp_future[comp[t]];
      }
  future_.resize(n);
  for (int q = 0; q < n; ++q) future_[q] = comp_future[comp[q]];
}

void DfaMachine::step(Config& c, Symbol s) const {
  c.regs[reg_] = dfa_.next(static_cast<StateId>(c.regs[reg_]), s);
}

bool DfaMachine::accepting(const Config& c) const {
  return dfa_.accepting(static_cast<StateId>(c.regs[reg_]));
}

bool DfaMachine::key(const Config& c, int remaining, const SymbolSet&, bool, Key& out) const {
  auto q = c.regs[reg_];
  if (distance_[q] < 0 || distance_[q] > remaining) return false;
  out.push_back(q);
  return true;
}

SymbolSet DfaMachine::future_symbols(const Config& c) const {
  return future_[c.regs[reg_]];
}

std::string DfaMachine::summary() const {
  return fmt::format("{} ({}-state minimal DFA)", label_, minimize(dfa_).num_states());
}

// ---------------------------------------------------------------- CountsMachine

CountsMachine::CountsMachine(const std::vector<CountConstraint>& whole,
                             const std::vector<CountConstraint>& prefix, const Alphabet& alphabet)
    : alphabet_(alphabet) {
  auto add = [&](const CountConstraint& c, bool is_prefix) {
    auto it = std::find(forms_.begin(), forms_.end(), c.coef);
    int f = static_cast<int>(it - forms_.begin());
    if (it == forms_.end()) forms_.push_back(c.coef);
    tests_.push_back({f, c.op, c.rhs, is_prefix});
  };
  for (const auto& c : whole) add(c, false);
  for (const auto& c : prefix) add(c, true);
}

std::vector<CountConstraint> CountsMachine::whole_constraints() const {
  std::vector<CountConstraint> out;
  for (const auto& t : tests_)
    if (!t.prefix) out.push_back({forms_[t.form], t.op, t.rhs});
  return out;
}

bool CountsMachine::has_prefix_constraints() const {
  return std::any_of(tests_.begin(), tests_.end(), [](const Test& t) { return t.prefix; });
}

void CountsMachine::assign(ConfigLayout& layout) {
  reg_ = layout.add_regs(static_cast<int>(forms_.size()) + 1);
}

bool CountsMachine::holds(const Config& c, const Test& t) const {
  return compare(c.regs[reg_ + t.form], t.op, t.rhs);
}

void CountsMachine::start(Config& c) const {
  const int flag = reg_ + static_cast<int>(forms_.size());
  for (std::size_t f = 0; f < forms_.size(); ++f) c.regs[reg_ + f] = 0;
  c.regs[flag] = 0;
  for (const auto& t : tests_)
    if (t.prefix && !holds(c, t)) c.regs[flag] = 1;
}

void CountsMachine::step(Config& c, Symbol s) const {
  const int flag = reg_ + static_cast<int>(forms_.size());
  for (std::size_t f = 0; f < forms_.size(); ++f) c.regs[reg_ + f] += forms_[f][s];
  for (const auto& t : tests_)
    if (t.prefix && !holds(c, t)) c.regs[flag] = 1;
}

bool CountsMachine::accepting(const Config& c) const {
  if (c.regs[reg_ + forms_.size()]) return false;
  for (const auto& t : tests_)
    if (!holds(c, t)) return false;
  return true;
}

bool CountsMachine::key(const Config& c, int remaining, const SymbolSet& future, bool,
                        Key& out) const {
  if (c.regs[reg_ + forms_.size()]) return false;
  const std::int64_t r = remaining;
  for (std::size_t f = 0; f < forms_.size(); ++f) {
    // Over r more symbols from `future` the form moves within [v - down*r, v + up*r].
    std::int64_t up = 0, down = 0;
    for (int s = 0; s < alphabet_.size(); ++s)
      if (future.test(s)) {
        up = std::max(up, forms_[f][s]);
        down = std::max(down, -forms_[f][s]);
      }
    const std::int64_t v = c.regs[reg_ + f], lo = v - down * r, hi = v + up * r;
    std::int64_t t_min = INT64_MAX, t_max = INT64_MIN;
    for (const auto& t : tests_) {
      if (t.form != static_cast<int>(f)) continue;
      t_min = std::min(t_min, t.rhs);
      t_max = std::max(t_max, t.rhs);
      if (t.prefix) continue;
      // Dead when no final value in [lo, hi] can satisfy a whole-word test.
      bool possible = true;
      switch (t.op) {
        case CmpOp::eq:
          possible = lo <= t.rhs && t.rhs <= hi;
          break;
        case CmpOp::ne:
          possible = !(lo == hi && lo == t.rhs);
          break;
        case CmpOp::lt:
          possible = lo < t.rhs;
          break;
        case CmpOp::le:
          possible = lo <= t.rhs;
          break;
        case CmpOp::gt:
          possible = hi > t.rhs;
          break;
        case CmpOp::ge:
          possible = hi >= t.rhs;
          break;
      }
      if (!possible) return false;
    }
    // Values beyond every threshold by more than the form can move decide every test alike.
    out.push_back(std::clamp(v, t_min - up * r - 1, t_max + down * r + 1));
  }
  return true;
}

std::vector<CountsMachine::Part> CountsMachine::independent_parts() const {
  // Union-find over forms: two forms belong together when they share a symbol.
  const int nf = static_cast<int>(forms_.size()), k = alphabet_.size();
  std::vector<int> group(nf);
  for (int f = 0; f < nf; ++f) group[f] = f;
  auto find = [&](int f) {
    while (group[f] != f) f = group[f] = group[group[f]];
    return f;
  };
  std::vector<int> owner(k, -1);
  for (int f = 0; f < nf; ++f)
    for (int s = 0; s < k; ++s)
      if (forms_[f][s]) {
        if (owner[s] >= 0) group[find(f)] = find(owner[s]);
        owner[s] = f;
      }
  std::vector<Part> parts;
  std::vector<int> part_of_group(nf, -1);
  for (int s = 0; s < k; ++s) {
    if (owner[s] < 0) continue;
    int g = find(owner[s]);
    if (part_of_group[g] < 0) {
      part_of_group[g] = static_cast<int>(parts.size());
      parts.emplace_back();
    }
    parts[part_of_group[g]].symbols.push_back(static_cast<Symbol>(s));
  }
  for (const auto& t : tests_) {
    const int f = t.form;
    bool constant = std::all_of(forms_[f].begin(), forms_[f].end(), [](auto c) { return c == 0; });
    if (constant) return {};  // a test on no symbol at all: leave it to the general machine
    Part& part = parts[part_of_group[find(f)]];
    CountConstraint c;
    for (Symbol s : part.symbols) c.coef.push_back(forms_[f][s]);
    c.op = t.op;
    c.rhs = t.rhs;
    (t.prefix ? part.prefix : part.whole).push_back(std::move(c));
  }
  return parts;
}

std::string CountsMachine::summary() const {
  std::vector<std::string> whole, prefix;
  for (const auto& t : tests_)
    (t.prefix ? prefix : whole)
        .push_back(fmt::format("{} {} {}", format_form(forms_[t.form], alphabet_), to_string(t.op),
                               t.rhs));
  std::string out;
  if (!whole.empty()) out += fmt::format("counts [{}]", fmt::join(whole, ", "));
  if (!prefix.empty())
    out += fmt::format("{}prefix_counts [{}]", out.empty() ? "" : ", ", fmt::join(prefix, ", "));
  return out + fmt::format(" ({} counter{})", forms_.size(), forms_.size() == 1 ? "" : "s");
}

// ---------------------------------------------------------------- ModMachine

ModMachine::ModMachine(std::vector<ModConstraint> constraints, const Alphabet& alphabet)
    : cons_(std::move(constraints)), alphabet_(alphabet) {}

void ModMachine::start(Config& c) const {
  for (std::size_t i = 0; i < cons_.size(); ++i) c.regs[reg_ + i] = 0;
}

void ModMachine::step(Config& c, Symbol s) const {
  for (std::size_t i = 0; i < cons_.size(); ++i) {
    const auto m = cons_[i].modulus;
    c.regs[reg_ + i] = (((c.regs[reg_ + i] + cons_[i].coef[s]) % m) + m) % m;
  }
}

bool ModMachine::accepting(const Config& c) const {
  for (std::size_t i = 0; i < cons_.size(); ++i) {
    const auto m = cons_[i].modulus;
    if (!compare((((c.regs[reg_ + i] + cons_[i].offset) % m) + m) % m, cons_[i].op, cons_[i].rhs))
      return false;
  }
  return true;
}

bool ModMachine::key(const Config& c, int, const SymbolSet&, bool, Key& out) const {
  for (std::size_t i = 0; i < cons_.size(); ++i) out.push_back(c.regs[reg_ + i]);
  return true;
}

std::string ModMachine::summary() const {
  std::vector<std::string> parts;
  for (const auto& m : cons_) {
    std::string form = format_form(m.coef, alphabet_);
    if (m.offset) form += fmt::format(" {} {}", m.offset < 0 ? '-' : '+', std::abs(m.offset));
    parts.push_back(fmt::format("({}) % {} {} {}", form, m.modulus, to_string(m.op), m.rhs));
  }
  return fmt::format("mod [{}]", fmt::join(parts, ", "));
}

// ---------------------------------------------------------------- BracketsMachine

BracketsMachine::BracketsMachine(std::vector<std::pair<Symbol, Symbol>> pairs,
                                 std::optional<int> max_depth, const Alphabet& alphabet)
    : open_of_(alphabet.size(), -1),
      close_of_(alphabet.size(), -1),
      types_(static_cast<int>(pairs.size())),
      max_depth_(max_depth) {
  std::vector<std::string> shown;
  for (int t = 0; t < types_; ++t) {
    open_of_[pairs[t].first] = t;
    close_of_[pairs[t].second] = t;
    shown.push_back(alphabet.name(pairs[t].first) + alphabet.name(pairs[t].second));
  }
  label_ = fmt::format("brackets [{}]", fmt::join(shown, " "));
  if (max_depth_) label_ += fmt::format(", depth <= {}", *max_depth_);
}

void BracketsMachine::assign(ConfigLayout& layout) {
  reg_ = layout.add_regs(1);
  stack_ = layout.add_stack();
}

void BracketsMachine::start(Config& c) const {
  c.regs[reg_] = 0;
  c.stacks[stack_].clear();
}

void BracketsMachine::step(Config& c, Symbol s) const {
  if (c.regs[reg_]) return;
  auto& st = c.stacks[stack_];
  if (int t = open_of_[s]; t >= 0) {
    st.push_back(static_cast<Symbol>(t));
    if (max_depth_ && static_cast<int>(st.size()) > *max_depth_) c.regs[reg_] = 1;
  } else if (int t = close_of_[s]; t >= 0) {
    if (st.empty() || st.back() != t)
      c.regs[reg_] = 1;
    else
      st.pop_back();
  }
}

bool BracketsMachine::accepting(const Config& c) const {
  return !c.regs[reg_] && c.stacks[stack_].empty();
}

bool BracketsMachine::key(const Config& c, int remaining, const SymbolSet&, bool count_only,
                          Key& out) const {
  if (c.regs[reg_]) return false;
  const auto& st = c.stacks[stack_];
  const auto height = static_cast<std::int64_t>(st.size());
  if (height > remaining) return false;  // too little room left to close what is open
  out.push_back(height);
  // How many continuations close a stack depends only on its height (relabel the closers);
  // which ones do depends on its contents.
  if (!count_only && types_ > 1) out.insert(out.end(), st.begin(), st.end());
  return true;
}

MachineResources BracketsMachine::resources() const {
  if (max_depth_) return {true, 0, 0};
  if (types_ == 1) return {false, 1, 0};
  return {false, 0, 1};
}

std::string BracketsMachine::summary() const {
  return label_;
}

// ---------------------------------------------------------------- composites

namespace {
MachineResources combine(const std::vector<std::shared_ptr<Machine>>& parts) {
  MachineResources r;
  for (const auto& p : parts) {
    auto q = p->resources();
    r.finite = r.finite && q.finite;
    r.counters += q.counters;
    r.stacks += q.stacks;
  }
  return r;
}
std::string join_summaries(const char* name, const std::vector<std::shared_ptr<Machine>>& parts) {
  std::vector<std::string> s;
  for (const auto& p : parts) s.push_back(p->summary());
  return fmt::format("{}({})", name, fmt::join(s, "; "));
}
}  // namespace

void AllMachine::assign(ConfigLayout& layout) {
  for (auto& p : parts_) p->assign(layout);
}
void AllMachine::start(Config& c) const {
  for (const auto& p : parts_) p->start(c);
}
void AllMachine::step(Config& c, Symbol s) const {
  for (const auto& p : parts_) p->step(c, s);
}
bool AllMachine::accepting(const Config& c) const {
  for (const auto& p : parts_)
    if (!p->accepting(c)) return false;
  return true;
}
bool AllMachine::key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
                     Key& out) const {
  if (parts_.size() == 1) return parts_[0]->key(c, remaining, future, count_only, out);
  // Each part only needs to tell apart continuations its siblings can still accept.
  std::vector<SymbolSet> fs(parts_.size());
  for (std::size_t i = 0; i < parts_.size(); ++i) fs[i] = parts_[i]->future_symbols(c);
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    SymbolSet mask = future;
    for (std::size_t j = 0; j < parts_.size(); ++j)
      if (j != i) mask &= fs[j];
    if (!parts_[i]->key(c, remaining, mask, false, out)) return false;
  }
  return true;
}
SymbolSet AllMachine::future_symbols(const Config& c) const {
  SymbolSet s = SymbolSet().set();
  for (const auto& p : parts_) s &= p->future_symbols(c);
  return s;
}
MachineResources AllMachine::resources() const {
  return combine(parts_);
}
std::string AllMachine::summary() const {
  return parts_.size() == 1 ? parts_[0]->summary() : join_summaries("all", parts_);
}

void AnyMachine::assign(ConfigLayout& layout) {
  for (auto& p : parts_) p->assign(layout);
}
void AnyMachine::start(Config& c) const {
  for (const auto& p : parts_) p->start(c);
}
void AnyMachine::step(Config& c, Symbol s) const {
  for (const auto& p : parts_) p->step(c, s);
}
bool AnyMachine::accepting(const Config& c) const {
  for (const auto& p : parts_)
    if (p->accepting(c)) return true;
  return false;
}
bool AnyMachine::key(const Config& c, int remaining, const SymbolSet& future, bool,
                     Key& out) const {
  bool alive = false;
  for (const auto& p : parts_) {
    const std::size_t mark = out.size();
    out.push_back(1);
    if (p->key(c, remaining, future, false, out)) {
      alive = true;
    } else {
      out.resize(mark);
      out.push_back(0);
    }
  }
  return alive;
}
SymbolSet AnyMachine::future_symbols(const Config& c) const {
  SymbolSet s;
  for (const auto& p : parts_) s |= p->future_symbols(c);
  return s;
}
MachineResources AnyMachine::resources() const {
  return combine(parts_);
}
std::string AnyMachine::summary() const {
  return join_summaries("any", parts_);
}

bool NotMachine::key(const Config& c, int remaining, const SymbolSet& future, bool count_only,
                     Key& out) const {
  // The complement's continuations are determined by the part's (their number too, as
  // |future|^r minus the part's; count_only is passed on only where future is everything).
  const std::size_t mark = out.size();
  out.push_back(1);
  if (!part_->key(c, remaining, future, count_only, out)) {
    out.resize(mark);
    out.push_back(0);
  }
  return true;
}

}  // namespace saturn
