// Optimisers over the parameter arena (one loop each), learning-rate schedules, gradient
// clipping. Semantics follow PyTorch's SGD, Adam (L2 weight decay added to the gradient) and
// AdamW (decoupled decay), so a saturn step and a torch step agree.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace saturn::nets {

enum class OptimizerKind { sgd, adam, adamw };
enum class Schedule { constant, linear, warmup_linear, warmup_inverse_sqrt };
inline constexpr std::array<const char*, 3> kOptimizerNames = {"sgd", "adam", "adamw"};
inline constexpr std::array<const char*, 4> kScheduleNames = {"constant", "linear", "warmup_linear",
                                                              "warmup_inverse_sqrt"};

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::adam;
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0;
  Schedule schedule = Schedule::constant;
  int warmup_steps = 0;
  int total_steps = 1;
  double grad_clip = 0;  // max global gradient norm; 0: no clipping
};

// Learning rate at step t = 1, 2, ...:
//   constant: lr; linear: lr (1 - (t-1)/T); warmup_linear: linear warm-up over W steps, then
//   linear decay to 0 at T; warmup_inverse_sqrt: lr min(t/W, sqrt(W/t)).
double learning_rate(const OptimizerConfig& config, long step);

class Optimizer {
 public:
  Optimizer(const OptimizerConfig& config, std::size_t num_params);
  // One update at the schedule's rate for the next step; returns that rate.
  double step(std::span<float> params, std::span<const float> grads);
  long steps_taken() const { return t_; }

  // State for checkpoints: moment estimates and the step count.
  std::vector<float> m, v;
  void set_steps_taken(long t) { t_ = t; }

 private:
  OptimizerConfig config_;
  long t_ = 0;
};

// L2 norm of a buffer (double accumulation).
double l2_norm(std::span<const float> x);
// Scales grads so that their global norm is at most max_norm; returns the norm before.
double clip_gradients(std::span<float> grads, double max_norm);

}  // namespace saturn::nets
