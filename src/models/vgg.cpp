// VGG-19 with batch norm (Simonyan & Zisserman 2015; Ioffe & Szegedy 2015) as the seed's
// FER2013 / CK+ PyTorch code uses it on 44 px crops: sixteen 3x3 convolutions (padding 1,
// each + BatchNorm + ReLU) in five stages closed by 2x2 max-pools, then dropout and a single
// Linear(512, classes). Module names follow torchvision's vgg19_bn, so `features.<i>.*` has the
// same indices (conv i, bn i+1, relu i+2; pools at 6, 13, 26, 39, 52) and its convolution and
// batch-norm weights map one to one; torchvision's 3-layer classifier has no counterpart here,
// the single Linear is `classifier`.
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <array>

#include "backbone.hpp"
#include "fer/core/error.hpp"

namespace fer::models::detail {
namespace nn = torch::nn;

namespace {

constexpr int kMaxPool = 0;  // "M" in the seed's cfg list
/// The seed's cfg['VGG19'] (torchvision's configuration "E").
constexpr std::array<int, 21> kVgg19 = {64,  64,       kMaxPool, 128,      128, kMaxPool, 256,
                                        256, 256,      256,      kMaxPool, 512, 512,      512,
                                        512, kMaxPool, 512,      512,      512, 512,      kMaxPool};
/// Five 2x2 pools: 32..63 px end at 1x1 (the seed's 44 px crops too); larger inputs are
/// average-pooled to 1x1, smaller ones would pool a 1x1 map away.
constexpr int kMinSize = 32;

class Vgg19 : public Classifier {
 public:
  Vgg19(int channels, int num_classes, double dropout, bool model_init) : dropout_(dropout) {
    nn::Sequential f;
    int64_t in = channels;
    for (int v : kVgg19) {
      if (v == kMaxPool) {
        f->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
        continue;
      }
      f->push_back(nn::Conv2d(nn::Conv2dOptions(in, v, 3).padding(1)));
      f->push_back(nn::BatchNorm2d(v));
      f->push_back(nn::ReLU(nn::ReLUOptions(/*inplace=*/true)));
      in = v;
    }
    features = register_module("features", f);
    classifier = register_module("classifier", nn::Linear(in, num_classes));
    // model.init "model": torchvision's VGG initialisation, Kaiming normal (fan_out) convs with
    // zero bias, BN weight 1 bias 0, Linear N(0, 0.01) with zero bias. "pytorch": each layer's
    // default, as the seed code's VGG.
    if (!model_init) return;
    for (auto& m : modules(/*include_self=*/false)) {
      if (auto* c = m->as<nn::Conv2d>()) {
        nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
        nn::init::zeros_(c->bias);
      } else if (auto* b = m->as<nn::BatchNorm2d>()) {
        nn::init::ones_(b->weight);
        nn::init::zeros_(b->bias);
      } else if (auto* l = m->as<nn::Linear>()) {
        nn::init::normal_(l->weight, 0.0, 0.01);
        nn::init::zeros_(l->bias);
      }
    }
  }

  torch::Tensor embed(torch::Tensor x) override {
    x = features->forward(x);
    // An identity for 32..63 px (the map is already 1x1), where the seed flattens directly.
    return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  }

  torch::Tensor classify(torch::Tensor f) override {
    return classifier->forward(torch::dropout(f, dropout_, is_training()));
  }

  int64_t embed_dim() const override { return classifier->options.in_features(); }
  std::string head_prefix() const override { return "classifier."; }

  nn::Sequential features{nullptr};
  nn::Linear classifier{nullptr};

 private:
  double dropout_ = 0.0;
};

}  // namespace

void register_vgg(ModelRegistry& r) {
  r.add("vgg19",
        "VGG-19 with batch norm (the seed's FER2013/CK+ model, torchvision vgg19_bn names); dropout + one "
        "linear layer on 1x1 features; inputs >= 32 px (44 px crops)",
        {[](const config::ModelConfig& cfg, const InputSpec& in) -> std::shared_ptr<Classifier> {
          check_single_image_model(cfg, in);
          FER_CHECK(
              in.size >= kMinSize, ConfigError,
              "/model/name: vgg19 needs an input of at least {0}x{0} px (five 2x2 max-pools), got {1}x{1} "
              "(preprocess.size, or augment.crop when set)",
              kMinSize, in.size);
          // model.dropout is used as given (the seed's 0.5 is set in the vgg19 configs), so the
          // frozen config always states the dropout that ran.
          return std::make_shared<Vgg19>(in.channels, in.num_classes, cfg.dropout,
                                         cfg.init == config::Init::kModel);
        }});
}

}  // namespace fer::models::detail
