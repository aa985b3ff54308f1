#include "fer/train/engine.hpp"

#include <torch/nn/functional/loss.h>
#include <torch/torch.h>

#include "fer/train/precision.hpp"

namespace fer::train {

void to_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  for (auto& b : model.buffers()) {
    if (b.dim() == 4) b.set_data(b.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

torch::Tensor images_to_tensor(const data::Batch& batch, const torch::Device& device) {
  auto t = torch::from_blob(const_cast<float*>(batch.images.data()),
                            {static_cast<int64_t>(batch.n) * batch.crops, batch.channels, batch.size, batch.size},
                            torch::kFloat32);
  return device.is_cpu() ? t.clone() : t.to(device);
}

torch::Tensor forward_views(models::Classifier& model, const torch::Tensor& x, int64_t n, int views,
                            int64_t max_rows) {
  // Channels-last weights (fer bench --channels-last) take their inputs in the same order.
  const auto params = model.parameters();
  const bool nhwc = x.dim() == 4 && !params.empty() && params[0].dim() == 4 &&
                    params[0].is_contiguous(torch::MemoryFormat::ChannelsLast) && !params[0].is_contiguous();
  const torch::Tensor xs = nhwc ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
  torch::Tensor logits;
  if (xs.size(0) <= max_rows) {
    logits = model.forward(xs);
  } else {
    std::vector<torch::Tensor> parts;
    for (const auto& chunk : xs.split(max_rows)) parts.push_back(model.forward(chunk));
    logits = torch::cat(parts);
  }
  logits = logits.to(torch::kFloat32);
  return views > 1 ? logits.view({n, views, -1}).mean(1) : logits;
}

Predictions predict(models::Classifier& model, const data::Dataset& ds, const std::vector<size_t>& indices,
                    const augment::Pipeline& pipeline, augment::Tta tta, int batch_size, int workers,
                    const torch::Device& device, bool with_loss, const std::string& precision) {
  torch::NoGradGuard no_grad;
  model.eval();
  data::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.mode = data::LoaderMode::kEval;
  lo.tta = tta;
  lo.workers = workers;
  data::BatchLoader loader(ds, indices, pipeline, lo);
  Predictions out;
  double loss_sum = 0;
  data::Batch batch;
  while (loader.next(batch)) {
    auto x = images_to_tensor(batch, device);
    torch::Tensor logits;
    {
      const AutocastScope autocast(precision, device.str());
      logits = forward_views(model, x, batch.n, batch.crops);
    }
    if (with_loss) {
      auto y = torch::from_blob(batch.labels.data(), {batch.n}, torch::kInt64).to(device);
      loss_sum += torch::nn::functional::cross_entropy(
                      logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                      .item<double>();
    }
    auto probs = torch::softmax(logits, 1).to(torch::kCPU).contiguous();
    auto pred = probs.argmax(1);
    const int64_t c = probs.size(1);
    const float* p = probs.data_ptr<float>();
    for (int i = 0; i < batch.n; ++i) {
      out.indices.push_back(batch.indices[i]);
      out.truth.push_back(static_cast<int>(batch.labels[i]));
      out.pred.push_back(static_cast<int>(pred[i].item<int64_t>()));
      out.probs.emplace_back(p + i * c, p + (i + 1) * c);
    }
  }
  out.loss = out.truth.empty() ? 0.0 : loss_sum / static_cast<double>(out.truth.size());
  return out;
}

}  // namespace fer::train
