// The compact FER CNN of Kuo, Lai & Sarkis 2018 ("A compact deep learning model for robust
// facial expression recognition", CVPRW), as reproduced in the seed report (Luan's Keras model
// CNN3, re-implemented in PyTorch with 7 outputs): a 1x1 convolution, two blocks of
// 3x3 + 5x5 convolutions with PReLU, each closed by a 2x2 max-pool, and a 2048-1024 MLP.
//
// Two variants, chosen by the input side (no config key):
//   size <  64: unpadded ("valid") 3x3 / 5x5 convolutions, the seed's 48 px gray model
//               (48 -> 46 -> 42 -> 21 -> 19 -> 15 -> 7: 7x7x64 = 3136 features); needs >= 22 px.
//   size >= 64: padded ("same") convolutions, the seed's 96 px 3-channel variant
//               (96 -> 48 -> 24: 24x24x64 = 36864 features, so fc1 alone has 75.5 M weights).
// Either variant takes 1 or 3 channels.
//
// Assumed where the seed gives no detail (its figures are not in the text): the layer list of
// Luan's CNN3; PReLU with one slope per channel initialised to 0.25 (He et al. 2015; Keras'
// default would be one slope per activation, initialised to 0); Glorot-uniform weights and zero
// biases (Keras' defaults); no batch norm; dropout model.dropout after each hidden FC layer
// (0.5 in Luan's model and in the compact_cnn configs).
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "backbone.hpp"
#include "fer/core/error.hpp"

namespace fer::models::detail {
namespace nn = torch::nn;

namespace {

constexpr int kPaddedFrom = 64;   // input side from which the convolutions are padded
constexpr int kMinUnpadded = 22;  // smallest side whose unpadded feature map is still >= 1x1
constexpr int64_t kChannels = 64;
constexpr int64_t kFc1 = 2048;
constexpr int64_t kFc2 = 1024;

/// Side of the last feature map for an input of side `size`.
int feature_side(int size, bool padded) {
  const int shrink = padded ? 0 : 2 + 4;  // 3x3 then 5x5 convolution, unpadded
  int s = size;
  for (int block = 0; block < 2; ++block) s = (s - shrink) / 2;
  return s;
}

class CompactCnn : public Classifier {
 public:
  CompactCnn(int channels, int size, int num_classes, double dropout, bool model_init) {
    const bool padded = size >= kPaddedFrom;
    const int64_t p3 = padded ? 1 : 0, p5 = padded ? 2 : 0;
    nn::Sequential f;
    f->push_back(nn::Conv2d(nn::Conv2dOptions(channels, 32, 1)));
    f->push_back(nn::ReLU());
    int64_t in = 32;
    for (int block = 0; block < 2; ++block) {
      f->push_back(nn::Conv2d(nn::Conv2dOptions(in, kChannels, 3).padding(p3)));
      f->push_back(nn::PReLU(nn::PReLUOptions().num_parameters(kChannels)));
      f->push_back(nn::Conv2d(nn::Conv2dOptions(kChannels, kChannels, 5).padding(p5)));
      f->push_back(nn::PReLU(nn::PReLUOptions().num_parameters(kChannels)));
      f->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
      in = kChannels;
    }
    features = register_module("features", f);
    const int side = feature_side(size, padded);
    classifier =
        register_module("classifier", nn::Sequential(nn::Linear(kChannels * side * side, kFc1), nn::ReLU(),
                                                     nn::Dropout(dropout), nn::Linear(kFc1, kFc2), nn::ReLU(),
                                                     nn::Dropout(dropout), nn::Linear(kFc2, num_classes)));
    if (!model_init) return;  // model.init "pytorch": each layer's default
    for (auto& m : modules(/*include_self=*/false)) {
      if (auto* c = m->as<nn::Conv2d>()) {
        nn::init::xavier_uniform_(c->weight);
        nn::init::zeros_(c->bias);
      } else if (auto* l = m->as<nn::Linear>()) {
        nn::init::xavier_uniform_(l->weight);
        nn::init::zeros_(l->bias);
      }
    }
  }

  /// The penultimate layer (FC 1024 after ReLU and dropout), [N, 1024].
  torch::Tensor embed(torch::Tensor x) override {
    x = features->forward(x).flatten(1);
    auto it = classifier->begin();
    for (size_t i = 0; i + 1 < classifier->size(); ++i, ++it) x = it->forward(x);
    return x;
  }

  torch::Tensor classify(torch::Tensor f) override {
    return classifier[classifier->size() - 1]->as<nn::Linear>()->forward(f);
  }

  int64_t embed_dim() const override { return kFc2; }
  std::string head_prefix() const override { return fmt::format("classifier.{}.", classifier->size() - 1); }

  nn::Sequential features{nullptr}, classifier{nullptr};
};

}  // namespace

void register_compact(ModelRegistry& r) {
  r.add("compact_cnn",
        "compact FER CNN (Kuo et al. 2018): 1x1 conv, 2 x (3x3 + 5x5 conv, PReLU, max-pool), FC 2048-1024; "
        "unpadded convs below 64 px (48 px gray), padded from 64 px (96 px colour)",
        {[](const config::ModelConfig& cfg, const InputSpec& in) -> std::shared_ptr<Classifier> {
          check_single_image_model(cfg, in);
          FER_CHECK(
              in.size >= kMinUnpadded, ConfigError,
              "/model/name: compact_cnn needs an input of at least {0}x{0} px (two unpadded 3x3 + 5x5 "
              "convolution blocks with 2x2 max-pools), got {1}x{1} (preprocess.size, or augment.crop when "
              "set)",
              kMinUnpadded, in.size);
          return std::make_shared<CompactCnn>(in.channels, in.size, in.num_classes, cfg.dropout,
                                              cfg.init == config::Init::kModel);
        }});
}

}  // namespace fer::models::detail
