// Visible + infrared fusion models. The paired input is one tensor [N, C0 + C1, H, W]:
// modality 0's channels (visible) followed by modality 1's (infrared).
//
// Each stream is a ResNet18 registered as "stream0" / "stream1", so its parameters carry the
// same names as a standalone resnet18 under that prefix ("stream1.layer3.0.conv1.weight"):
// streams can be initialised from single-modality checkpoints by prefix.
//
//   fusion_feature: two headless streams (backbone + optional gate), pooled features combined
//     by concat [f0, f1] or interleave [f0[0], f1[0], f0[1], f1[1], ...], then a fused head:
//     head "linear": dropout (model.dropout) + fc Linear(2F, C);
//     head "visible"/"infrared"/"fused": the paper's fused MLP ("head", see make_paper_head).
//   fusion_late: two complete classifiers, logits combined by the mean or "learned": softmax
//     over two learned scalars ("late_logit_weights", initialised equal). Head "linear": both
//     streams have torchvision's fc; any paper head (visible, infrared, fused): stream 0 gets the
//     visible head and stream 1 the infrared head, as the single-modality models of the paper
//     have, so both can be initialised from those models' checkpoints (model.init_streams).
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "backbone.hpp"
#include "fer/core/error.hpp"

namespace fer::models::detail {
namespace nn = torch::nn;

namespace {

class FusionFeature : public Classifier {
 public:
  FusionFeature(const config::ModelConfig& cfg, const InputSpec& in)
      : c0_(in.modality_channels.at(0)),
        c1_(in.modality_channels.at(1)),
        interleave_(cfg.fusion_features == config::FusionFeatures::kInterleave) {
    stream0 = register_module("stream0", std::make_shared<ResNet18>(cfg, c0_, in.size, 0));
    stream1 = register_module("stream1", std::make_shared<ResNet18>(cfg, c1_, in.size, 0));
    const int64_t fused = stream0->feature_dim() + stream1->feature_dim();
    if (cfg.head == config::Head::kLinear) {
      dropout = register_module("dropout", nn::Dropout(cfg.dropout));
      fc = register_module("fc", nn::Linear(fused, in.num_classes));
    } else {
      head = register_module("head", make_paper_head(config::Head::kFused, fused, in.num_classes));
    }
  }

  /// The fused features the head reads.
  torch::Tensor embed(torch::Tensor x) override {
    FER_CHECK(x.dim() == 4 && x.size(1) == c0_ + c1_, DataError,
              "fusion_feature expects [N, {}, H, W] (modalities stacked as channels), got {}", c0_ + c1_,
              c10::str(x.sizes()));
    auto f0 = stream0->features(x.narrow(1, 0, c0_));
    auto f1 = stream1->features(x.narrow(1, c0_, c1_));
    // interleave: [N, F, 2] flattened = f0[0], f1[0], f0[1], f1[1], ...
    return interleave_ ? torch::stack({f0, f1}, 2).flatten(1) : torch::cat({f0, f1}, 1);
  }

  torch::Tensor classify(torch::Tensor f) override {
    if (fc) return fc->forward(dropout->forward(f));
    return head->forward(f);
  }

  int64_t embed_dim() const override { return stream0->feature_dim() + stream1->feature_dim(); }
  std::string head_prefix() const override { return fc ? "fc." : fmt::format("head.{}.", head->size() - 1); }

 private:
  int64_t c0_, c1_;
  bool interleave_;
  std::shared_ptr<ResNet18> stream0, stream1;
  nn::Dropout dropout{nullptr};
  nn::Linear fc{nullptr};
  nn::Sequential head{nullptr};
};

class FusionLate : public Classifier {
 public:
  FusionLate(const config::ModelConfig& cfg, const InputSpec& in)
      : c0_(in.modality_channels.at(0)),
        c1_(in.modality_channels.at(1)),
        learned_(cfg.late_combine == config::LateCombine::kLearned) {
    config::ModelConfig cfg0 = cfg, cfg1 = cfg;
    if (cfg.head != config::Head::kLinear) {
      cfg0.head = "visible";
      cfg1.head = "infrared";
    }
    stream0 = register_module("stream0", std::make_shared<ResNet18>(cfg0, c0_, in.size, in.num_classes));
    stream1 = register_module("stream1", std::make_shared<ResNet18>(cfg1, c1_, in.size, in.num_classes));
    if (learned_) late_logit_weights = register_parameter("late_logit_weights", torch::zeros({2}));
  }

  torch::Tensor forward(torch::Tensor x) override {
    FER_CHECK(x.dim() == 4 && x.size(1) == c0_ + c1_, DataError,
              "fusion_late expects [N, {}, H, W] (modalities stacked as channels), got {}", c0_ + c1_, c10::str(x.sizes()));
    auto l0 = stream0->forward(x.narrow(1, 0, c0_));
    auto l1 = stream1->forward(x.narrow(1, c0_, c1_));
    if (!learned_) return 0.5 * (l0 + l1);
    auto w = torch::softmax(late_logit_weights, 0);
    return w[0] * l0 + w[1] * l1;
  }

 private:
  int64_t c0_, c1_;
  bool learned_;
  std::shared_ptr<ResNet18> stream0, stream1;
  torch::Tensor late_logit_weights;
};

}  // namespace

void register_fusion(ModelRegistry& r) {
  r.add("fusion_feature",
        "two ResNet-18 streams (visible, infrared); pooled features concatenated or interleaved, fused head",
        {[](const config::ModelConfig& cfg, const InputSpec& in) -> std::shared_ptr<Classifier> {
           return std::make_shared<FusionFeature>(cfg, in);
         },
         /*paired=*/true});
  r.add("fusion_late", "two ResNet-18 classifiers (visible, infrared); logits averaged or learned-weighted",
        {[](const config::ModelConfig& cfg, const InputSpec& in) -> std::shared_ptr<Classifier> {
           return std::make_shared<FusionLate>(cfg, in);
         },
         /*paired=*/true});
}

}  // namespace fer::models::detail
