// Head roles in a saturated network (Merrill et al. 2021, §"saturated attention heads"): how
// many positions each head attends to, and a label from stated thresholds.
//   local:  mean attended positions <= local_max_attended
//   global: mean attended fraction of the visible positions >= global_min_fraction (uniform
//           averaging, which lets a network count)
//   mixed:  otherwise
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "saturate/saturation.h"

namespace saturn::saturate {

struct HeadThresholds {
  double attended_weight = 1e-5;     // a position is attended when its weight exceeds this
  double local_max_attended = 2.0;   // local: mean attended positions at most this
  double global_min_fraction = 0.9;  // global: mean attended fraction at least this
  double pattern_share = 0.9;  // a pattern names the head when it covers this share of queries
  std::string describe() const;
};

struct HeadRole {
  int layer = 0, head = 0;
  double mean_attended = 0, p_multiple = 0, sd_attended = 0, mean_fraction = 0;
  // Least-squares slope of the attended positions on the visible positions over every query:
  // about 0 for a head that attends a fixed number of positions, 1 for uniform averaging over
  // every visible position, the subset's share for a counting head over a subset (all `a`s).
  double attended_slope = 0;
  std::string label;    // local, global, mixed
  std::string pattern;  // e.g. "previous position", "BOS", "all `a`s"; empty if none dominates
  int offset = 0;       // for pattern "offset": the relative position j - i attended
  double pattern_share = 0;
};

// Statistics over every real query position of every probe word, under the saturated network
// of `model` with the tie rule (the model's attention spec is changed).
std::vector<HeadRole> head_roles(nets::Transformer<double>& model, const Alphabet& alphabet,
                                 const std::vector<Example>& probes, const TieRule& tie,
                                 const HeadThresholds& thresholds = {});

// Per head (layer-major), the mean over query rows with at least two visible positions of the
// soft attention's entropy divided by log(visible positions): 0 for a head that puts all its
// weight on one position, 1 for uniform weights. `model` must be a softmax model with its soft
// attention (as double_model returns it). One forward pass per 64 probes.
std::vector<double> soft_attention_entropy(nets::Transformer<double>& model, int num_symbols,
                                           const std::vector<Example>& probes);

// Attention heat maps for one word: for each layer and head, the soft weights beside the
// saturated ones (grey levels, rows = queries, columns = keys), as `path` (SVG) and the PNG beside
// it, through gnuplot_figure. Returns false when gnuplot is not installed (nothing written).
bool write_attention_svg(const std::filesystem::path& path, nets::Transformer<double>& model,
                         const Alphabet& alphabet, const Word& word, const TieRule& tie);

}  // namespace saturn::saturate
