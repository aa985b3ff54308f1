#pragma once
// The shared forward passes of training, evaluation and inference.
#include <torch/types.h>

#include <vector>

#include "fer/augment/transforms.hpp"
#include "fer/data/dataset.hpp"
#include "fer/data/loader.hpp"
#include "fer/models/model.hpp"

namespace fer::train {

/// Predictions over a list of samples, in the order of `indices`.
struct Predictions {
  std::vector<size_t> indices;
  std::vector<int> truth, pred;
  std::vector<std::vector<float>> probs;  ///< softmax per sample
  double loss = 0;                        ///< mean plain cross-entropy
};

/// A batch as a [n*crops, C, S, S] float tensor on `device` (copies the batch's buffer).
torch::Tensor images_to_tensor(const data::Batch& batch, const torch::Device& device);

/// Runs the model in eval mode over `indices` (centre crop, or ten-crop with logits averaged
/// over the crops as the seed code does).
Predictions predict(models::Classifier& model, const data::Dataset& ds, const std::vector<size_t>& indices,
                    const augment::Pipeline& pipeline, bool ten_crop, int batch_size, int workers,
                    const torch::Device& device);

}  // namespace fer::train
