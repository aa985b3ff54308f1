#pragma once
// Internal to src/models: the ResNet-18 building blocks shared by the single-stream model
// (resnet.cpp) and the visible + infrared fusion models (fusion.cpp), and each model file's
// registration (src/models/registry.cpp).
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>

#include "fer/config/config.hpp"
#include "fer/models/model.hpp"
#include "fer/models/registry.hpp"

namespace fer::models::detail {

// ---- attention variants of the ResNet-18 family (attention.cpp), chosen by model.attention ----

/// Squeeze-and-excitation (Hu et al. 2018), channel attention: x * sigmoid(W2 relu(W1 avgpool(x))).
/// Parameters fc1.*, fc2.*.
class SqueezeExcitationImpl : public torch::nn::Module {
 public:
  SqueezeExcitationImpl(int64_t channels, int64_t reduction);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(SqueezeExcitation);

/// CBAM (Woo et al. 2018): channel attention from average- and max-pooled features through one
/// shared MLP (fc1, fc2; reduction as SE), then spatial attention from the channel-wise mean and
/// max maps through a 7x7 convolution + batch norm (spatial_conv, spatial_bn):
///   x = x * sigmoid(mlp(avgpool(x)) + mlp(maxpool(x)));  x = x * sigmoid(bn(conv7x7([mean_c x, max_c x]))).
class CbamImpl : public torch::nn::Module {
 public:
  CbamImpl(int64_t channels, int64_t reduction);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Conv2d spatial_conv{nullptr};
  torch::nn::BatchNorm2d spatial_bn{nullptr};
};
TORCH_MODULE(Cbam);

/// Attention gate on pooled features (visible/infrared paper): x * sigmoid(fc(x * x)),
/// fc a square Linear layer. Parameters: fc.weight, fc.bias.
class FeatureGateImpl : public torch::nn::Module {
 public:
  explicit FeatureGateImpl(int64_t features);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(FeatureGate);

/// Attention inside a residual block, after its second batch norm and before the addition.
enum class BlockAttention { kNone, kSe, kCbam };
BlockAttention block_attention(const config::ModelConfig& cfg);

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride, BlockAttention attention, int64_t reduction);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  SqueezeExcitation se{nullptr};
  Cbam cbam{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

/// The paper's MLP heads, ending in a Linear layer (logits, no dropout or softmax after it).
///   visible:  Dropout(0.4) Linear(in,256) Dropout(0.4) Linear(256,C)
///   infrared: Dropout(0.7) Linear(in,256) ReLU BatchNorm1d(256) Dropout(0.8) Linear(256,C)
///   fused:    Dropout(0.2) Linear(in,256) ReLU BatchNorm1d(256) Dropout(0.2) Linear(256,C)
torch::nn::Sequential make_paper_head(config::Head kind, int64_t in_features, int64_t num_classes);

/// ResNet-18 with torchvision's module names (conv1, bn1, layer1..4, fc), optional feature
/// gate ("gate") on the pooled features and a head chosen by cfg.head:
///   linear:           dropout (cfg.dropout) + fc            (torchvision names)
///   visible/infrared: "head", a Sequential from make_paper_head
/// With num_classes == 0 there is no head and forward returns the (gated) pooled features,
/// [N, feature_dim()]: the backbone of a feature-fusion stream.
class ResNet18 : public Classifier {
 public:
  ResNet18(const config::ModelConfig& cfg, int channels, int size, int num_classes);
  torch::Tensor features(torch::Tensor x);
  torch::Tensor embed(torch::Tensor x) override { return features(std::move(x)); }
  torch::Tensor classify(torch::Tensor f) override;
  int64_t embed_dim() const override { return feature_dim_; }
  std::string head_prefix() const override;
  int64_t feature_dim() const { return feature_dim_; }

 private:
  bool small_stem_ = true;
  bool avg4_pool_ = false;  // model.pool "avg4": the seed's 4x4 / stride-4 average pool
  bool linear_head_ = true;
  int64_t feature_dim_ = 0;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  FeatureGate gate{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear fc{nullptr};
  torch::nn::Sequential head{nullptr};
};

// ---- registration: each model file adds its families to the registry (src/models/registry.cpp
// calls these in order). A family's build checks what only it needs; create_model has already
// checked the generic options (classes, head, width, modality channels, paired input).

/// resnet18 and fusion_early (resnet.cpp).
void register_resnet(ModelRegistry& r);
/// fusion_feature and fusion_late (fusion.cpp).
void register_fusion(ModelRegistry& r);
/// vgg19 (vgg.cpp): VGG-19 with batch norm for small faces; size >= 32.
void register_vgg(ModelRegistry& r);
/// compact_cnn (compact.cpp): the compact FER CNN of Kuo et al. 2018; unpadded convolutions
/// below 64 px (min 22), padded from 64 px on.
void register_compact(ModelRegistry& r);
/// vit and vit_se (vit.cpp): Vision Transformer with torchvision's parameter names; vit_se adds
/// an SE block on the class token ("se."). Checks vit_patch dividing the size, vit_heads dividing
/// vit_dim, and rejects the ResNet-only keys.
void register_vit(ModelRegistry& r);

/// The checks of every single-image model other than resnet18 (vgg19, compact_cnn, vit, vit_se):
/// one image of 1 or 3 channels, and none of the ResNet-only options (stem, se, width, head,
/// feature_gate); ConfigError naming the /model/... key (resnet.cpp).
void check_single_image_model(const config::ModelConfig& cfg, const InputSpec& in);

}  // namespace fer::models::detail
