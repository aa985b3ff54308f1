// The Classifier base: the embed / classify split and the self-cure importance branch.
#include <torch/nn/init.h>
#include <torch/nn/modules/linear.h>

#include "fer/core/error.hpp"
#include "fer/models/model.hpp"

namespace fer::models {

// Tensors by value: the virtual signature every model overrides (PyTorch's idiom).
// NOLINTNEXTLINE(performance-unnecessary-value-param)
torch::Tensor Classifier::embed(torch::Tensor /*x*/) {
  throw ConfigError(
      fmt::format("/model/name: model {} has no single embedding before its classifier", name()));
}

// NOLINTNEXTLINE(performance-unnecessary-value-param)
torch::Tensor Classifier::classify(torch::Tensor /*features*/) {
  throw ConfigError(
      fmt::format("/model/name: model {} has no single embedding before its classifier", name()));
}

void Classifier::add_importance_branch() {
  if (importance_) return;
  const int64_t dim = embed_dim();
  FER_CHECK(
      dim > 0, ConfigError,
      "/model/importance_weighting: this model has no single embedding for the importance branch to read "
      "(fusion_late averages two classifiers' logits); use fusion_feature or a single-stream model");
  // SCN's alpha branch: Linear(D, 1) + sigmoid, PyTorch's default Linear initialisation.
  importance_ = register_module("importance", torch::nn::Linear(dim, 1));
}

std::pair<torch::Tensor, torch::Tensor> Classifier::forward_weighted(torch::Tensor x) {
  FER_CHECK(static_cast<bool>(importance_), ConfigError,
            "forward_weighted needs the importance branch (model.importance_weighting)");
  auto f = embed(std::move(x));
  auto alpha = torch::sigmoid(importance_->forward(f)).squeeze(1);
  return {classify(f), alpha};
}

}  // namespace fer::models
