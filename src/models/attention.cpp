// The attention variants of the ResNet-18 family in one place (model.attention): squeeze-and-
// excitation and CBAM inside the residual blocks, and the visible/infrared paper's gate on the
// pooled features.
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "backbone.hpp"
#include "fer/core/error.hpp"

namespace fer::models::detail {
namespace nn = torch::nn;

BlockAttention block_attention(const config::ModelConfig& cfg) {
  FER_CHECK(!(cfg.se && cfg.cbam), ConfigError,
            "/model/attention: SE and CBAM are two kinds of block attention; choose one");
  return cfg.se ? BlockAttention::kSe : cfg.cbam ? BlockAttention::kCbam : BlockAttention::kNone;
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t channels, int64_t reduction) {
  const int64_t hidden = std::max<int64_t>(1, channels / reduction);
  fc1 = register_module("fc1", nn::Linear(channels, hidden));
  fc2 = register_module("fc2", nn::Linear(hidden, channels));
}

torch::Tensor SqueezeExcitationImpl::forward(const torch::Tensor& x) {
  auto s = x.mean({2, 3});
  s = torch::sigmoid(fc2->forward(torch::relu(fc1->forward(s))));
  return x * s.unsqueeze(-1).unsqueeze(-1);
}

CbamImpl::CbamImpl(int64_t channels, int64_t reduction) {
  const int64_t hidden = std::max<int64_t>(1, channels / reduction);
  fc1 = register_module("fc1", nn::Linear(channels, hidden));
  fc2 = register_module("fc2", nn::Linear(hidden, channels));
  spatial_conv =
      register_module("spatial_conv", nn::Conv2d(nn::Conv2dOptions(2, 1, 7).padding(3).bias(false)));
  spatial_bn = register_module("spatial_bn", nn::BatchNorm2d(1));
}

torch::Tensor CbamImpl::forward(const torch::Tensor& x) {
  auto mlp = [&](const torch::Tensor& v) { return fc2->forward(torch::relu(fc1->forward(v))); };
  auto channel = torch::sigmoid(mlp(x.mean({2, 3})) + mlp(x.amax({2, 3})));
  auto y = x * channel.unsqueeze(-1).unsqueeze(-1);
  auto maps = torch::cat({y.mean(1, /*keepdim=*/true), y.amax(1, /*keepdim=*/true)}, 1);
  return y * torch::sigmoid(spatial_bn->forward(spatial_conv->forward(maps)));
}

FeatureGateImpl::FeatureGateImpl(int64_t features) {
  fc = register_module("fc", nn::Linear(features, features));
}

torch::Tensor FeatureGateImpl::forward(const torch::Tensor& x) {
  return x * torch::sigmoid(fc->forward(x * x));
}

}  // namespace fer::models::detail
