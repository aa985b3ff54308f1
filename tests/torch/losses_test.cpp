// The self-cure importance-weighted loss against values computed by hand.
#include "fer/train/losses.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "fer/core/error.hpp"

using fer::train::importance_weighted_loss;

TEST(ImportanceLoss, MatchesHandComputedValues) {
  // 2 classes, 4 samples.
  const auto logits = torch::tensor({{2.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}, {3.0, -1.0}});
  const auto alpha = torch::tensor({0.9, 0.5, 0.2, 0.6});
  const auto y = torch::tensor({0, 1, 0, 1}, torch::kInt64);
  // CE of scaled logits: sample i has scaled logits a*z; loss = log(1 + exp(a*(z_other - z_true))).
  const double ce = (std::log1p(std::exp(0.9 * (0.0 - 2.0))) + std::log1p(std::exp(0.5 * (0.0 - 1.0))) +
                     std::log1p(std::exp(0.2 * (1.0 - 1.0))) + std::log1p(std::exp(0.6 * (3.0 - -1.0)))) /
                    4;
  // Sorted weights 0.9 0.6 0.5 0.2; high fraction 0.7 -> round(2.8) = 3 high: mean 2/3, low 0.2;
  // margin 0.5: relu(0.5 - (0.6667 - 0.2)) = 0.0333...
  const double rank = 0.5 - ((0.9 + 0.6 + 0.5) / 3 - 0.2);
  const auto l = importance_weighted_loss(logits, alpha, y, 0.7, 0.5, 2.0);
  EXPECT_NEAR(l.weighted_ce.item<double>(), ce, 1e-6);
  EXPECT_NEAR(l.rank.item<double>(), rank, 1e-6);
  EXPECT_NEAR(l.total.item<double>(), ce + 2.0 * rank, 1e-6);
  // A wide gap between the groups: no rank loss. Weight 0: no rank term at all.
  EXPECT_NEAR(importance_weighted_loss(logits, alpha, y, 0.7, 0.15, 1.0).rank.item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(importance_weighted_loss(logits, alpha, y, 0.7, 0.5, 0.0).total.item<double>(), ce, 1e-6);
  // All weights 1: plain cross-entropy.
  EXPECT_NEAR(importance_weighted_loss(logits, torch::ones({4}), y, 0.7, 0.0, 1.0).total.item<double>(),
              torch::nn::functional::cross_entropy(logits, y).item<double>(), 1e-6);
}

TEST(ImportanceLoss, GradientsReachTheWeightsAndBadInputIsAnError) {
  // Equal logits: scaling them changes nothing, so only the rank term has a gradient. High group
  // {0.6}, low {0.55}: rank = 0.15 - 0.05 > 0, d/d(high) = -1, d/d(low) = +1.
  const auto logits = torch::zeros({2, 2});
  const auto alpha = torch::tensor({0.6, 0.55}).requires_grad_(true);
  const auto y = torch::tensor({0, 1}, torch::kInt64);
  importance_weighted_loss(logits, alpha, y, 0.5, 0.15, 1.0).total.backward();
  ASSERT_TRUE(alpha.grad().defined());
  EXPECT_NEAR(alpha.grad()[0].item<double>(), -1.0, 1e-6);
  EXPECT_NEAR(alpha.grad()[1].item<double>(), 1.0, 1e-6);
  EXPECT_THROW(importance_weighted_loss(logits, torch::ones({3}), y, 0.7, 0.15, 1.0), fer::DataError);
  EXPECT_THROW(
      importance_weighted_loss(logits.slice(0, 0, 1), torch::ones({1}), y.slice(0, 0, 1), 0.7, 0.15, 1.0),
      fer::DataError);
  EXPECT_THROW(importance_weighted_loss(logits, alpha, y, 1.0, 0.15, 1.0), fer::ConfigError);
}
