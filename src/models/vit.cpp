// Vision Transformer (Dosovitskiy et al. 2021) with the module and parameter names of
// torchvision's VisionTransformer (vit_b_16 and friends), so its state dicts load one to one:
// conv_proj, class_token, encoder.pos_embedding, encoder.layers.encoder_layer_<i>.{ln_1,
// self_attention, ln_2, mlp.0, mlp.3}, encoder.ln, heads.head. Pre-norm blocks, LayerNorm
// eps 1e-6, exact GELU, torchvision's initialisation.
// vit_se adds the squeeze-and-excitation block of Aouayeb et al. 2021 ("Learning Vision
// Transformer with Squeeze and Excitation for Facial Expression Recognition") on the class
// token before the head: cls * sigmoid(fc2(relu(fc1(cls)))), fc1 dim -> dim/4, fc2 dim/4 -> dim.
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cmath>
#include <vector>

#include "backbone.hpp"
#include "fer/core/error.hpp"

namespace fer::models::detail {
namespace nn = torch::nn;

namespace {

constexpr double kLayerNormEps = 1e-6;  // torchvision's ViT norm_layer

nn::LayerNorm layer_norm(int64_t dim) {
  return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(kLayerNormEps));
}

/// nn.init.trunc_normal_(t, std=std) as PyTorch does it (bounds -2, 2 in absolute units):
/// inverse-CDF sampling, so the values are exactly truncated normal. LibTorch 1.13 lacks it.
void trunc_normal_(const torch::Tensor& t, double std) {
  torch::NoGradGuard ng;
  const auto cdf = [](double v) { return (1.0 + std::erf(v / std::sqrt(2.0))) / 2.0; };
  const double lo = cdf(-2.0 / std), hi = cdf(2.0 / std);
  t.uniform_(2 * lo - 1, 2 * hi - 1).erfinv_().mul_(std * std::sqrt(2.0)).clamp_(-2.0, 2.0);
}

/// One pre-norm Transformer block on sequence-first tokens [L, N, D]:
/// x + attn(ln_1(x)), then + mlp(ln_2(x)) with mlp = Linear, GELU, Dropout, Linear, Dropout
/// (torchvision's MLPBlock indices, so the Linear layers are mlp.0 and mlp.3).
class EncoderBlockImpl : public nn::Module {
 public:
  EncoderBlockImpl(int64_t dim, int64_t heads, int64_t mlp_dim) {
    ln_1 = register_module("ln_1", layer_norm(dim));
    self_attention =
        register_module("self_attention", nn::MultiheadAttention(nn::MultiheadAttentionOptions(dim, heads)));
    ln_2 = register_module("ln_2", layer_norm(dim));
    mlp = register_module("mlp", nn::Sequential(nn::Linear(dim, mlp_dim), nn::GELU(), nn::Dropout(0.0),
                                                nn::Linear(mlp_dim, dim), nn::Dropout(0.0)));
    // torchvision's MLPBlock init; the attention keeps MultiheadAttention's own (as in PyTorch).
    for (auto& m : mlp->modules(/*include_self=*/false)) {
      if (auto* l = m->as<nn::Linear>()) {
        nn::init::xavier_uniform_(l->weight);
        nn::init::normal_(l->bias, 0.0, 1e-6);
      }
    }
  }

  torch::Tensor forward(torch::Tensor x) {
    auto y = ln_1->forward(x);
    x = x + std::get<0>(self_attention->forward(y, y, y, /*key_padding_mask=*/{}, /*need_weights=*/false));
    return x + mlp->forward(ln_2->forward(x));
  }

  nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  nn::MultiheadAttention self_attention{nullptr};
  nn::Sequential mlp{nullptr};
};
TORCH_MODULE(EncoderBlock);

/// Position embedding, the blocks (under "layers", named encoder_layer_<i>) and the final norm.
class EncoderImpl : public nn::Module {
 public:
  EncoderImpl(int64_t tokens, int64_t depth, int64_t dim, int64_t heads, int64_t mlp_dim) {
    pos_embedding = register_parameter("pos_embedding", torch::empty({1, tokens, dim}));
    nn::init::normal_(pos_embedding, 0.0, 0.02);  // torchvision (from BERT)
    auto layers = register_module("layers", std::make_shared<nn::Module>("Sequential"));
    for (int64_t i = 0; i < depth; ++i) {
      blocks_.push_back(
          layers->register_module("encoder_layer_" + std::to_string(i), EncoderBlock(dim, heads, mlp_dim)));
    }
    ln = register_module("ln", layer_norm(dim));
  }

  /// tokens [L, N, D] (class token first) -> normalised tokens [L, N, D].
  torch::Tensor forward(torch::Tensor x) {
    x = x + pos_embedding.transpose(0, 1);
    for (auto& b : blocks_) x = b->forward(x);
    return ln->forward(x);
  }

  torch::Tensor pos_embedding;
  nn::LayerNorm ln{nullptr};

 private:
  std::vector<EncoderBlock> blocks_;
};
TORCH_MODULE(Encoder);

/// Excitation on a token (no squeeze: it is a vector already): t * sigmoid(fc2(relu(fc1(t)))).
class TokenExcitationImpl : public nn::Module {
 public:
  explicit TokenExcitationImpl(int64_t dim) {
    const int64_t hidden = std::max<int64_t>(1, dim / 4);  // the paper's FCL_{gamma/4}
    fc1 = register_module("fc1", nn::Linear(dim, hidden));
    fc2 = register_module("fc2", nn::Linear(hidden, dim));
  }
  torch::Tensor forward(const torch::Tensor& t) {
    return t * torch::sigmoid(fc2->forward(torch::relu(fc1->forward(t))));
  }
  nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(TokenExcitation);

class VisionTransformer : public Classifier {
 public:
  VisionTransformer(const config::ModelConfig& cfg, int channels, int size, int num_classes, bool se)
      : name_(cfg.name), size_(size) {
    const int64_t dim = cfg.vit_dim, patch = cfg.vit_patch;
    const int64_t tokens = 1 + (size / patch) * (size / patch);
    conv_proj =
        register_module("conv_proj", nn::Conv2d(nn::Conv2dOptions(channels, dim, patch).stride(patch)));
    class_token = register_parameter("class_token", torch::zeros({1, 1, dim}));
    encoder = register_module("encoder", Encoder(tokens, cfg.vit_depth, dim, cfg.vit_heads, cfg.vit_mlp_dim));
    if (se) this->se = register_module("se", TokenExcitation(dim));
    dropout = register_module("dropout", nn::Dropout(cfg.dropout));
    auto heads = register_module("heads", std::make_shared<nn::Module>("Sequential"));
    head = heads->register_module("head", nn::Linear(dim, num_classes));
    // torchvision: truncated-normal patch projection (std sqrt(1 / fan_in)), zero bias and head.
    trunc_normal_(conv_proj->weight, std::sqrt(1.0 / static_cast<double>(channels * patch * patch)));
    nn::init::zeros_(conv_proj->bias);
    nn::init::zeros_(head->weight);
    nn::init::zeros_(head->bias);
  }

  /// The class token after the encoder (and the SE block of vit_se), [N, vit_dim].
  torch::Tensor embed(torch::Tensor x) override {
    FER_CHECK(
        x.dim() == 4 && x.size(2) == size_ && x.size(3) == size_, DataError,
        "{}: expected images of {}x{} px (the position embedding fixes the size), got a tensor of {} dims "
        "ending {}x{}",
        name_, size_, size_, x.dim(), x.dim() >= 2 ? x.size(-2) : 0, x.dim() >= 1 ? x.size(-1) : 0);
    // Patches -> tokens, sequence first ([L, N, D], as torch::nn::MultiheadAttention expects);
    // row-major patch order, as torchvision's reshape.
    x = conv_proj->forward(x).flatten(2).permute({2, 0, 1});
    x = torch::cat({class_token.expand({1, x.size(1), -1}), x}, 0);
    auto cls = encoder->forward(x)[0];  // [N, D]
    if (se) cls = se->forward(cls);
    return cls;
  }

  torch::Tensor classify(torch::Tensor cls) override { return head->forward(dropout->forward(cls)); }
  int64_t embed_dim() const override { return head->options.in_features(); }
  std::string head_prefix() const override { return "heads.head."; }

  nn::Conv2d conv_proj{nullptr};
  torch::Tensor class_token;
  Encoder encoder{nullptr};
  TokenExcitation se{nullptr};
  nn::Dropout dropout{nullptr};
  nn::Linear head{nullptr};

 private:
  std::string name_;
  int64_t size_ = 0;
};

}  // namespace

namespace {

std::shared_ptr<Classifier> make_vit(const config::ModelConfig& cfg, const InputSpec& in) {
  const config::ModelConfig defaults;  // the ViT's own wording for the two keys it is likeliest to meet
  FER_CHECK(
      !cfg.se, ConfigError,
      "/model/attention: \"se\" applies to ResNet-18 blocks only; the SE block on the class token comes "
      "with the model name vit_se (got model \"{}\")",
      cfg.name);
  FER_CHECK(cfg.width == defaults.width, ConfigError,
            "/model/width: {} takes its width from model.vit_dim; remove the key (width {} applies "
            "to ResNet-18 only)",
            cfg.name, cfg.width);
  FER_CHECK(cfg.init == defaults.init, ConfigError,
            "/model/init: {} has only its torchvision initialisation (init \"{}\"); remove the key", cfg.name,
            defaults.init);
  check_single_image_model(cfg, in);
  FER_CHECK(cfg.vit_patch >= 1 && cfg.vit_dim >= 1 && cfg.vit_depth >= 1 && cfg.vit_heads >= 1 &&
                cfg.vit_mlp_dim >= 1,
            ConfigError, "/model: {} needs vit_patch, vit_dim, vit_depth, vit_heads and vit_mlp_dim >= 1",
            cfg.name);
  FER_CHECK(cfg.vit_dim % cfg.vit_heads == 0, ConfigError, "/model/vit_heads: must divide vit_dim {}, got {}",
            cfg.vit_dim, cfg.vit_heads);
  FER_CHECK(
      in.size % cfg.vit_patch == 0, ConfigError,
      "/model/vit_patch: must divide the input size {} (preprocess.size, or augment.crop when set), got {}",
      in.size, cfg.vit_patch);
  return std::make_shared<VisionTransformer>(cfg, in.channels, in.size, in.num_classes, cfg.name == "vit_se");
}

}  // namespace

void register_vit(ModelRegistry& r) {
  r.add("vit", "Vision Transformer (torchvision VisionTransformer names); ViT-B/16 unless model.vit_* set",
        {make_vit});
  r.add("vit_se", "ViT + squeeze-and-excitation on the class token before the head (Aouayeb et al. 2021)",
        {make_vit});
}

}  // namespace fer::models::detail
