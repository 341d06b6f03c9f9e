#include "saturate/head_roles.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "base/atomic_file.h"
#include "nets/batch.h"
#include "saturate/plot.h"

namespace saturn::saturate {

namespace {

std::string token_name(const Alphabet& alphabet, int token) {
  const int k = alphabet.size();
  return token < k ? alphabet.name(static_cast<Symbol>(token)) : token == k ? "BOS" : "EOS";
}

// What one query row attended to, summarised for pattern counting.
struct RowPatterns {
  std::map<int, long> offsets;                  // single attended position: j - i
  std::map<std::pair<int, int>, long> queries;  // (i, visible keys): where an offset is possible
  long bos = 0, eos = 0;                        // exactly {0}; exactly {len - 1}
  long first = 0, last = 0;  // exactly {1} (the word's first symbol); exactly {n} (its last)
  long every = 0;            // every visible position (uniform averaging)
  std::map<int, long> all_of_token;  // exactly every visible position holding this token
};

}  // namespace

std::string HeadThresholds::describe() const {
  return fmt::format(
      "attended: weight > {:g}; local: mean attended <= {:g}; global: mean fraction >= {:g}; "
      "pattern: covers >= {:g} of queries",
      attended_weight, local_max_attended, global_min_fraction, pattern_share);
}

std::vector<HeadRole> head_roles(nets::Transformer<double>& model, const Alphabet& alphabet,
                                 const std::vector<Example>& probes, const TieRule& tie,
                                 const HeadThresholds& th) {
  require_softmax(model.config());
  tie.apply(model);
  const auto& cfg = model.config();
  const int L = cfg.n_layers, H = cfg.n_heads, k = alphabet.size();
  struct Acc {
    long rows = 0, multiple = 0;
    double attended = 0, attended2 = 0, fraction = 0;
    double visible = 0, visible2 = 0, visible_attended = 0;  // for the slope on visible
    RowPatterns patterns;
  };
  std::vector<Acc> acc(static_cast<std::size_t>(L) * H);
  constexpr std::size_t kBatch = 64;
  for (std::size_t start = 0; start < probes.size(); start += kBatch) {
    const std::vector<Example> chunk(probes.begin() + start,
                                     probes.begin() + std::min(probes.size(), start + kBatch));
    auto batch = inference_batch(chunk, k, cfg.objective);
    model.set_introspection(true);  // keep the attention weights
    model.forward(batch);
    const int Tn = batch.Tn;
    for (int l = 0; l < L; ++l) {
      const auto& att = model.attention_weights(l);
      for (int b = 0; b < batch.B; ++b)
        for (int h = 0; h < H; ++h) {
          Acc& a = acc[static_cast<std::size_t>(l) * H + h];
          const int len = batch.lengths[b];
          const int* tokens = batch.tokens.data() + static_cast<std::size_t>(b) * Tn;
          for (int i = 0; i < len; ++i) {
            const double* w = att.data() + ((static_cast<std::size_t>(b) * H + h) * Tn + i) * Tn;
            const int visible = cfg.causal ? i + 1 : len;
            std::vector<int> attended;
            for (int j = 0; j < visible; ++j)
              if (w[j] > th.attended_weight) attended.push_back(j);
            const double n = static_cast<double>(attended.size());
            ++a.rows;
            ++a.patterns.queries[{i, visible}];
            a.attended += n, a.attended2 += n * n, a.fraction += n / visible;
            a.visible += visible, a.visible2 += static_cast<double>(visible) * visible;
            a.visible_attended += n * visible;
            a.multiple += attended.size() > 1;
            if (attended.size() == 1) {
              ++a.patterns.offsets[attended[0] - i];
              a.patterns.bos += attended[0] == 0;
              a.patterns.eos += attended[0] == len - 1;
              // Absolute positions of the word (BOS is 0): its first symbol and its last.
              a.patterns.first += len >= 3 && attended[0] == 1;
              a.patterns.last += len >= 3 && attended[0] == len - 2;
            }
            a.patterns.every += visible > 1 && static_cast<int>(attended.size()) == visible;
            if (attended.empty()) continue;
            const int token = tokens[attended[0]];
            bool all_of = true;
            std::size_t next = 0;
            for (int j = 0; j < visible && all_of; ++j) {
              const bool in = next < attended.size() && attended[next] == j;
              if (in) ++next;
              all_of = in == (tokens[j] == token);
            }
            if (all_of) ++a.patterns.all_of_token[token];
          }
        }
    }
  }

  std::vector<HeadRole> roles;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) {
      const Acc& a = acc[static_cast<std::size_t>(l) * H + h];
      HeadRole r;
      r.layer = l, r.head = h;
      const double rows = std::max<long>(1, a.rows);
      r.mean_attended = a.attended / rows;
      r.sd_attended =
          std::sqrt(std::max(0.0, a.attended2 / rows - r.mean_attended * r.mean_attended));
      r.p_multiple = a.multiple / rows;
      r.mean_fraction = a.fraction / rows;
      const double mean_visible = a.visible / rows;
      const double var_visible = a.visible2 / rows - mean_visible * mean_visible;
      r.attended_slope =
          var_visible > 1e-12
              ? (a.visible_attended / rows - mean_visible * r.mean_attended) / var_visible
              : 0.0;
      r.label = r.mean_attended <= th.local_max_attended    ? "local"
                : r.mean_fraction >= th.global_min_fraction ? "global"
                                                            : "mixed";
      // The most specific pattern covering the required share of queries.
      auto consider = [&](double share, const std::string& name, int offset) {
        if (share >= th.pattern_share && share > r.pattern_share)
          r.pattern = name, r.offset = offset, r.pattern_share = share;
      };
      consider(a.patterns.bos / rows, "BOS", 0);
      consider(a.patterns.eos / rows, "EOS", 0);
      consider(a.patterns.first / rows, "position 1", 0);
      consider(a.patterns.last / rows, "position n", 0);
      consider(a.patterns.every / rows, "all positions", 0);
      // An offset pattern is judged on the queries where that offset exists (BOS has no
      // previous position), and only when those are most of the queries.
      for (const auto& [off, count] : a.patterns.offsets) {
        long possible = 0;
        for (const auto& [query, n] : a.patterns.queries)
          if (query.first + off >= 0 && query.first + off < query.second) possible += n;
        if (possible < rows / 2) continue;
        consider(static_cast<double>(count) / std::max(1L, possible),
                 off == -1  ? "previous position"
                 : off == 0 ? "itself"
                 : off == 1 ? "next position"
                            : fmt::format("offset {:+d}", off),
                 off);
      }
      if (r.pattern.empty())
        for (const auto& [token, count] : a.patterns.all_of_token)
          consider(count / rows, fmt::format("all `{}`s", token_name(alphabet, token)), 0);
      roles.push_back(r);
    }
  return roles;
}

std::vector<double> soft_attention_entropy(nets::Transformer<double>& model, int num_symbols,
                                           const std::vector<Example>& probes) {
  require_softmax(model.config());
  const auto& cfg = model.config();
  const int L = cfg.n_layers, H = cfg.n_heads;
  std::vector<double> sum(static_cast<std::size_t>(L) * H, 0.0);
  long rows = 0;
  constexpr std::size_t kBatch = 64;
  for (std::size_t start = 0; start < probes.size(); start += kBatch) {
    const std::vector<Example> chunk(probes.begin() + start,
                                     probes.begin() + std::min(probes.size(), start + kBatch));
    auto batch = inference_batch(chunk, num_symbols, cfg.objective);
    model.set_introspection(true);
    model.forward(batch);
    const int Tn = batch.Tn;
    for (int b = 0; b < batch.B; ++b) {
      const int len = batch.lengths[b];
      for (int i = 0; i < len; ++i) {
        const int visible = cfg.causal ? i + 1 : len;
        if (visible < 2) continue;
        ++rows;
        for (int l = 0; l < L; ++l) {
          const auto& att = model.attention_weights(l);
          for (int h = 0; h < H; ++h) {
            const double* w = att.data() + ((static_cast<std::size_t>(b) * H + h) * Tn + i) * Tn;
            double entropy = 0;
            for (int j = 0; j < visible; ++j)
              if (w[j] > 0) entropy -= w[j] * std::log(w[j]);
            sum[static_cast<std::size_t>(l) * H + h] += entropy / std::log(visible);
          }
        }
      }
    }
  }
  for (double& v : sum) v /= std::max(1L, rows);
  return sum;
}

bool write_attention_svg(const std::filesystem::path& path, nets::Transformer<double>& model,
                         const Alphabet& alphabet, const Word& word, const TieRule& tie) {
  const auto& cfg = model.config();
  const int k = alphabet.size(), L = cfg.n_layers, H = cfg.n_heads;
  const std::vector<Example> one = {{word, 0, std::nullopt}};
  auto batch = inference_batch(one, k, cfg.objective);
  const int n = batch.lengths[0], Tn = batch.Tn;
  std::vector<std::vector<double>> soft(L), hard(L);
  const nets::AttentionSpec original = model.attention();
  nets::AttentionSpec spec = original;
  spec.hard = nets::HardAttention::none;
  spec.score_scale = cfg.attention_scale;
  model.set_attention(spec);
  model.set_introspection(true);  // keep the attention weights
  model.forward(batch);
  for (int l = 0; l < L; ++l)
    soft[l].assign(model.attention_weights(l).begin(), model.attention_weights(l).end());
  tie.apply(model);
  model.forward(batch);
  for (int l = 0; l < L; ++l)
    hard[l].assign(model.attention_weights(l).begin(), model.attention_weights(l).end());
  model.set_attention(original);

  // One gnuplot data block per panel (layer, head, soft | saturated): "key query weight".
  std::string data;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h)
      for (int which = 0; which < 2; ++which) {
        const auto& att = which == 0 ? soft[l] : hard[l];
        for (int i = 0; i < n; ++i) {
          for (int j = 0; j < n; ++j)
            data += fmt::format("{} {} {:.6g}\n", j, i,
                                att[(static_cast<std::size_t>(h) * Tn + i) * Tn + j]);
          data += "\n";
        }
        data += "\n\n";
      }
  auto quoted = [](std::string s) {
    for (char& ch : s)
      if (ch == '\'' || ch == '"' || ch == '\\') ch = '`';
    return s;
  };
  std::string text, tics;
  for (int t = 0; t < n; ++t) {
    const std::string name = quoted(token_name(alphabet, batch.tokens[t]));
    text += (t ? " " : "") + name;
    tics += fmt::format("{}'{}' {}", t ? ", " : "", name, t);
  }
  if (text.size() > 120) text = text.substr(0, 117) + "...";
  // Panels of equal size on a grid; one colour box (0..1 on purpose: attention weights are
  // probabilities, and saturated ones are 0 or 1/k) at the right, axis labels on the outer panels.
  const int side = std::max(260, 18 * n + 140);
  const int width = 2 * H * side + 200, height = L * side + 120;
  std::string script = fmt::format(
      "set multiplot layout {},{} title \"attention for the word: {}\\n{}; soft | saturated "
      "per head\" margins screen 0.07, screen {:.4f}, screen {:.4f}, screen {:.4f} spacing "
      "screen {:.4f}, screen {:.4f}\n"
      "set palette gray negative\nset cbrange [0:1]\nunset colorbox\n"
      "set xrange [-0.5:{}]\nset yrange [{}:-0.5]\nset size ratio -1\n"
      "set xtics ({}) rotate by -60 font ',8'\nset ytics ({}) font ',8'\nset title font ',10'\n",
      L, 2 * H, text, quoted(tie.describe()), 1 - 150.0 / width, 70.0 / height, 1 - 80.0 / height,
      40.0 / width, 60.0 / height, n - 0.5, n - 0.5, tics, tics);
  int panel = 0;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h)
      for (int which = 0; which < 2; ++which, ++panel) {
        script += h == 0 && which == 0 ? "set ylabel 'query position (token)'\n" : "unset ylabel\n";
        script += l == L - 1 ? "set xlabel 'key position (token)'\n" : "unset xlabel\n";
        if (panel == 2 * L * H - 1)
          script += fmt::format(
              "set colorbox user origin screen {:.4f}, screen 0.2 size screen {:.4f}, screen "
              "0.6\nset cblabel 'attention weight'\n",
              1 - 115.0 / width, 18.0 / width);
        script += fmt::format(
            "set title 'layer {} head {}: {}'\nplot data index {} using 1:2:3 with image "
            "notitle\n",
            l, h, which == 0 ? "soft" : "saturated", panel);
      }
  script += "unset multiplot\n";
  return gnuplot_figure(path, data, script, {width, height});
}

}  // namespace saturn::saturate
