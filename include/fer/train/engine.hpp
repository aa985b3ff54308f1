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

/// Puts the model's 4-D weights and buffers in channels-last (NHWC) memory order, which the
/// CPU's convolution kernels (oneDNN) run about 10% faster here; values and checkpoints are
/// unchanged. Only `fer bench --channels-last` uses it: with Debian's oneDNN 2.7 the backward
/// convolution of a width-4, 1-channel ResNet-18 crashed in channels-last (a segfault inside
/// libdnnl), so training, evaluation and inference keep the default NCHW order.
void to_channels_last(torch::nn::Module& model);

/// A batch as a [n*crops, C, S, S] float tensor on `device` (copies the batch's buffer).
torch::Tensor images_to_tensor(const data::Batch& batch, const torch::Device& device);

/// Logits [n, classes] of `x` = [n * views, C, S, S] (sample-major), averaged over each sample's
/// views as the seed code does for ten-crop; always fp32 (an autocast forward's logits are cast). The forward runs in chunks of at most
/// `max_rows` images so a ten-crop batch does not hold ten batches of activations at once.
torch::Tensor forward_views(models::Classifier& model, const torch::Tensor& x, int64_t n, int views,
                            int64_t max_rows = 256);

/// Runs the model in eval mode over `indices`: the centre crop, or the views of `tta` with their
/// logits averaged. `with_loss` false: no cross-entropy (loss 0), for labels that are not the
/// model's classes (a dataset evaluated through a class map). `precision`: fp32, or the autocast
/// precision of the forward passes (bf16, fp16; see precision.hpp); logits and loss are fp32.
Predictions predict(models::Classifier& model, const data::Dataset& ds, const std::vector<size_t>& indices,
                    const augment::Pipeline& pipeline, augment::Tta tta, int batch_size, int workers,
                    const torch::Device& device, bool with_loss = true, const std::string& precision = "fp32");

}  // namespace fer::train
