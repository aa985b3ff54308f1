// ResNet-18 (He et al. 2016) with the module names of torchvision's resnet18, so weights map
// one to one. Stem: 7x7/2 + max-pool (224 px inputs) or 3x3/1 without pool (48 px faces).
// Optional squeeze-and-excitation (Hu et al. 2018) after the second conv of each block.
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/init.h>

#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/models/registry.hpp"

namespace fer::models {
namespace nn = torch::nn;

namespace {

nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

/// Channel attention: x * sigmoid(W2 relu(W1 avgpool(x))).
class SqueezeExcitationImpl : public nn::Module {
 public:
  SqueezeExcitationImpl(int64_t channels, int64_t reduction) {
    const int64_t hidden = std::max<int64_t>(1, channels / reduction);
    fc1 = register_module("fc1", nn::Linear(channels, hidden));
    fc2 = register_module("fc2", nn::Linear(hidden, channels));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto s = x.mean({2, 3});
    s = torch::sigmoid(fc2->forward(torch::relu(fc1->forward(s))));
    return x * s.unsqueeze(-1).unsqueeze(-1);
  }
  nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(SqueezeExcitation);

class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride, bool se, int64_t se_reduction) {
    conv1 = register_module("conv1", conv3x3(in, out, stride));
    bn1 = register_module("bn1", nn::BatchNorm2d(out));
    conv2 = register_module("conv2", conv3x3(out, out, 1));
    bn2 = register_module("bn2", nn::BatchNorm2d(out));
    if (se) this->se = register_module("se", SqueezeExcitation(out, se_reduction));
    if (stride != 1 || in != out) {
      downsample = register_module(
          "downsample", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                                       nn::BatchNorm2d(out)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto out = torch::relu(bn1->forward(conv1->forward(x)));
    out = bn2->forward(conv2->forward(out));
    if (se) out = se->forward(out);
    auto identity = downsample ? downsample->forward(x) : x;
    return torch::relu(out + identity);
  }
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  SqueezeExcitation se{nullptr};
  nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

class ResNet18 : public Classifier {
 public:
  ResNet18(const config::ModelConfig& cfg, const InputSpec& in) {
    const int64_t w = cfg.width;
    std::string stem = cfg.stem;
    if (stem == "auto") stem = in.size < 112 ? "3x3" : "7x7";
    small_stem_ = stem == "3x3";
    conv1 = register_module(
        "conv1", small_stem_ ? nn::Conv2d(nn::Conv2dOptions(in.channels, w, 3).stride(1).padding(1).bias(false))
                             : nn::Conv2d(nn::Conv2dOptions(in.channels, w, 7).stride(2).padding(3).bias(false)));
    bn1 = register_module("bn1", nn::BatchNorm2d(w));
    int64_t ch = w;
    auto make_layer = [&](int64_t out, int64_t stride) {
      nn::Sequential layer;
      layer->push_back(BasicBlock(ch, out, stride, cfg.se, cfg.se_reduction));
      layer->push_back(BasicBlock(out, out, 1, cfg.se, cfg.se_reduction));
      ch = out;
      return layer;
    };
    layer1 = register_module("layer1", make_layer(w, 1));
    layer2 = register_module("layer2", make_layer(2 * w, 2));
    layer3 = register_module("layer3", make_layer(4 * w, 2));
    layer4 = register_module("layer4", make_layer(8 * w, 2));
    dropout = register_module("dropout", nn::Dropout(cfg.dropout));
    fc = register_module("fc", nn::Linear(8 * w, in.num_classes));
    // torchvision's initialisation: Kaiming normal (fan_out) for convs, BN weight 1 bias 0.
    for (auto& m : modules(/*include_self=*/false)) {
      if (auto* c = m->as<nn::Conv2d>()) {
        nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
      } else if (auto* b = m->as<nn::BatchNorm2d>()) {
        nn::init::ones_(b->weight);
        nn::init::zeros_(b->bias);
      }
    }
  }

  torch::Tensor forward(torch::Tensor x) override {
    x = torch::relu(bn1->forward(conv1->forward(x)));
    if (!small_stem_) x = torch::max_pool2d(x, 3, 2, 1);
    x = layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc->forward(dropout->forward(x));
  }

 private:
  bool small_stem_ = true;
  nn::Conv2d conv1{nullptr};
  nn::BatchNorm2d bn1{nullptr};
  nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  nn::Dropout dropout{nullptr};
  nn::Linear fc{nullptr};
};

}  // namespace

const std::vector<ModelInfo>& model_infos() {
  static const std::vector<ModelInfo> infos = {
      {"resnet18",
       "ResNet-18 (torchvision layout); 3x3 stride-1 stem for 48 px faces, 7x7 stem for 224 px; optional SE"},
  };
  return infos;
}

std::shared_ptr<Classifier> create_model(const config::ModelConfig& cfg, const InputSpec& in) {
  FER_CHECK(in.channels == 1 || in.channels == 3, ConfigError, "model input must have 1 or 3 channels, got {}",
            in.channels);
  FER_CHECK(in.num_classes >= 2, DataError, "a classifier needs at least 2 classes, got {}", in.num_classes);
  if (cfg.name == "resnet18") return std::make_shared<ResNet18>(cfg, in);
  std::string known;
  for (const auto& m : model_infos()) known += (known.empty() ? "" : ", ") + m.name;
  throw ConfigError(fmt::format("/model/name: unknown model \"{}\"; known: {}", cfg.name, known));
}

}  // namespace fer::models
