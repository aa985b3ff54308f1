#include "fer/train/losses.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "fer/core/error.hpp"

namespace fer::train {

ImportanceLoss importance_weighted_loss(const torch::Tensor& logits, const torch::Tensor& alpha,
                                        const torch::Tensor& y, double high_fraction, double margin,
                                        double rank_weight,
                                        const torch::nn::functional::CrossEntropyFuncOptions& ce) {
  FER_CHECK(logits.dim() == 2 && alpha.dim() == 1 && alpha.size(0) == logits.size(0), DataError,
            "importance weighting: {} weights for {} samples", alpha.numel(), logits.size(0));
  FER_CHECK(high_fraction > 0 && high_fraction < 1, ConfigError,
            "importance weighting: the high group's fraction must be in (0, 1), got {}", high_fraction);
  ImportanceLoss out;
  out.weighted_ce = torch::nn::functional::cross_entropy(logits * alpha.unsqueeze(1), y, ce);
  const int64_t n = alpha.size(0);
  if (rank_weight > 0) {
    FER_CHECK(n >= 2, DataError,
              "importance weighting: rank regularisation needs a batch of at least 2, got {}", n);
    const auto sorted = std::get<0>(alpha.sort(/*dim=*/0, /*descending=*/true));
    const int64_t m = std::clamp<int64_t>(std::llround(high_fraction * static_cast<double>(n)), 1, n - 1);
    const auto high = sorted.slice(0, 0, m).mean(), low = sorted.slice(0, m, n).mean();
    out.rank = torch::relu(margin - (high - low));
    out.total = out.weighted_ce + rank_weight * out.rank;
  } else {
    out.rank = torch::zeros({}, logits.options());
    out.total = out.weighted_ce;
  }
  return out;
}

}  // namespace fer::train
