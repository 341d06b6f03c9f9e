#include "nets/optim.h"

#include <algorithm>
#include <cmath>

namespace saturn::nets {

double learning_rate(const OptimizerConfig& c, long t) {
  const double T = std::max(1, c.total_steps), W = std::max(1, c.warmup_steps);
  switch (c.schedule) {
    case Schedule::constant:
      return c.lr;
    case Schedule::linear:
      return c.lr * std::max(0.0, 1.0 - (t - 1) / T);
    case Schedule::warmup_linear:
      if (t <= W) return c.lr * t / W;
      return c.lr * std::max(0.0, (T - t) / std::max(1.0, T - W));
    case Schedule::warmup_inverse_sqrt:
      return c.lr * std::min(t / W, std::sqrt(W / t));
  }
  return c.lr;
}

Optimizer::Optimizer(const OptimizerConfig& config, std::size_t n) : config_(config) {
  if (config.kind != OptimizerKind::sgd) {
    m.assign(n, 0.0f);
    v.assign(n, 0.0f);
  }
}

double Optimizer::step(std::span<float> params, std::span<const float> grads) {
  ++t_;
  const double lr = learning_rate(config_, t_);
  const float wd = static_cast<float>(config_.weight_decay), flr = static_cast<float>(lr);
  const std::size_t n = params.size();
  if (config_.kind == OptimizerKind::sgd) {
    for (std::size_t i = 0; i < n; ++i) params[i] -= flr * (grads[i] + wd * params[i]);
    return lr;
  }
  const float b1 = static_cast<float>(config_.beta1), b2 = static_cast<float>(config_.beta2);
  const float bc1 = static_cast<float>(1.0 - std::pow(config_.beta1, t_));
  const float bc2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(config_.beta2, t_)));
  const float eps = static_cast<float>(config_.eps);
  const bool decoupled = config_.kind == OptimizerKind::adamw;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (std::size_t i = 0; i < n; ++i) {
    float g = grads[i];
    if (decoupled)
      params[i] -= flr * wd * params[i];
    else
      g += wd * params[i];
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    // torch: p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
    params[i] -= (flr / bc1) * m[i] / (std::sqrt(v[i]) / bc2_sqrt + eps);
  }
  return lr;
}

double l2_norm(std::span<const float> x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return std::sqrt(s);
}

double clip_gradients(std::span<float> grads, double max_norm) {
  const double norm = l2_norm(grads);
  if (max_norm > 0 && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));
    for (auto& g : grads) g *= scale;
  }
  return norm;
}

}  // namespace saturn::nets
