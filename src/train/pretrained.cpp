// model.pretrained and `fer import-weights` (see fer/train/pretrained.hpp).
#include "fer/train/pretrained.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "fer/core/error.hpp"
#include "fer/train/run_files.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "listing.hpp"

namespace fer::train {

namespace {

using detail::capped;
using detail::shape_str;
using detail::starts_with;

constexpr size_t kListCap = 12;

/// Models whose weights can initialise each other.
std::string family(const std::string& model) {
  if (model == "resnet18" || model == "fusion_early") return "resnet18";
  if (model == "vit" || model == "vit_se") return "vit";
  return model;
}

/// The input stem's weight of each family.
std::string stem_weight(const std::string& fam) {
  if (fam == "resnet18") return "conv1.weight";
  if (fam == "vit") return "conv_proj.weight";
  return "features.0.weight";  // vgg19, compact_cnn
}

/// `from` [O, Cf, k, k] for `to_channels` inputs: the kernel summed over the input channels and
/// spread evenly over the new ones, so a flat image gives the same response.
torch::Tensor adapt_channels(const torch::Tensor& from, int64_t to_channels) {
  return (from.sum(1, /*keepdim=*/true) / static_cast<double>(to_channels)).repeat({1, to_channels, 1, 1});
}

/// ViT position embedding [1, 1 + g*g, D] for `tokens` = 1 + h*h tokens.
torch::Tensor resize_position_embedding(const torch::Tensor& pos, int64_t tokens) {
  const int64_t g = std::llround(std::sqrt(static_cast<double>(pos.size(1) - 1)));
  const int64_t h = std::llround(std::sqrt(static_cast<double>(tokens - 1)));
  FER_CHECK(g * g + 1 == pos.size(1) && h * h + 1 == tokens, DataError,
            "position embeddings of {} and {} tokens are not square patch grids", pos.size(1), tokens);
  const int64_t dim = pos.size(2);
  auto grid = pos.narrow(1, 1, g * g).reshape({1, g, g, dim}).permute({0, 3, 1, 2});
  grid = torch::nn::functional::interpolate(grid, torch::nn::functional::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{h, h})
                                                      .mode(torch::kBicubic)
                                                      .align_corners(true));
  grid = grid.permute({0, 2, 3, 1}).reshape({1, h * h, dim});
  return torch::cat({pos.narrow(1, 0, 1), grid}, 1);
}

/// The model name a checkpoint's record holds: a training checkpoint's config, or an imported
/// one's "model"; "" when neither.
std::string source_model(const nlohmann::json& meta) {
  if (meta.contains("config")) return meta.at("config").at("model").at("name").get<std::string>();
  if (meta.contains("model")) return meta.at("model").at("name").get<std::string>();
  return "";
}

}  // namespace

nlohmann::json PretrainedInit::to_json() const {
  return {{"checkpoint", checkpoint}, {"source_model", source_model},
          {"copied", copied},         {"adapted", adapted},
          {"fresh", fresh},           {"unused", unused}};
}

std::string PretrainedInit::describe() const {
  std::string s = fmt::format("pretrained {} ({}): {} tensors copied", checkpoint, source_model, copied);
  if (!adapted.empty()) s += fmt::format(", {} adapted ({})", adapted.size(), capped(adapted, kListCap));
  if (!fresh.empty()) s += fmt::format(", {} initialised fresh ({})", fresh.size(), capped(fresh, kListCap));
  if (!unused.empty()) s += fmt::format(", {} unused ({})", unused.size(), capped(unused, kListCap));
  return s;
}

std::string check_pretrained(const config::Config& cfg) {
  const std::string& name = cfg.model.name;
  FER_CHECK(name != "fusion_feature" && name != "fusion_late", ConfigError,
            "/model/pretrained: {} has two streams; initialise them with model.init_streams (single-modality "
            "runs, which can themselves start from model.pretrained)",
            name);
  std::string path;
  nlohmann::json meta;
  try {
    path = resolve_checkpoint(cfg.model.pretrained);
    meta = read_checkpoint_meta(path);
  } catch (const IoError& e) {
    throw IoError(fmt::format("/model/pretrained: {}", e.what()));
  } catch (const DataError& e) {
    throw DataError(fmt::format(
        "/model/pretrained: {} (a PyTorch state dict is converted with fer import-weights)", e.what()));
  }
  const std::string source = source_model(meta);
  FER_CHECK(!source.empty(), DataError, "/model/pretrained: {}: a fer checkpoint without a model record",
            path);
  FER_CHECK(family(source) == family(name), DataError,
            "/model/pretrained: {}: holds a {} model, which cannot initialise model \"{}\" (model.pretrained "
            "needs the "
            "same family: resnet18/fusion_early, vgg19, compact_cnn or vit/vit_se)",
            path, source, name);
  return path;
}

PretrainedInit init_from_pretrained(models::Classifier& model, const config::Config& cfg) {
  PretrainedInit out;
  out.checkpoint = check_pretrained(cfg);
  const CheckpointContents ckpt = read_checkpoint(out.checkpoint);
  const auto& meta = ckpt.meta;
  out.source_model = source_model(meta);
  const std::string fam = family(cfg.model.name);
  const std::string& name = cfg.model.name;
  // Input normalisation the weights were trained with.
  std::string trained_norm;
  if (meta.contains("config")) trained_norm = meta.at("config").at("preprocess").value("normalize", "");
  if (meta.contains("expects_normalize")) trained_norm = meta.at("expects_normalize").get<std::string>();
  const bool gray_imagenet =
      trained_norm == "imagenet" && cfg.preprocess.channels != 3;  // no gray ImageNet stats
  if (!trained_norm.empty() && trained_norm != cfg.preprocess.normalize && !gray_imagenet) {
    spdlog::warn(
        "{}: the weights were trained on inputs normalised \"{}\", this run uses preprocess.normalize "
        "\"{}\"",
        out.checkpoint, trained_norm, cfg.preprocess.normalize);
  }

  const std::string head = model.head_prefix();
  const std::string stem = stem_weight(fam);
  std::set<std::string> used;
  std::vector<std::string> mismatched;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // target, value
  auto consider = [&](const std::string& key, torch::Tensor& target) {
    if (!head.empty() && starts_with(key, head)) {
      out.fresh.push_back(key);
      if (ckpt.weights.count(key)) used.insert(key);
      return;
    }
    const auto it = ckpt.weights.find(key);
    if (it == ckpt.weights.end()) {
      out.fresh.push_back(key);
      return;
    }
    used.insert(key);
    torch::Tensor v = it->second;
    if (v.sizes() == target.sizes()) {
      copies.emplace_back(target, v);
      ++out.copied;
      return;
    }
    const std::string was = shape_str(v);
    std::vector<std::string> steps;
    if (key == stem && v.dim() == 4 && target.dim() == 4 && v.size(0) == target.size(0)) {
      if (fam == "resnet18" && v.size(2) == 7 && target.size(2) == 3) {
        v = torch::adaptive_avg_pool2d(v, {3, 3}) * (49.0 / 9.0);
        steps.push_back("7x7 kernel area-resampled to 3x3 (x 49/9)");
      }
      if (v.size(1) != target.size(1)) {
        steps.push_back(fmt::format("{} -> {} input channels ({})", v.size(1), target.size(1),
                                    target.size(1) == 1 ? "summed" : "summed and spread"));
        v = adapt_channels(v, target.size(1));
      }
    } else if (key == "encoder.pos_embedding" && v.dim() == 3 && target.dim() == 3 &&
               v.size(2) == target.size(2)) {
      v = resize_position_embedding(v, target.size(1));
      steps.push_back(fmt::format("{} -> {} tokens (patch grid interpolated bicubically)", it->second.size(1),
                                  target.size(1)));
    }
    if (v.sizes() != target.sizes()) {
      mismatched.push_back(fmt::format("{}: checkpoint {} vs model {}", key, was, shape_str(target)));
      return;
    }
    out.adapted.push_back(fmt::format("{}: {}", key, fmt::join(steps, ", ")));
    copies.emplace_back(target, v);
  };
  for (auto& p : model.named_parameters(/*recurse=*/true)) consider(p.key(), p.value());
  for (auto& b : model.named_buffers(/*recurse=*/true)) consider(b.key(), b.value());
  for (const auto& [key, t] : ckpt.weights) {
    if (!used.count(key)) out.unused.push_back(key);
  }
  if (!mismatched.empty()) {
    throw DataError(fmt::format(
        "{}: does not fit model \"{}\" ({} tensors of different shape; model.width, stem, vit_* and the "
        "attention blocks shared by both must be the same):\n  {}",
        out.checkpoint, name, mismatched.size(), capped(mismatched, kListCap)));
  }
  FER_CHECK(out.copied + out.adapted.size() > 0, DataError,
            "{}: no tensor of the checkpoint fits model \"{}\"", out.checkpoint, name);
  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(value.to(target.dtype()).to(target.device()));
  return out;
}

}  // namespace fer::train
