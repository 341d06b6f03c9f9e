// Internals of the exact evaluator (exact_eval.cpp): one word through a circuit in one of the
// arithmetics of interval_arith.h, with what a thread keeps between words (first-layer tables
// per length, causal prefixes, remembered one-layer readouts).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "saturate/exact_eval.h"
#include "saturate/interval_arith.h"
#include "saturate/span_table.h"

namespace saturn::saturate {

template <class T>
struct ExactEvaluator::Weights {
  using M = Matrix<T>;
  std::map<std::string, M> by_name;  // the circuit's tensor names
  // Resolved by role (null where the circuit has no such tensor).
  struct Layer {
    const M *ln1_g, *ln1_b, *wqkv, *bqkv, *q_ln_g, *q_ln_b, *k_ln_g, *k_ln_b, *wgate, *bgate;
    const M *wo, *bo, *ln2_g, *ln2_b, *w1, *b1, *w2, *b2;
  };
  std::vector<Layer> layers;
  const M *wte, *wpe, *sinusoidal, *wfrac, *lnf_g, *lnf_b, *head_w, *head_b;
  // Per head (layer-major): the tolerance on raw scores, and whether it attends to every key.
  std::vector<T> tolerance;
  std::vector<char> uniform;
  // Per head (layer-major): whether its output is zero whatever it attends to (its value
  // rows, or its columns of the output projection, are zero), so that its selection does not
  // matter; whether a layer needs scores at all (some head neither uniform nor silent).
  std::vector<char> silent, scored_layer;
  // Sparsemax circuits: scores are attention_scale q.k / sqrt(dh) (sparsemax is not
  // scale-invariant), the factor enclosed in [score_factor_lo, score_factor_hi] (a point when
  // dh is a perfect square).
  bool sparsemax = false;
  T score_factor_lo{}, score_factor_hi{};

  const M* find(const std::string& key) const {
    auto it = by_name.find(key);
    return it == by_name.end() ? nullptr : &it->second;
  }
  void resolve(int n_layers, int n_heads, bool qk_norm) {
    wte = find("embed.wte"), wpe = find("embed.wpe"), sinusoidal = find("embed.sinusoidal");
    wfrac = find("embed.wfrac"), lnf_g = find("lnf.g"), lnf_b = find("lnf.b");
    head_w = find("head.w"), head_b = find("head.b");
    layers.resize(n_layers);
    for (int l = 0; l < n_layers; ++l) {
      auto at = [&](const char* what) { return find(fmt::format("layers.{}.{}", l, what)); };
      layers[l] = {at("ln1.g"),       at("ln1.b"),       at("attn.wqkv"),   at("attn.bqkv"),
                   at("attn.q_ln.g"), at("attn.q_ln.b"), at("attn.k_ln.g"), at("attn.k_ln.b"),
                   at("attn.wgate"),  at("attn.bgate"),  at("attn.wo"),     at("attn.bo"),
                   at("ln2.g"),       at("ln2.b"),       at("ffn.w1"),      at("ffn.b1"),
                   at("ffn.w2"),      at("ffn.b2")};
    }
    silent.assign(static_cast<std::size_t>(n_layers) * n_heads, 0);
    scored_layer.assign(n_layers, 0);
    if (uniform.empty()) uniform.assign(silent.size(), 0);
    for (int l = 0; l < n_layers; ++l) {
      const Layer& lw = layers[l];
      const int C = lw.wqkv->cols, dh = C / n_heads;
      for (int h = 0; h < n_heads; ++h) {
        bool values_zero = true, output_zero = true;
        for (int r = 2 * C + h * dh; r < 2 * C + (h + 1) * dh; ++r) {
          for (int c = 0; c < C; ++c)
            values_zero = values_zero && lw.wqkv->w[static_cast<std::size_t>(r) * C + c] == 0;
          values_zero = values_zero && (!lw.bqkv || lw.bqkv->w[r] == 0);
        }
        for (int r = 0; r < lw.wo->rows; ++r)
          for (int c = h * dh; c < (h + 1) * dh; ++c)
            output_zero = output_zero && lw.wo->w[static_cast<std::size_t>(r) * C + c] == 0;
        // Zero queries or zero keys (without qk-norm, which would add its bias): every score
        // is an exact 0, so every visible key is attended, as by a uniform head.
        auto part_zero = [&](int part) {
          for (int r = part * C + h * dh; r < part * C + (h + 1) * dh; ++r) {
            if (lw.bqkv && lw.bqkv->w[r] != 0) return false;
            for (int c = 0; c < C; ++c)
              if (lw.wqkv->w[static_cast<std::size_t>(r) * C + c] != 0) return false;
          }
          return true;
        };
        const std::size_t head = static_cast<std::size_t>(l) * n_heads + h;
        silent[head] = values_zero || output_zero;
        if (!qk_norm && !sparsemax && (part_zero(0) || part_zero(1))) uniform[head] = 1;
        const bool all_keys = uniform[head];
        if ((!silent[head] && !all_keys) || sparsemax) scored_layer[l] = 1;
      }
    }
  }
};

namespace detail {

// Row ids: rows with equal ids are provably equal. Exact rows are identified by value, others
// by the operation and the ids of its inputs (every operation is a function of its inputs).
// Ids start at `first`, so two interners with distant starts never share an id.
template <class A>
class RowIds {
 public:
  explicit RowIds(int first = 0) : first_(first), next_(first) {}
  int of(const std::vector<typename A::Iv>& row, std::initializer_list<long> structure) {
    if (exact(row)) return of_value(row);
    scratch_.assign(structure);
    return of_structure(scratch_);
  }
  int of(const std::vector<typename A::Iv>& row, const std::vector<long>& structure) {
    return exact(row) ? of_value(row) : of_structure(structure);
  }
  std::size_t size() const { return static_cast<std::size_t>(next_ - first_); }
  // Forgets every id (the tables keep their storage).
  void reset() {
    exact_.clear(), structural_.clear();
    next_ = first_;
  }

 private:
  // Double rows by their bits in a flat table; rationals in an ordered map.
  static constexpr bool kBits = std::is_same_v<typename A::Num, double>;
  static bool exact(const std::vector<typename A::Iv>& row) {
    return std::all_of(row.begin(), row.end(), [](const auto& x) { return x.exact(); });
  }
  int of_value(const std::vector<typename A::Iv>& row) {
    auto& key = value_scratch_;
    key.clear();
    for (const auto& x : row) key.push_back(x.lo);
    if constexpr (kBits) {
      if (const int* found = exact_.find(key)) return *found;
      exact_.insert(key, next_);
    } else {
      if (auto it = exact_.find(key); it != exact_.end()) return it->second;
      exact_.emplace(key, next_);
    }
    return next_++;
  }
  int of_structure(const std::vector<long>& structure) {
    if (const int* found = structural_.find(structure)) return *found;
    structural_.insert(structure, next_);
    return next_++;
  }
  std::vector<long> scratch_;
  std::vector<typename A::Num> value_scratch_;
  std::conditional_t<kBits, SpanTable, typename A::ExactRows> exact_;
  SpanTable structural_;
  int first_, next_;
};
constexpr int kWordIds = 1 << 30;  // the per-word interner's first id (tables' ids are below)
constexpr std::size_t kMaxReadouts = 1 << 16;
constexpr std::size_t kFewRuns = 8;  // a selection's distinct ids, merged by insertion
// The memo's bound per thread, in intervals (4 MB of double intervals: larger memos measured
// slower, from cache misses and page faults; the interner's bound, 200,000 ids, clears it too).
constexpr std::size_t kMemoIntervals = 1 << 18;

enum Op : long { kEmbed, kNorm1, kHeads, kGate, kOut, kNorm2, kFfn };

template <class Iv>
struct RowT {
  std::vector<Iv> v;
  int id = -1;  // -1: not interned (nothing compares it)
};

// The first layer's rows at one (position, token): functions of the embedding alone, so
// computed once per length and shared by every word.
template <class Iv>
struct FirstLayerRow {
  bool ready = false;
  RowT<Iv> x, a_in;     // the residual stream; the attention's input (after a pre-norm)
  std::vector<Iv> qkv;  // queries, keys, values (after qk-norm)
};

// What a thread keeps between words of one evaluator.
//  - Tables for the current length: the first layer per (position, token) ("entries"), and its
//    attention scores per (query entry, key entry, head), filled on first use.
//  - For a causal circuit, the rows of layers >= 1 of the previous word: positions 0..t depend
//    only on the first t symbols, so the next word (in enumeration order) recomputes only the
//    positions after the common prefix.
template <class A>
struct PassCache {
  using Iv = typename A::Iv;
  bool many_words = true;  // off for a one-off word, where tables would not pay
  const void* owner = nullptr;
  int len = -1;                                 // the tables' length (BOS + word + EOS); -1: empty
  std::vector<FirstLayerRow<Iv>> first;         // [position * tokens + token]
  std::vector<std::vector<Iv>> first_scores;    // [query entry][key entry * heads + head]
  std::vector<std::vector<char>> first_scored;  // [query entry][key entry]
  RowIds<A> table_ids;
  // One-layer circuits: the logit per (readout entry, selected keys), for the current length.
  std::unordered_map<std::vector<long>, BasicInterval<typename A::Num>, WordsHash<long>> readouts;
  long readout_lookups = 0, readout_hits = 0;
  // Positions [0, prefix_rows) of layers >= 1 hold the rows of `word`'s prefix. A word that
  // ends Undecided keeps the positions it did not recompute, so that the next word (often its
  // sibling in enumeration order) still shares them.
  int prefix_rows = 0;
  Word word;
  // Hash-consing between words (many_words, circuits of two or more layers): a row is a
  // function of its structure — an attention output of the row ids its heads select, a
  // block's output of its attention output's, attention input's and residual's ids, the next
  // layer's queries, keys and values of the residual's id — so a structure seen before gives
  // its row without computing it. Ids and memo are per length and cleared together (the
  // interner's bound), so a stored id never outlives its rows. Each kind switches itself off
  // for the length once most of its lookups miss.
  struct MemoUse {
    long lookups = 0, hits = 0;
    bool on() const { return lookups < 4096 || hits * 4 >= lookups; }
    void count(bool hit) { ++lookups, hits += hit; }
  };
  struct Projected {
    RowT<Iv> a_in;
    std::vector<Iv> qkv;
  };
  SpanTable attention_memo, block_memo;  // -> memo_rows
  SpanTable projection_memo;             // -> projected
  SpanTable logit_memo;                  // -> logits: the single readout's logit
  // Stored rows; cleared by count (memo_used), so their vectors keep their storage.
  std::deque<RowT<Iv>> memo_rows;  // stable references
  std::vector<Projected> projected;
  std::vector<BasicInterval<typename A::Num>> logits;
  std::size_t memo_used = 0, projected_used = 0;
  std::vector<MemoUse> attention_use, block_use, projection_use;  // [layer]
  MemoUse logit_use;
  std::vector<long> key;                       // scratch: a lookup's structure
  std::vector<long> sorted_ids;                // scratch: one head's selection, sorted
  std::vector<std::pair<long, long>> id_runs;  // scratch: one head's selection as (id, count)
  RowT<Iv> attention_scratch;                  // an attention output the memo does not keep
  int store(const RowT<Iv>& row) {
    if (memo_used < memo_rows.size())
      memo_rows[memo_used] = row;
    else
      memo_rows.push_back(row);
    return static_cast<int>(memo_used++);
  }
  int store(const RowT<Iv>& a_in, const std::vector<Iv>& qkv) {
    if (projected_used == projected.size()) projected.emplace_back();
    projected[projected_used].a_in = a_in, projected[projected_used].qkv = qkv;
    return static_cast<int>(projected_used++);
  }
  std::size_t memo_intervals() const {
    std::size_t total = 0;
    if (memo_used) total += memo_used * memo_rows.front().v.size();
    if (projected_used) total += projected_used * 4 * projected.front().a_in.v.size();
    return total;
  }
  void clear_memo() {
    attention_memo.clear(), block_memo.clear(), projection_memo.clear(), logit_memo.clear();
    memo_used = projected_used = 0;
    logits.clear();
    attention_use.clear(), block_use.clear(), projection_use.clear(), logit_use = {};
  }
  std::vector<std::vector<RowT<Iv>>> x, a_in;     // [layer][position], layers >= 1
  std::vector<std::vector<std::vector<Iv>>> qkv;  // [layer][position], layers >= 1
  // [layer][position], layers >= 1: the row's queries, keys and values, in qkv or in the
  // memo's `projected` (not copied out: its vectors keep their buffers until clear_memo, and
  // a cleared memo recomputes every position).
  std::vector<std::vector<const Iv*>> qkv_at;
  RowIds<A> ids{kWordIds};
  // A pass's scratch, kept here so that a word allocates none of it.
  std::vector<int> entry;                      // [position]: position * tokens + token
  std::vector<Iv> scores;                      // one query's scores [key * heads + head]
  std::vector<std::vector<int>> head_winners;  // [head]: the attended keys
  std::vector<const Iv*> values;               // the winners' value rows at one head
  std::vector<long> selection;                 // the readout's key, see Pass::logit
  std::vector<RowT<Iv>> final_rows;            // [position]: the last layer's outputs
  std::vector<Iv> sparse_scores;               // sparsemax: one head's scaled scores [key]
  std::vector<int> sparse_order;               // sparsemax: keys by score, descending
};

// One word through the circuit in arithmetic A (Undecided when a decision cannot be made).
template <class A>
class Pass {
 public:
  using Num = typename A::Num;
  using Iv = typename A::Iv;
  using Matrix = ExactEvaluator::Matrix<Num>;
  using Weights = ExactEvaluator::Weights<Num>;
  using Row = RowT<Iv>;
  using Ids = RowIds<A>;

  Pass(const Circuit& circuit, const Weights& weights, PassCache<A>& cache)
      : cfg_(circuit.config),
        tie_(circuit.tie.hard),
        w_(weights),
        cache_(cache),
        tokens_(circuit.alphabet.size() + 2),
        C_(cfg_.d_model),
        H_(cfg_.n_heads),
        dh_(C_ / H_),
        entry_(cache.entry),
        scores_(cache.scores),
        head_winners_(cache.head_winners),
        values_(cache.values),
        selection_(cache.selection) {
    pre_ = cfg_.has_norm_layers() && cfg_.norm_position == nets::NormPosition::pre;
    post_ = cfg_.has_norm_layers() && cfg_.norm_position == nets::NormPosition::post;
  }

  // The accept logit (recognize) or the next-symbol logit of the word's end.
  BasicInterval<Num> logit(const Word& word);

 private:
  // The fast path's reasons are never reported (run() re-evaluates its undecided words with
  // rationals), so it does not format them: ties send many words of some circuits there.
  template <class Reason>
  static Undecided undecided(Reason&& reason) {
    if constexpr (std::is_same_v<A, DoubleArith>)
      return Undecided{"fast path"};  // short: no allocation
    else
      return Undecided{reason()};
  }
  static Iv checked(Iv v) {
    A::check(v);
    return v;
  }
  static int intern(Ids* ids, const std::vector<Iv>& v, std::initializer_list<long> structure) {
    return ids ? ids->of(v, structure) : -1;
  }
  std::vector<Iv> linear(const std::vector<Iv>& x, const Matrix& w, const Matrix* b, int row0,
                         int rows) const {
    auto out = A::linear(x, w, b, row0, rows);
    for (const auto& v : out) A::check(v);
    return out;
  }
  std::vector<Iv> normalize(const Iv* x, int size, nets::NormKind kind, const Matrix* gain,
                            const Matrix* bias, const char* which, int layer) const;
  Row norm_row(const Row& x, const Matrix* gain, const Matrix* bias, const char* which, Op op,
               int layer, Ids* ids) const {
    Row out;
    out.v = normalize(x.v.data(), C_, cfg_.norm, gain, bias, which, layer);
    out.id = intern(ids, out.v, {op, layer, x.id});
    return out;
  }
  // Queries, keys, values of an attention input row; qk-norm per head on queries and keys.
  std::vector<Iv> project(const std::vector<Iv>& a_in, int l) const;
  void prepare_tables(int len);
  FirstLayerRow<Iv>& first_row(int t, int token);
  const Row& x(int l, int t) const { return l == 0 ? first_at(t).x : cache_.x[l][t]; }
  const Row& a_in(int l, int t) const { return l == 0 ? first_at(t).a_in : cache_.a_in[l][t]; }
  const Iv* qkv(int l, int t) const {
    return l == 0 ? first_at(t).qkv.data() : cache_.qkv_at[l][t];
  }
  const FirstLayerRow<Iv>& first_at(int t) const { return cache_.first[entry_[t]]; }
  void score_keys(int l, int i, int visible);
  void maxima(int l, int h, int i, int visible, std::vector<int>& winners);
  void select(int l, int i, std::vector<long>* selection);
  Row average(int l);
  Row sparsemax_attend(int l, int i, Ids* ids);
  Row attend(int l, int i, Ids* ids);
  const Row& attend_memo(int l, int i, Ids* ids);
  Row block(int l, int i, Row att, Ids* ids);
  void next_row(int l, int i, Row& out);
  void project_row(int l, int t);
  BasicInterval<Num> final_logit(int l, int row);
  BasicInterval<Num> readout(std::vector<Row>& final_rows, int readout_row, bool single);

  const nets::ModelConfig& cfg_;
  const nets::HardAttention tie_;
  const Weights& w_;
  PassCache<A>& cache_;
  const int tokens_, C_, H_, dh_;
  bool pre_ = false, post_ = false;
  int len_ = 0;
  bool use_score_table_ = false;
  bool memo_ = false;  // hash-consing between words (PassCache's memo)
  std::vector<int>& entry_;
  std::vector<Iv>& scores_;
  std::vector<std::vector<int>>& head_winners_;
  std::vector<const Iv*>& values_;
  std::vector<long>& selection_;
};

// nets/norm.h over x[0..size): y = (x - m) r, r = 1/sqrt(|x - m|^2 / size + c), then affine.
template <class A>
std::vector<typename A::Iv> Pass<A>::normalize(const Iv* x, int size, nets::NormKind kind,
                                               const Matrix* gain, const Matrix* bias,
                                               const char* which, int layer) const {
  const Iv zero = A::point(A::zero());
  Iv m = zero;
  if (nets::centred(kind)) {
    for (int i = 0; i < size; ++i) m = A::add(m, x[i]);
    m = A::divide(m, size);
  }
  std::vector<Iv> y(size);
  for (int i = 0; i < size; ++i) y[i] = A::sub(x[i], m);
  if (nets::scaled(kind)) {
    Iv q = zero;
    for (int i = 0; i < size; ++i) q = A::add(q, A::square(y[i]));
    q = A::divide(q, size);
    const Iv eps = A::point(Num(cfg_.norm_eps));  // exact: a double is a dyadic rational
    q = A::add(q, kind == nets::NormKind::scale ? A::divide(eps, size) : eps);
    Iv r;
    if (q.hi == 0) {
      r = zero;  // a zero row at eps = 0: nets outputs 0
    } else if (q.lo <= 0) {
      throw Undecided{fmt::format("{}{}: the norm's input may be zero (its interval contains 0)",
                                  layer < 0 ? "" : fmt::format("layer {} ", layer), which)};
    } else {
      r = A::rsqrt(q);
    }
    for (auto& v : y) v = A::mul(v, r);
  }
  for (int i = 0; i < size; ++i) {
    if (gain) y[i] = A::add(A::scale(y[i], gain->w[i]), bias ? A::point(bias->w[i]) : zero);
    A::round(y[i]);
    A::check(y[i]);
  }
  return y;
}

template <class A>
std::vector<typename A::Iv> Pass<A>::project(const std::vector<Iv>& a_in, int l) const {
  const auto& lw = w_.layers[l];
  auto qkv = linear(a_in, *lw.wqkv, lw.bqkv, 0, 3 * C_);
  if (cfg_.qk_norm)
    for (int part = 0; part < 2; ++part)
      for (int h = 0; h < H_; ++h) {
        // The qk-norm gains are per head-width, shared over heads.
        const int at = part * C_ + h * dh_;
        auto y = normalize(qkv.data() + at, dh_, nets::NormKind::layernorm,
                           part == 0 ? lw.q_ln_g : lw.k_ln_g, part == 0 ? lw.q_ln_b : lw.k_ln_b,
                           "qk-norm", l);
        std::copy(y.begin(), y.end(), qkv.begin() + at);
      }
  return qkv;
}

template <class A>
void Pass<A>::prepare_tables(int len) {
  len_ = len;
  const int entries = len * tokens_;
  // Scores cost entries^2 x heads intervals at most; bounded, else computed per word.
  use_score_table_ = cache_.many_words && static_cast<long>(entries) * entries * H_ <= (1L << 20);
  if (cache_.owner == &w_ && cache_.len == len) return;
  cache_.owner = &w_;
  cache_.len = len;
  cache_.first.assign(entries, {});
  cache_.first_scores.assign(entries, {});
  cache_.first_scored.assign(entries, {});
  cache_.table_ids.reset();
  cache_.readouts.clear();
  cache_.readout_lookups = cache_.readout_hits = 0;
  cache_.prefix_rows = 0;
  cache_.ids.reset();
  cache_.clear_memo();
}

template <class A>
FirstLayerRow<typename A::Iv>& Pass<A>::first_row(int t, int token) {
  auto& e = cache_.first[static_cast<std::size_t>(t) * tokens_ + token];
  if (e.ready) return e;
  e.x.v.resize(C_);
  for (int c = 0; c < C_; ++c) {
    Iv v = A::point(w_.wte->w[static_cast<std::size_t>(token) * C_ + c]);
    if (cfg_.positional == nets::Positional::learned)
      v = A::add(v, A::point(w_.wpe->w[static_cast<std::size_t>(t) * C_ + c]));
    else if (cfg_.positional == nets::Positional::sinusoidal)
      v = A::add(v, A::point(w_.sinusoidal->w[static_cast<std::size_t>(t) * C_ + c]));
    else if (cfg_.positional == nets::Positional::fraction)
      v = A::add(v, A::divide(A::scale(A::point(w_.wfrac->w[c]), Num(t)), len_));
    e.x.v[c] = v;
  }
  e.x.id = cache_.table_ids.of(e.x.v, {kEmbed, token, t});
  const auto& lw = w_.layers[0];
  e.a_in = pre_ ? norm_row(e.x, lw.ln1_g, lw.ln1_b, "ln1", kNorm1, 0, &cache_.table_ids) : e.x;
  e.qkv = project(e.a_in.v, 0);
  e.ready = true;
  return e;
}

// scores_[j * heads + h] = q_i . k_j for the keys j < visible of query i at layer l (the
// positive 1/sqrt(dh) factor changes no argmax). The first layer's come from the score table:
// both rows are table entries.
template <class A>
void Pass<A>::score_keys(int l, int i, int visible) {
  scores_.resize(static_cast<std::size_t>(visible) * H_);
  if (!w_.scored_layer[l]) return;  // every head uniform or silent: no score is read
  auto dots = [&](int j, Iv* out) {
    for (int h = 0; h < H_; ++h) {
      const std::size_t head = static_cast<std::size_t>(l) * H_ + h;
      if ((w_.silent[head] || w_.uniform[head]) && !w_.sparsemax) {
        out[h] = A::point(A::zero());  // never read
        continue;
      }
      out[h] = checked(A::dot(qkv(l, i) + h * dh_, qkv(l, j) + C_ + h * dh_, dh_));
    }
  };
  if (l > 0 || !use_score_table_) {
    for (int j = 0; j < visible; ++j) dots(j, scores_.data() + static_cast<std::size_t>(j) * H_);
    return;
  }
  const int qe = entry_[i];
  auto& scored = cache_.first_scored[qe];
  auto& table = cache_.first_scores[qe];
  if (scored.empty()) {
    scored.assign(cache_.first.size(), 0);
    table.resize(cache_.first.size() * H_);
  }
  for (int j = 0; j < visible; ++j) {
    Iv* row = table.data() + static_cast<std::size_t>(entry_[j]) * H_;
    if (!scored[entry_[j]]) dots(j, row), scored[entry_[j]] = 1;
    std::copy(row, row + H_, scores_.data() + static_cast<std::size_t>(j) * H_);
  }
}

// winners = the keys j < visible whose score (scores_) is provably maximal, in position
// order. Keys with equal attention-input ids have equal true scores, so their intervals
// overlap; hence a key whose upper end is below the largest lower end has a different row
// and provably loses. Every other key must provably win (>= every key of another row), else
// the maximum is undecided.
//   With a tolerance t > 0 the attended keys are those with score >= maximum - t: a key is in
// when its lower end clears the threshold's upper end, out when its upper end is below the
// threshold's lower end, and undecided otherwise. A uniform head attends to every visible key.
template <class A>
void Pass<A>::maxima(int l, int h, int i, int visible, std::vector<int>& winners) {
  winners.clear();
  const std::size_t head = static_cast<std::size_t>(l) * H_ + h;
  if (w_.silent[head]) return;  // no keys: its output is zero whatever it attends to
  if (w_.uniform[head]) {
    for (int j = 0; j < visible; ++j) winners.push_back(j);
    return;
  }
  auto score = [&](int j) -> const Iv& { return scores_[static_cast<std::size_t>(j) * H_ + h]; };
  Num top_lo = score(0).lo, top_hi = score(0).hi;
  for (int j = 1; j < visible; ++j) {
    top_lo = std::max(top_lo, score(j).lo);
    top_hi = std::max(top_hi, score(j).hi);
  }
  if (!w_.tolerance.empty() && w_.tolerance[head] > 0) {
    const Iv floor = A::sub(Iv{top_lo, top_hi}, A::point(w_.tolerance[head]));
    for (int j = 0; j < visible; ++j) {
      if (score(j).hi < floor.lo) continue;
      if (score(j).lo < floor.hi)
        throw undecided([&] {
          return fmt::format(
              "layer {} head {} query {}: the score of key {} is not separated from the "
              "tolerance's threshold",
              l, h, i, j);
        });
      winners.push_back(j);
    }
    return;
  }
  // A key that may not lose must be >= every key of another row: the largest upper end over
  // the other rows is the largest one overall unless that key is of the same row, then the
  // largest among the other rows (the two largest upper ends of distinct rows suffice).
  Num first_hi = score(0).hi, second_hi = first_hi;
  int first_id = a_in(l, 0).id;
  bool second = false;
  for (int j = 1; j < visible; ++j) {
    const Num& hi = score(j).hi;
    const int id = a_in(l, j).id;
    if (id == first_id) {
      first_hi = std::max(first_hi, hi);
    } else if (hi > first_hi) {
      second_hi = first_hi, second = true;
      first_hi = hi, first_id = id;
    } else if (!second || hi > second_hi) {
      second_hi = hi, second = true;
    }
  }
  for (int j = 0; j < visible; ++j) {
    if (score(j).hi < top_lo) continue;
    if (score(j).lo < top_hi) {
      const bool leader = a_in(l, j).id == first_id;
      if ((!leader || second) && score(j).lo < (leader ? second_hi : first_hi))
        throw undecided([&] {
          return fmt::format(
              "layer {} head {} query {}: the score of key {} is not separated from the maximum", l,
              h, i, j);
        });
    }
    winners.push_back(j);
  }
}

// The keys each head of query i at layer l attends to (head_winners_): the maxima, narrowed by
// the tie rule. Appends to `selection` (when given) each head's keys as sorted row ids after a
// -1: the attention output is a function of them.
template <class A>
void Pass<A>::select(int l, int i, std::vector<long>* selection) {
  const int visible = cfg_.causal ? i + 1 : len_;
  score_keys(l, i, visible);
  head_winners_.resize(H_);
  for (int h = 0; h < H_; ++h) {
    auto& winners = head_winners_[h];
    maxima(l, h, i, visible, winners);
    if (!winners.empty() && tie_ == nets::HardAttention::leftmost) winners.resize(1);
    if (!winners.empty() && tie_ == nets::HardAttention::rightmost) winners = {winners.back()};
    if (selection) {
      // The keys' row ids as a multiset: (id, count) runs in id order. Where few ids recur
      // (circuits without positions: a handful of rows), by insertion into the short list of
      // runs; else sorted.
      selection->push_back(-1);
      auto& runs = cache_.id_runs;
      runs.clear();
      std::size_t w = 0;
      for (; w < winners.size(); ++w) {
        const long id = a_in(l, winners[w]).id;
        auto at = runs.begin();
        while (at != runs.end() && at->first < id) ++at;
        if (at != runs.end() && at->first == id)
          ++at->second;
        else if (runs.size() < kFewRuns)
          runs.insert(at, {id, 1});
        else
          break;
      }
      if (w < winners.size()) {
        auto& ids = cache_.sorted_ids;
        ids.clear();
        for (int j : winners) ids.push_back(a_in(l, j).id);
        std::sort(ids.begin(), ids.end());
        runs.clear();
        for (std::size_t r = 0; r < ids.size();) {
          std::size_t end = r + 1;
          while (end < ids.size() && ids[end] == ids[r]) ++end;
          runs.push_back({ids[r], static_cast<long>(end - r)});
          r = end;
        }
      }
      for (const auto& [id, count] : runs) selection->push_back(id), selection->push_back(count);
    }
  }
}

// Average-hard attention at layer l over the keys select() chose: each head's mean value.
template <class A>
typename Pass<A>::Row Pass<A>::average(int l) {
  Row att;
  att.v.resize(C_);
  for (int h = 0; h < H_; ++h) {
    if (head_winners_[h].empty()) {  // a silent head
      std::fill_n(att.v.begin() + h * dh_, dh_, A::point(A::zero()));
      continue;
    }
    values_.clear();
    for (int j : head_winners_[h]) values_.push_back(qkv(l, j) + 2 * C_ + h * dh_);
    // Summed in an order of the rows' values, not of their positions: the mean's enclosure is
    // then a function of the multiset of value rows, the same for every word that selects it
    // (the memo and the row ids rely on it).
    if (values_.size() > 1)
      std::sort(values_.begin(), values_.end(), [&](const Iv* a, const Iv* b) {
        return std::lexicographical_compare(a, a + dh_, b, b + dh_, [](const Iv& x, const Iv& y) {
          return x.lo < y.lo || (x.lo == y.lo && x.hi < y.hi);
        });
      });
    A::mean(values_, dh_, att.v.data() + h * dh_);
  }
  return att;
}

// Sparsemax attention of query i at layer l (Martins & Astudillo 2016): per head, with z the
// scaled scores over the visible keys, weights max(0, z_j - tau), tau = (sum_S z - 1) / |S|.
// The support S is the one the sorted-prefix rule picks on the intervals' midpoints, then proved:
// z_j - tau > 0 on S and <= 0 off S (exactly so for points), else Undecided. The output is a
// function of the query's and the visible keys' rows: its id's structure lists them.
template <class A>
typename Pass<A>::Row Pass<A>::sparsemax_attend(int l, int i, Ids* ids) {
  const int visible = cfg_.causal ? i + 1 : len_;
  score_keys(l, i, visible);
  const Iv factor{w_.score_factor_lo, w_.score_factor_hi};
  const Iv one = A::point(Num(1));
  auto& z = cache_.sparse_scores;
  auto& order = cache_.sparse_order;
  z.resize(visible);
  Row att;
  att.v.assign(C_, A::point(A::zero()));
  for (int h = 0; h < H_; ++h) {
    for (int j = 0; j < visible; ++j)
      z[j] = checked(A::mul(scores_[static_cast<std::size_t>(j) * H_ + h], factor));
    order.resize(visible);
    for (int j = 0; j < visible; ++j) order[j] = j;
    auto twice_mid = [&](int j) -> Num { return z[j].lo + z[j].hi; };
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return twice_mid(a) > twice_mid(b); });
    // k(z) = max{k : 1 + k z_(k) > sum_{m<=k} z_(m)}, on twice the midpoints.
    int support = 1;
    Num cumulative = A::zero();
    for (int m = 1; m <= visible; ++m) {
      const Num mid = twice_mid(order[m - 1]);
      cumulative = cumulative + mid;
      if (Num(2) + Num(m) * mid > cumulative) support = m;
    }
    Iv sum = A::point(A::zero());
    for (int m = 0; m < support; ++m) sum = A::add(sum, z[order[m]]);
    Iv tau = A::divide(A::sub(sum, one), support);
    A::round(tau);
    A::check(tau);
    for (int m = 0; m < visible; ++m) {
      const int j = order[m];
      Iv weight = A::sub(z[j], tau);
      const bool in = m < support;
      if (in ? !(weight.lo > 0) : !(weight.hi <= 0))
        throw Undecided{fmt::format(
            "layer {} head {} query {}: sparsemax cannot decide whether key {} is in the support",
            l, h, i, j)};
      if (!in) continue;
      const Iv* value = qkv(l, j) + 2 * C_ + h * dh_;
      for (int e = 0; e < dh_; ++e) {
        Iv& out = att.v[static_cast<std::size_t>(h) * dh_ + e];
        out = A::add(out, A::mul(weight, value[e]));
      }
    }
  }
  for (auto& v : att.v) {
    A::round(v);
    A::check(v);
  }
  if (ids) {
    std::vector<long> structure = {kHeads, l, -2, a_in(l, i).id};
    for (int j = 0; j < visible; ++j) structure.push_back(a_in(l, j).id);
    att.id = ids->of(att.v, std::move(structure));
  }
  return att;
}

template <class A>
typename Pass<A>::Row Pass<A>::attend(int l, int i, Ids* ids) {
  if (w_.sparsemax) return sparsemax_attend(l, i, ids);
  std::vector<long> structure;
  if (ids) structure = {kHeads, l};
  select(l, i, ids ? &structure : nullptr);
  Row att = average(l);
  if (ids) att.id = ids->of(att.v, std::move(structure));
  return att;
}

// attend() through the memo: the heads' selection (their keys' row ids) is computed, the
// average only where that selection was not seen before.
template <class A>
const typename Pass<A>::Row& Pass<A>::attend_memo(int l, int i, Ids* ids) {
  auto& structure = cache_.key;
  structure.assign({kHeads, l});
  select(l, i, &structure);
  const bool memo = cache_.attention_use[l].on();
  if (memo) {
    const int* found = cache_.attention_memo.find(structure);
    cache_.attention_use[l].count(found != nullptr);
    if (found) return cache_.memo_rows[*found];
  }
  Row att = average(l);
  att.id = ids->of(att.v, structure);
  if (!memo) return cache_.attention_scratch = std::move(att);
  const int at = cache_.store(att);
  cache_.attention_memo.insert(structure, at);
  return cache_.memo_rows[at];
}

// Row i of layer l + 1 (out), through the memo where it is on.
template <class A>
void Pass<A>::next_row(int l, int i, Row& out) {
  Ids* ids = &cache_.ids;
  if (!memo_) {
    out = block(l, i, attend(l, i, ids), ids);
    return;
  }
  const Row& att = w_.sparsemax ? cache_.attention_scratch = sparsemax_attend(l, i, ids)
                                : attend_memo(l, i, ids);
  auto& key = cache_.key;
  key.assign({l, att.id, a_in(l, i).id, x(l, i).id});
  const bool memo = cache_.block_use[l].on();
  if (memo) {
    const int* found = cache_.block_memo.find(key);
    cache_.block_use[l].count(found != nullptr);
    if (found) {
      out = cache_.memo_rows[*found];
      return;
    }
  }
  out = block(l, i, att, ids);
  if (memo) cache_.block_memo.insert(key, cache_.store(out));
}

// Layer l's attention input and its queries, keys and values at position t (l >= 1), from the
// residual stream's row.
template <class A>
void Pass<A>::project_row(int l, int t) {
  const auto& lw = w_.layers[l];
  auto& a_in = cache_.a_in[l][t];
  auto& qkv = cache_.qkv[l][t];
  const Row& x = cache_.x[l][t];
  const bool memo = memo_ && cache_.projection_use[l].on();
  auto& key = cache_.key;
  if (memo) {
    key.assign({l, x.id});
    const int* found = cache_.projection_memo.find(key);
    cache_.projection_use[l].count(found != nullptr);
    if (found) {
      const auto& p = cache_.projected[*found];
      a_in = p.a_in;
      cache_.qkv_at[l][t] = p.qkv.data();
      return;
    }
  }
  a_in = pre_ ? norm_row(x, lw.ln1_g, lw.ln1_b, "ln1", kNorm1, l, &cache_.ids) : x;
  qkv = project(a_in.v, l);
  cache_.qkv_at[l][t] = qkv.data();
  if (memo) {
    key.assign({l, x.id});
    cache_.projection_memo.insert(key, cache_.store(a_in, qkv));
  }
}

// The single readout's logit from row `row` of the last layer l: through the memo where it is
// on, keyed by the ids the block's output is a function of.
template <class A>
BasicInterval<typename A::Num> Pass<A>::final_logit(int l, int row) {
  auto& final_rows = cache_.final_rows;
  if (!memo_ || !cache_.logit_use.on()) {
    // The last layer's rows are compared with nothing: they need no ids.
    final_rows[row] = block(l, row, attend(l, row, nullptr), nullptr);
    return readout(final_rows, row, true);
  }
  Ids* ids = &cache_.ids;
  const Row& att = w_.sparsemax ? cache_.attention_scratch = sparsemax_attend(l, row, ids)
                                : attend_memo(l, row, ids);
  auto& key = cache_.key;
  key.assign({att.id, a_in(l, row).id, x(l, row).id});
  const int* found = cache_.logit_memo.find(key);
  cache_.logit_use.count(found != nullptr);
  if (found) return cache_.logits[*found];
  final_rows[row] = block(l, row, att, nullptr);
  const auto z = readout(final_rows, row, true);
  key.assign({att.id, a_in(l, row).id, x(l, row).id});  // block() may reuse the scratch
  cache_.logit_memo.insert(key, static_cast<int>(cache_.logits.size()));
  cache_.logits.push_back(z);
  return z;
}

// Row i of layer l's output from its attention output: gate, output projection, norms, ReLU FFN.
template <class A>
typename Pass<A>::Row Pass<A>::block(int l, int i, Row att, Ids* ids) {
  const auto& lw = w_.layers[l];
  const Row& in = a_in(l, i);
  const Row& residual = x(l, i);
  if (cfg_.attention_gate) {
    auto gate = linear(in.v, *lw.wgate, lw.bgate, 0, C_);
    for (int c = 0; c < C_; ++c) {
      att.v[c] = A::mul(att.v[c], gate[c]);
      A::round(att.v[c]);
    }
    att.id = intern(ids, att.v, {kGate, l, att.id, in.id});
  }
  Row s1;
  s1.v = linear(att.v, *lw.wo, lw.bo, 0, C_);
  for (int c = 0; c < C_; ++c) s1.v[c] = A::add(s1.v[c], residual.v[c]);
  s1.id = intern(ids, s1.v, {kOut, l, att.id, residual.id});
  Row normed_mid, normed_in;
  const Row& mid =
      post_ ? normed_mid = norm_row(s1, lw.ln1_g, lw.ln1_b, "ln1", kNorm1, l, ids) : s1;
  const Row& f_in =
      pre_ ? normed_in = norm_row(mid, lw.ln2_g, lw.ln2_b, "ln2", kNorm2, l, ids) : mid;
  auto hidden = linear(f_in.v, *lw.w1, lw.b1, 0, cfg_.d_ff);
  for (auto& v : hidden) v = {v.lo > 0 ? v.lo : A::zero(), v.hi > 0 ? v.hi : A::zero()};
  Row s2;
  s2.v = linear(hidden, *lw.w2, lw.b2, 0, C_);
  for (int c = 0; c < C_; ++c) s2.v[c] = A::add(s2.v[c], mid.v[c]);
  s2.id = intern(ids, s2.v, {kFfn, l, f_in.id, mid.id});
  return post_ ? norm_row(s2, lw.ln2_g, lw.ln2_b, "ln2", kNorm2, l, ids) : s2;
}

template <class A>
BasicInterval<typename A::Num> Pass<A>::logit(const Word& word) {
  const int n = static_cast<int>(word.size()), len = n + 2, k = tokens_ - 2;
  prepare_tables(len);
  entry_.resize(len);
  for (int t = 0; t < len; ++t) {
    const int token = t == 0 ? k : t == len - 1 ? k + 1 : word[t - 1];
    entry_[t] = t * tokens_ + token;
    first_row(t, token);
  }
  // Positions [0, keep) of layers >= 1 are still valid in the cache.
  int keep = 0;
  if (cfg_.causal && cache_.prefix_rows > 0 && static_cast<int>(cache_.word.size()) == n) {
    keep = 1;
    while (keep < cache_.prefix_rows && keep <= n && cache_.word[keep - 1] == word[keep - 1])
      ++keep;
  }
  // Without reuse (keep = 0) and without the memo a fresh interner is faster; a shared one is
  // bounded in size, and so is the memo, whose keys are its ids.
  memo_ = cache_.many_words && cfg_.n_layers > 1;
  for (auto* use : {&cache_.attention_use, &cache_.block_use, &cache_.projection_use})
    use->resize(cfg_.n_layers);
  if ((!memo_ && keep == 0 && cache_.ids.size() > 0) || cache_.ids.size() > 200'000 ||
      cache_.memo_intervals() > kMemoIntervals)
    cache_.ids.reset(), cache_.clear_memo(), keep = 0;
  // Until this word is done, only the rows it does not recompute are its own.
  cache_.prefix_rows = keep;
  cache_.word = word;
  for (auto* layers : {&cache_.x, &cache_.a_in}) {
    layers->resize(cfg_.n_layers);
    for (auto& rows : *layers) rows.resize(len);
  }
  cache_.qkv.resize(cfg_.n_layers);
  for (auto& rows : cache_.qkv) rows.resize(len);
  cache_.qkv_at.resize(cfg_.n_layers);
  for (auto& rows : cache_.qkv_at) rows.resize(len);

  // After the last layer's attention only the readout's row matters (bos/eos/next-symbol).
  const bool recognize = cfg_.objective == nets::Objective::recognize;
  const int readout_row = !recognize ? n : cfg_.readout == nets::Readout::bos ? 0 : len - 1;
  const bool single_readout = !recognize || cfg_.readout != nets::Readout::mean;
  auto& final_rows = cache_.final_rows;  // the last layer's outputs (only those needed)
  final_rows.resize(len);
  // A one-layer circuit's single readout is a function of the readout row's entry and the keys
  // each head selects (as row ids, which are stable for the length): words that agree on them
  // share the rest of the computation.
  // Remembering stops for the length once most lookups miss (say, uniform attention over
  // positions: every word selects other keys).
  const bool remember =
      cache_.many_words && cfg_.n_layers == 1 && single_readout && !w_.sparsemax &&
      !(cache_.readout_lookups >= 4096 && cache_.readout_hits * 4 < cache_.readout_lookups);
  BasicInterval<Num> z;
  if (remember) {
    auto& selection = selection_;
    selection.assign(1, entry_[readout_row]);
    select(0, readout_row, &selection);
    ++cache_.readout_lookups;
    if (auto it = cache_.readouts.find(selection); it != cache_.readouts.end()) {
      z = it->second;
      ++cache_.readout_hits;
    } else {
      final_rows[readout_row] = block(0, readout_row, average(0), nullptr);
      z = readout(final_rows, readout_row, true);
      if (cache_.readouts.size() >= kMaxReadouts) cache_.readouts.clear();
      cache_.readouts.emplace(selection, z);
    }
  } else {
    const int last = cfg_.n_layers - 1;
    for (int l = 0; l < last; ++l) {
      if (l > 0)
        for (int t = keep; t < len; ++t) project_row(l, t);
      for (int i = keep; i < len; ++i) next_row(l, i, cache_.x[l + 1][i]);
    }
    if (last > 0)
      for (int t = keep; t < len; ++t) project_row(last, t);
    // The last layer's attention writes no cached row: an Undecided readout (a tie at its
    // maximum) leaves every row of layers >= 1 this word's.
    cache_.prefix_rows = len;
    if (single_readout) {
      z = final_logit(last, readout_row);
    } else {
      // The last layer's rows are compared with nothing: they need no ids.
      for (int i = 0; i < len; ++i)
        final_rows[i] = block(last, i, attend(last, i, nullptr), nullptr);
      z = readout(final_rows, readout_row, false);
    }
  }
  cache_.prefix_rows = len;
  return z;
}

// The logit from the last layer's rows (moved from): the final norm (pre-LN), the readout, the
// head.
template <class A>
BasicInterval<typename A::Num> Pass<A>::readout(std::vector<Row>& final_rows, int readout_row,
                                                bool single) {
  auto final_row = [&](int t) -> std::vector<Iv> {
    return pre_ ? normalize(final_rows[t].v.data(), C_, cfg_.norm, w_.lnf_g, w_.lnf_b, "lnf", -1)
                : std::move(final_rows[t].v);
  };
  std::vector<Iv> r;
  if (single) {
    r = final_row(readout_row);
  } else {
    r.assign(C_, A::point(A::zero()));
    for (int t = 0; t < len_; ++t) {
      const auto f = final_row(t);
      for (int c = 0; c < C_; ++c) r[c] = A::add(r[c], f[c]);
    }
    for (auto& v : r) v = A::divide(v, len_);
  }
  const bool recognize = cfg_.objective == nets::Objective::recognize;
  return linear(r, *w_.head_w, w_.head_b, recognize ? 0 : tokens_ - 2, 1)[0];
}

}  // namespace detail
}  // namespace saturn::saturate
