// ResNet-18 (He et al. 2016) with the module names of torchvision's resnet18, so weights map
// one to one. Stem: 7x7/2 + max-pool (224 px inputs) or 3x3/1 without pool (48 px faces).
// Optional squeeze-and-excitation (Hu et al. 2018) after the second conv of each block,
// optional attention gate on the pooled features and the visible/infrared paper's MLP heads.
// Also the model registry and create_model (the fusion models live in fusion.cpp, vgg19 in
// vgg.cpp, compact_cnn in compact.cpp, vit and vit_se in vit.cpp).
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <numeric>

#include "backbone.hpp"
#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/models/registry.hpp"

namespace fer::models {
namespace nn = torch::nn;

namespace detail {

namespace {
nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}
}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t out, int64_t stride, BlockAttention attention,
                               int64_t reduction) {
  conv1 = register_module("conv1", conv3x3(in, out, stride));
  bn1 = register_module("bn1", nn::BatchNorm2d(out));
  conv2 = register_module("conv2", conv3x3(out, out, 1));
  bn2 = register_module("bn2", nn::BatchNorm2d(out));
  if (attention == BlockAttention::kSe) se = register_module("se", SqueezeExcitation(out, reduction));
  if (attention == BlockAttention::kCbam) cbam = register_module("cbam", Cbam(out, reduction));
  if (stride != 1 || in != out) {
    downsample = register_module(
        "downsample", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                                     nn::BatchNorm2d(out)));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  if (se) out = se->forward(out);
  if (cbam) out = cbam->forward(out);
  auto identity = downsample ? downsample->forward(x) : x;
  return torch::relu(out + identity);
}

nn::Sequential make_paper_head(config::Head kind, int64_t in_features, int64_t num_classes) {
  constexpr int64_t hidden = 256;
  nn::Sequential s;
  double p_in = 0, p_hidden = 0;
  switch (kind) {
    case config::Head::kVisible:
      s->push_back(nn::Dropout(0.4));
      s->push_back(nn::Linear(in_features, hidden));
      s->push_back(nn::Dropout(0.4));
      s->push_back(nn::Linear(hidden, num_classes));
      return s;
    case config::Head::kInfrared:
      p_in = 0.7;
      p_hidden = 0.8;
      break;
    case config::Head::kFused:
      p_in = 0.2;
      p_hidden = 0.2;
      break;
    case config::Head::kLinear:
      throw std::logic_error("make_paper_head: the linear head is one nn::Linear, not a paper head");
  }
  s->push_back(nn::Dropout(p_in));
  s->push_back(nn::Linear(in_features, hidden));
  s->push_back(nn::ReLU());
  s->push_back(nn::BatchNorm1d(hidden));
  s->push_back(nn::Dropout(p_hidden));
  s->push_back(nn::Linear(hidden, num_classes));
  return s;
}

namespace {
/// torchvision's ResNet initialisation: Kaiming normal (fan_out, ReLU) convolutions, batch norm
/// weight 1 and bias 0.
void init_torchvision_resnet(torch::nn::Module& net) {
  for (auto& m : net.modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = m->as<nn::BatchNorm2d>()) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
    }
  }
}
}  // namespace

ResNet18::ResNet18(const config::ModelConfig& cfg, int channels, int size, int num_classes) {
  const int64_t w = cfg.width;
  std::string stem = cfg.stem;
  if (stem == "auto") stem = size < 112 ? "3x3" : "7x7";
  small_stem_ = stem == "3x3";
  conv1 = register_module(
      "conv1", small_stem_ ? nn::Conv2d(nn::Conv2dOptions(channels, w, 3).stride(1).padding(1).bias(false))
                           : nn::Conv2d(nn::Conv2dOptions(channels, w, 7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(w));
  int64_t ch = w;
  auto make_layer = [&](int64_t out, int64_t stride) {
    nn::Sequential layer;
    layer->push_back(BasicBlock(ch, out, stride, block_attention(cfg), cfg.se_reduction));
    layer->push_back(BasicBlock(out, out, 1, block_attention(cfg), cfg.se_reduction));
    ch = out;
    return layer;
  };
  layer1 = register_module("layer1", make_layer(w, 1));
  layer2 = register_module("layer2", make_layer(2 * w, 2));
  layer3 = register_module("layer3", make_layer(4 * w, 2));
  layer4 = register_module("layer4", make_layer(8 * w, 2));
  feature_dim_ = 8 * w;
  if (cfg.feature_gate) gate = register_module("gate", FeatureGate(feature_dim_));
  // The default (linear head, no gate) registers and initialises exactly as before the gate and
  // paper heads existed, so fixed-seed results and old checkpoints are unchanged.
  linear_head_ = cfg.head == config::Head::kLinear;
  if (num_classes > 0) {
    if (linear_head_) {
      dropout = register_module("dropout", nn::Dropout(cfg.dropout));
      fc = register_module("fc", nn::Linear(feature_dim_, num_classes));
    } else {
      head = register_module("head", make_paper_head(cfg.head.value(), feature_dim_, num_classes));
    }
  }
  avg4_pool_ = cfg.pool == config::Pool::kAvg4;
  if (avg4_pool_) {
    // The 3x3 / 7x7 stems and three stride-2 stages give a final map of ceil(size / 8) or
    // ceil(size / 32) pixels; the 4x4 window must fit once and only once.
    int side = small_stem_ ? size : (size + 1) / 2;
    side = small_stem_ ? side : (side + 1) / 2;  // the 7x7 stem's max-pool
    for (int i = 0; i < 3; ++i) side = (side + 1) / 2;
    FER_CHECK(side >= 4 && side <= 7, ConfigError,
              "/model/pool: \"avg4\" (the seed's 4x4 average pool) needs a final feature map of 4 to 7 px, "
              "but {} px inputs with the {} stem give {} px; use pool \"global\" or inputs of 25 to 56 px "
              "(3x3 stem)",
              size, stem, side);
  }
  // "model": torchvision's initialisation, Kaiming normal (fan_out) for convs, BN weight 1 bias 0.
  // "pytorch": keep each layer's own default (the seed code's ResNet does no initialisation).
  if (cfg.init == config::Init::kModel) init_torchvision_resnet(*this);
}

torch::Tensor ResNet18::features(torch::Tensor x) {
  x = torch::relu(bn1->forward(conv1->forward(x)));
  if (!small_stem_) x = torch::max_pool2d(x, 3, 2, 1);
  x = layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
  x = avg4_pool_ ? torch::avg_pool2d(x, 4).flatten(1) : torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  if (gate) x = gate->forward(x);
  return x;
}

torch::Tensor ResNet18::classify(torch::Tensor f) {
  if (fc) return fc->forward(dropout->forward(f));
  if (head) return head->forward(f);
  return f;  // headless stream: pooled features
}

std::string ResNet18::head_prefix() const {
  if (fc) return "fc.";
  if (head) return fmt::format("head.{}.", head->size() - 1);
  return "";
}

void check_single_image_model(const config::ModelConfig& cfg, const InputSpec& in) {
  FER_CHECK(
      in.modality_channels.empty(), ConfigError,
      "/model/name: {} takes a single image (1 or 3 channels), got paired data ({} modalities stacked as {} "
      "channels); set data.paired.use to one modality, or use a fusion model",
      cfg.name, in.modality_channels.size(), in.channels);
  FER_CHECK(in.channels == 1 || in.channels == 3, ConfigError,
            "/model/name: {} input must have 1 or 3 channels, got {}", cfg.name, in.channels);
  const config::ModelConfig defaults;
  FER_CHECK(cfg.stem == defaults.stem, ConfigError, "/model/stem: {} has no ResNet stem; remove the key",
            cfg.name);
  FER_CHECK(
      !cfg.se && !cfg.cbam, ConfigError,
      "/model/attention: {} has no residual blocks for {} attention (SE and CBAM apply to ResNet-18 models)",
      cfg.name, cfg.se ? "squeeze-and-excitation" : "CBAM");
  FER_CHECK(cfg.pool == defaults.pool, ConfigError,
            "/model/pool: {} has its own pooling; pool \"{}\" applies to ResNet-18 models only", cfg.name,
            cfg.pool);
  FER_CHECK(cfg.width == defaults.width, ConfigError,
            "/model/width: {} has fixed layer widths; remove the key (width {} applies to ResNet-18 only)",
            cfg.name, cfg.width);
  FER_CHECK(cfg.head == defaults.head, ConfigError,
            "/model/head: {} has its own classifier; head \"{}\" applies to ResNet-18 models only", cfg.name,
            cfg.head);
  FER_CHECK(!cfg.feature_gate, ConfigError,
            "/model/attention: {} has no feature gate (\"gate\" applies to ResNet-18 models)", cfg.name);
}

void register_resnet(ModelRegistry& r) {
  const auto build = [](const config::ModelConfig& cfg, const InputSpec& in) -> std::shared_ptr<Classifier> {
    return std::make_shared<ResNet18>(cfg, in.channels, in.size, in.num_classes);
  };
  r.add("resnet18",
        "ResNet-18 (torchvision layout); 3x3 stride-1 stem for 48 px faces, 7x7 stem for 224 px; optional SE",
        {[build](const config::ModelConfig& cfg, const InputSpec& in) {
          if (in.modality_channels.empty()) {
            FER_CHECK(in.channels == 1 || in.channels == 3, ConfigError,
                      "model input must have 1 or 3 channels, got {}", in.channels);
          } else {
            FER_CHECK(in.channels >= 1 && in.channels <= 8, ConfigError,
                      "model input must have 1 to 8 stacked channels, got {}", in.channels);
          }
          return build(cfg, in);
        }});
  r.add("fusion_early", "visible + infrared stacked as input channels of one ResNet-18 (paired data)",
        {build, /*paired=*/true});
}

}  // namespace detail

namespace {

std::shared_ptr<Classifier> build_model(const config::ModelConfig& cfg, const InputSpec& in) {
  FER_CHECK(in.num_classes >= 2, DataError, "a classifier needs at least 2 classes, got {}", in.num_classes);
  FER_CHECK(cfg.width >= 1, ConfigError, "/model/width: must be at least 1, got {}", cfg.width);

  const auto& mc = in.modality_channels;
  const int stacked = std::accumulate(mc.begin(), mc.end(), 0);
  const auto mc_str = [&] { return fmt::format("[{}]", fmt::join(mc, ", ")); };
  if (!mc.empty()) {
    for (int c : mc) {
      FER_CHECK(c >= 1 && c <= 8, ConfigError, "/model/name: {}: each modality needs 1 to 8 channels, got {}",
                cfg.name, mc_str());
    }
    FER_CHECK(stacked == in.channels, ConfigError,
              "/model/name: {}: the modalities' channels {} sum to {}, but the input has {} channels", cfg.name,
              mc_str(), stacked, in.channels);
  }
  const ModelFamily& family =
      model_registry().get(cfg.name, cfg.name_at.empty() ? std::string("/model/name") : cfg.name_at).value;
  // Fusion models: paired input [N, C0 + C1, H, W], modality 0's channels first.
  FER_CHECK(
      !family.paired || mc.size() == 2, ConfigError,
      "/model/name: {} needs paired data (data.format paired_folder/viri/nvie with data.paired.use \"all\"): "
      "two modalities stacked as channels; got {}",
      cfg.name, mc.empty() ? std::string("a single image") : fmt::format("{} modalities", mc.size()));
  return family.build(cfg, in);
}

}  // namespace

std::shared_ptr<Classifier> create_model(const config::ModelConfig& cfg, const InputSpec& in) {
  auto model = build_model(cfg, in);
  if (cfg.importance_weighting) model->add_importance_branch();
  return model;
}

}  // namespace fer::models
