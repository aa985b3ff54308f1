#pragma once
// Classifier networks. Every model maps [N, C, H, W] float images to [N, classes] logits
// (softmax only when reporting probabilities).
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fer/config/config.hpp"

namespace fer::models {

/// Base of all classifiers: logits from images.
///
/// Models with a single embedding (all but fusion_late) also split forward(x) into
/// classify(embed(x)): embed gives the [N, embed_dim()] features the final classifier reads
/// (pooled CNN features, ViT class token, the compact CNN's penultimate layer) and classify
/// the logits. The self-cure importance branch (model.importance_weighting) reads the
/// embedding: forward_weighted returns the logits and a per-sample weight in (0, 1).
class Classifier : public torch::nn::Module {
 public:
  /// classify(embed(x)); fusion_late, which has no single embedding, overrides it.
  virtual torch::Tensor forward(torch::Tensor x) { return classify(embed(std::move(x))); }
  /// Features before the classifier, [N, embed_dim()]. Throws ConfigError when embed_dim() is 0.
  virtual torch::Tensor embed(torch::Tensor x);
  /// Logits from embed's features (dropout included in training mode).
  virtual torch::Tensor classify(torch::Tensor features);
  /// Width of embed's features; 0 for a model without a single embedding (fusion_late).
  virtual int64_t embed_dim() const { return 0; }
  /// Name prefix of the final classifier layer's parameters ("fc.", "heads.head.", ...), the
  /// layer a pretrained initialisation re-initialises; "" when there is no single one.
  virtual std::string head_prefix() const { return ""; }

  /// Registers the importance branch "importance" (Linear(embed_dim(), 1)). ConfigError when
  /// the model has no embedding; a second call does nothing.
  void add_importance_branch();
  bool has_importance_branch() const { return static_cast<bool>(importance_); }
  /// {logits, alpha}: logits = classify(embed(x)) (unscaled), alpha = sigmoid(importance(embed(x)))
  /// of shape [N]. Needs the importance branch.
  std::pair<torch::Tensor, torch::Tensor> forward_weighted(torch::Tensor x);

 private:
  torch::nn::Linear importance_{nullptr};
};

/// Shape of the data a model is built for.
struct InputSpec {
  InputSpec() = default;
  /// {channels, size, num_classes} or, for paired input, {channels, size, num_classes, {3, 1}}.
  InputSpec(int c, int s, int n, std::vector<int> modalities = {})
      : channels(c), size(s), num_classes(n), modality_channels(std::move(modalities)) {}
  int channels = 3;  ///< 1 or 3 (one image); 1..8 stacked (paired input)
  int size = 48;     ///< side of the (cropped) input
  int num_classes = 7;
  std::vector<int> modality_channels;  ///< paired input: channels of each modality, stacked in this order (sum == channels); empty = one image
};

/// Builds the model named cfg.name; an unknown name is a ConfigError listing the known ones.
/// The fusion models (fusion_early, fusion_feature, fusion_late) need two modality_channels
/// summing to channels; their streams are named "stream0." / "stream1." (fusion_feature,
/// fusion_late), each with the parameter names of a standalone resnet18 (fusion_feature's
/// streams without the head). A ConfigError names the /model/... key at fault.
std::shared_ptr<Classifier> create_model(const config::ModelConfig& cfg, const InputSpec& in);

/// Result of loading named tensors into a module.
struct LoadReport {
  std::vector<std::string> missing;     ///< in the module, not in the file
  std::vector<std::string> unexpected;  ///< in the file, not in the module
  std::vector<std::string> mismatched;  ///< same name, different shape ("name: file [..] vs model [..]")
};

/// Copies `tensors` into the module's parameters and buffers by name. With strict, any
/// missing, unexpected or mismatched entry throws DataError listing them all.
LoadReport load_named_tensors(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
                              bool strict);

/// Reads a state dict saved in Python with torch.save(model.state_dict(), f) (an OrderedDict),
/// torch.save(dict(model.state_dict()), f), or a checkpoint dict holding exactly one state dict
/// under a key ({"state_dict": ..., "epoch": ...}; the key goes to *found_under, "" otherwise).
/// Throws IoError/DataError naming the file.
std::map<std::string, torch::Tensor> read_pytorch_state_dict(const std::string& path,
                                                             std::string* found_under = nullptr);

}  // namespace fer::models
