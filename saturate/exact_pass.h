// Internals of the exact evaluator (exact_eval.cpp): one word through a circuit in one of the
// arithmetics of interval_arith.h, with what a thread keeps between words (first-layer tables
// per length, causal prefixes, remembered one-layer readouts).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <unordered_map>
#include <vector>

#include "saturate/exact_eval.h"
#include "saturate/interval_arith.h"

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

 private:
  static bool exact(const std::vector<typename A::Iv>& row) {
    return std::all_of(row.begin(), row.end(), [](const auto& x) { return x.exact(); });
  }
  int of_value(const std::vector<typename A::Iv>& row) {
    auto& key = value_scratch_;
    key.clear();
    for (const auto& x : row) key.push_back(x.lo);
    if (auto it = exact_.find(key); it != exact_.end()) return it->second;
    exact_.emplace(key, next_);
    return next_++;
  }
  int of_structure(const std::vector<long>& structure) {
    if (auto it = structural_.find(structure); it != structural_.end()) return it->second;
    structural_.emplace(structure, next_);
    return next_++;
  }
  std::vector<long> scratch_;
  std::vector<typename A::Num> value_scratch_;
  typename A::ExactRows exact_;
  std::unordered_map<std::vector<long>, int, WordsHash<long>> structural_;
  int first_, next_;
};
constexpr int kWordIds = 1 << 30;  // the per-word interner's first id (tables' ids are below)
constexpr std::size_t kMaxReadouts = 1 << 16;
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
  bool prefix_valid = false;
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
  std::unordered_map<std::vector<long>, int, WordsHash<long>> attention_memo;   // -> memo_rows
  std::unordered_map<std::vector<long>, int, WordsHash<long>> block_memo;       // -> memo_rows
  std::unordered_map<std::vector<long>, int, WordsHash<long>> projection_memo;  // -> projected
  std::unordered_map<std::vector<long>, BasicInterval<typename A::Num>, WordsHash<long>>
      logit_memo;                  // the single readout's logit
  std::deque<RowT<Iv>> memo_rows;  // stable references
  std::vector<Projected> projected;
  std::vector<MemoUse> attention_use, block_use, projection_use;  // [layer]
  MemoUse logit_use;
  std::vector<long> key;         // scratch: a lookup's structure
  std::vector<long> sorted_ids;  // scratch: one head's selection, sorted
  RowT<Iv> attention_scratch;    // an attention output the memo does not keep
  std::size_t memo_intervals() const {
    std::size_t total = 0;
    if (!memo_rows.empty()) total += memo_rows.size() * memo_rows.front().v.size();
    if (!projected.empty()) total += projected.size() * 4 * projected.front().a_in.v.size();
    return total;
  }
  void clear_memo() {
