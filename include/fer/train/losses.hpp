#pragma once
// Training losses beyond plain cross-entropy.
#include <torch/nn/functional/loss.h>
#include <torch/types.h>

namespace fer::train {

/// The parts of the self-cure importance-weighted loss (Wang et al. 2020, "Suppressing
/// Uncertainties for Large-Scale Facial Expression Recognition", the seed's "self-cure" module).
struct ImportanceLoss {
  torch::Tensor total;        ///< weighted_ce + rank_weight * rank
  torch::Tensor weighted_ce;  ///< cross-entropy of the logits scaled per sample by its weight
  torch::Tensor rank;         ///< max(0, margin - (mean weight of the high group - of the low group))
};

/// `logits` [N, C], `alpha` [N] in (0, 1) (sigmoid of the importance branch), `y` [N].
/// Logit-weighted cross-entropy: CE(alpha_i * logits_i, y_i), with `ce` (label smoothing, class
/// weights) as for plain training. Rank regularisation: the batch's weights sorted in descending
/// order, the first round(high_fraction * N) (at least 1, at most N - 1) form the high group and
/// the rest the low group; rank = relu(margin - (mean_high - mean_low)). N must be >= 2 when
/// rank_weight > 0 (a DataError otherwise); with rank_weight 0 the rank term is 0.
ImportanceLoss importance_weighted_loss(const torch::Tensor& logits, const torch::Tensor& alpha,
                                        const torch::Tensor& y, double high_fraction, double margin,
                                        double rank_weight,
                                        const torch::nn::functional::CrossEntropyFuncOptions& ce = {});

}  // namespace fer::train
