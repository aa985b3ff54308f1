// The learning-rate schedule a TrainConfig describes (no torch: the trainer sets it per epoch).
#include <algorithm>
#include <cmath>

#include "fer/config/config.hpp"

namespace fer::config {

double scheduled_lr(const TrainConfig& t, int epoch, double plateau_scale) {
  if (epoch < t.warmup_epochs) return t.lr * (0.1 + 0.9 * epoch / static_cast<double>(t.warmup_epochs));
  const int e = epoch - t.warmup_epochs;
  const int total = std::max(1, t.epochs - t.warmup_epochs);
  if (t.scheduler == "cosine") return t.min_lr + (t.lr - t.min_lr) * 0.5 * (1.0 + std::cos(M_PI * e / total));
  if (t.scheduler == "step") return t.lr * std::pow(t.gamma, std::max(0, e - t.decay_start) / t.step_size);
  if (t.scheduler == "plateau") return t.lr * plateau_scale;
  return t.lr;
}

}  // namespace fer::config
