#include "fer/train/init_streams.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

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

constexpr size_t kListCap = 10;

bool is_head(const std::string& name) { return starts_with(name, "fc.") || starts_with(name, "head."); }

/// Warns when the checkpoint normalised its input differently from the fused run's channels
/// of that modality: the copied stream would then see shifted inputs.
void check_normalization(const config::PreprocessConfig& from, const config::PreprocessConfig& fused,
                         size_t offset, size_t channels, const std::string& path,
                         const std::string& modality) {
  if (from.mean.size() != channels || from.std.size() != channels || fused.mean.size() < offset + channels ||
      fused.std.size() < offset + channels) {
    if (from.normalize != fused.normalize) {
      spdlog::warn("{}: normalize \"{}\", the fused run \"{}\": the {} stream sees differently scaled inputs",
                   path, from.normalize, fused.normalize, modality);
    }
    return;
  }
  for (size_t c = 0; c < channels; ++c) {
    if (std::abs(from.mean[c] - fused.mean[offset + c]) > 1e-3 ||
        std::abs(from.std[c] - fused.std[offset + c]) > 1e-3) {
      spdlog::warn(
          "{}: inputs normalised with mean [{:.4f}] std [{:.4f}], the fused run's {} channels with mean "
          "[{:.4f}] std [{:.4f}]: the copied stream sees shifted inputs",
          path, fmt::join(from.mean, ", "), fmt::join(from.std, ", "), modality,
          fmt::join(fused.mean.begin() + offset, fused.mean.begin() + offset + channels, ", "),
          fmt::join(fused.std.begin() + offset, fused.std.begin() + offset + channels, ", "));
      return;
    }
  }
}

/// Copies checkpoint `path` into stream `i` of `targets` (the fused model's tensors by name).
StreamInit init_stream(std::map<std::string, torch::Tensor>& targets, const config::Config& cfg,
                       const std::vector<std::string>& class_names, int i, const std::string& path) {
  const auto& paired = cfg.data.paired;
  const std::string& modality = paired.modalities.at(i);
  const int channels = paired.channels.at(i);
  const std::string stream = fmt::format("stream{}", i);
  const bool late = cfg.model.name == "fusion_late";

  const CheckpointContents ckpt = read_checkpoint(path);
  config::Config stored;
  std::vector<std::string> stored_classes;
  try {
    stored = config::parse_config(ckpt.meta.at("config").dump(), path + " (stored config)");
    stored_classes = ckpt.meta.at("class_names").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: incomplete checkpoint record: {}", path, e.what()));
  }
  FER_CHECK(stored.model.name == "resnet18", DataError,
            "{}: a {} model; {} ({}) needs the checkpoint of a single-stream resnet18 (e.g. trained with "
            "data.paired.use \"{}\")",
            path, stored.model.name, stream, modality, modality);
  FER_CHECK(stored.preprocess.channels == channels, DataError,
            "{}: the model takes {} input channel(s), but {} ({}) takes {} (data.paired.channels)", path,
            stored.preprocess.channels, stream, modality, channels);
  if (config::is_paired_format(stored.data.format) && stored.data.paired.use != modality) {
    spdlog::warn("{}: trained on modality \"{}\", used for {} (\"{}\")", path, stored.data.paired.use, stream,
                 modality);
  }
  if (late) {
    FER_CHECK(stored_classes == class_names, DataError,
              "{}: classes [{}] differ from the dataset's [{}] (fusion_late copies each stream's classifier "
              "head, so "
              "the classes and their order must be the same)",
              path, fmt::join(stored_classes, ", "), fmt::join(class_names, ", "));
  }
  const size_t offset =
      static_cast<size_t>(std::accumulate(paired.channels.begin(), paired.channels.begin() + i, 0));
  check_normalization(stored.preprocess, cfg.preprocess, offset, static_cast<size_t>(channels), path,
                      modality);

  // Match every tensor of the stream first; copy only when all match.
  std::vector<std::pair<torch::Tensor*, const torch::Tensor*>> copies;
  std::vector<std::string> missing, mismatched, left_over;
  std::map<std::string, bool> used;
  const std::string prefix = stream + ".";
  for (auto& [name, target] : targets) {
    if (!starts_with(name, prefix)) continue;
    const std::string key = name.substr(prefix.size());
    const auto it = ckpt.weights.find(key);
    if (it == ckpt.weights.end()) {
      missing.push_back(key);
      continue;
    }
    used[key] = true;
    if (it->second.sizes() != target.sizes()) {
      mismatched.push_back(
          fmt::format("{}: checkpoint {} vs stream {}", key, shape_str(it->second), shape_str(target)));
      continue;
    }
    copies.emplace_back(&target, &it->second);
  }
  for (const auto& [key, tensor] : ckpt.weights) {
    if (!used.count(key) && (late || !is_head(key))) left_over.push_back(key);
  }
  if (!missing.empty() || !mismatched.empty() || !left_over.empty()) {
    std::string msg = fmt::format(
        "{}: does not fit {} ({}) of {} (model.width, stem, se, feature_gate and head must "
        "be the same as the checkpoint's):",
        path, stream, modality, cfg.model.name);
    if (!missing.empty())
      msg += fmt::format("\n  missing in the checkpoint ({}): {}", missing.size(), capped(missing, kListCap));
    if (!mismatched.empty()) {
      msg += fmt::format("\n  different shapes ({}): {}", mismatched.size(), capped(mismatched, kListCap));
    }
    if (!left_over.empty()) {
      msg += fmt::format("\n  not in the stream ({}): {}", left_over.size(), capped(left_over, kListCap));
    }
    throw DataError(msg);
  }

  StreamInit r;
  r.stream = i;
  r.checkpoint = path;
  r.tensors = copies.size();
  bool gate = false, head = false;
  torch::NoGradGuard no_grad;
  for (auto& [target, source] : copies) target->copy_(source->to(target->dtype()));
  for (const auto& [key, u] : used) {
    gate = gate || starts_with(key, "gate.");
    head = head || is_head(key);
  }
  r.parts.push_back("backbone");
  if (gate) r.parts.push_back("gate");
  if (head) r.parts.push_back("head");
  return r;
}

}  // namespace

std::string StreamInit::describe() const {
  return fmt::format("stream{} <- {}: {} tensors ({})", stream, checkpoint, tensors, fmt::join(parts, ", "));
}

std::vector<StreamInit> init_streams(models::Classifier& model, const config::Config& cfg,
                                     const std::vector<std::string>& class_names) {
  const auto& entries = cfg.model.init_streams;
  if (entries.empty()) return {};
  FER_CHECK(
      cfg.model.name == "fusion_feature" || cfg.model.name == "fusion_late", ConfigError,
      "/model/init_streams: expected [] for model \"{}\" (it initialises the streams of fusion_feature and "
      "fusion_late)",
      cfg.model.name);
  FER_CHECK(entries.size() == cfg.data.paired.modalities.size() &&
                entries.size() == cfg.data.paired.channels.size(),
            ConfigError,
            "/model/init_streams: expected {} entries (one per modality of data.paired.modalities), got {}",
            cfg.data.paired.modalities.size(), entries.size());

  std::map<std::string, torch::Tensor> targets;  // shallow copies share storage with the model
  for (auto& p : model.named_parameters(/*recurse=*/true)) targets.emplace(p.key(), p.value());
  for (auto& b : model.named_buffers(/*recurse=*/true)) targets.emplace(b.key(), b.value());

  std::vector<StreamInit> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].empty()) continue;
    const std::string where =
        fmt::format("model.init_streams[{}] (stream{}, {})", i, i, cfg.data.paired.modalities[i]);
    try {
      const std::string path = resolve_checkpoint(entries[i]);
      out.push_back(init_stream(targets, cfg, class_names, static_cast<int>(i), path));
    } catch (const IoError& e) {
      throw IoError(fmt::format("{}: {}", where, e.what()));
    } catch (const DataError& e) {
      throw DataError(fmt::format("{}: {}", where, e.what()));
    }
  }
  return out;
}

}  // namespace fer::train
