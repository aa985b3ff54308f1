// `fer import-weights`: torchvision state dicts -> fer checkpoints (see fer/train/pretrained.hpp).
#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/core/sha256.hpp"
#include "fer/core/version.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/pretrained.hpp"
#include "listing.hpp"

namespace fer::train {

namespace {

using detail::capped;
using detail::starts_with;

constexpr size_t kListCap = 12;

const torch::Tensor& need(const std::map<std::string, torch::Tensor>& w, const std::string& key, int64_t dims,
                          const std::string& path, const std::string& arch) {
  const auto it = w.find(key);
  FER_CHECK(it != w.end(), DataError,
            "{}: not a {} state dict: missing \"{}\" ({} tensors in the file, e.g. {})", path, arch, key,
            w.size(), w.empty() ? std::string("none") : w.begin()->first);
  FER_CHECK(it->second.dim() == dims, DataError, "{}: \"{}\" has {} dimensions, a {} has {}", path, key,
            it->second.dim(), arch, dims);
  return it->second;
}

}  // namespace

const std::vector<std::string>& importable_archs() {
  static const std::vector<std::string> archs = {"resnet18", "vgg19_bn", "vit_b_16"};
  return archs;
}

ImportReport import_weights(const ImportOptions& opts) {
  const auto& archs = importable_archs();
  FER_CHECK(std::find(archs.begin(), archs.end(), opts.arch) != archs.end(), ConfigError,
            "--arch: unknown architecture \"{}\"; known: {}", opts.arch, fmt::join(archs, ", "));
  const std::string& path = opts.input;
  std::string found_under;
  auto raw = models::read_pytorch_state_dict(path, &found_under);

  ImportReport rep;
  rep.file_tensors = raw.size();
  // Names: a "module." prefix (nn.DataParallel) on every key goes; older torchvision ViTs name
  // the MLP layers linear_1 / linear_2 (now mlp.0 / mlp.3).
  const bool data_parallel =
      std::all_of(raw.begin(), raw.end(), [](const auto& kv) { return starts_with(kv.first, "module."); });
  std::map<std::string, torch::Tensor> w;
  const std::regex old_mlp(R"((encoder\.layers\.encoder_layer_\d+\.mlp\.)linear_([12])\.)");
  for (auto& [key, t] : raw) {
    std::string k = data_parallel ? key.substr(7) : key;
    std::smatch m;
    if (std::regex_search(k, m, old_mlp)) {
      k = std::regex_replace(k, old_mlp,
                             m[2] == "1" ? "$1"
                                           "0."
                                         : "$1"
                                           "3.");
    }
    if (k != key) rep.renamed.push_back(fmt::format("{} -> {}", key, k));
    w.emplace(k, t);
  }

  config::Config cfg;
  config::ModelConfig& mc = cfg.model;
  models::InputSpec in;
  std::set<std::string> dropped_ok, fresh_ok;
  if (opts.arch == "resnet18") {
    const auto& conv1 = need(w, "conv1.weight", 4, path, "resnet18");
    const auto& fc = need(w, "fc.weight", 2, path, "resnet18");
    mc.name = "resnet18";
    FER_CHECK(conv1.size(2) == 7 || conv1.size(2) == 3, DataError,
              "{}: conv1 has a {}x{} kernel; fer's ResNet-18 stem is 7x7 (torchvision) or 3x3", path,
              conv1.size(2), conv1.size(3));
    mc.stem = conv1.size(2) == 7 ? "7x7" : "3x3";
    mc.width = static_cast<int>(conv1.size(0));
    in = {static_cast<int>(conv1.size(1)), mc.stem == config::Stem::k7x7 ? 224 : 48,
          static_cast<int>(fc.size(0))};
  } else if (opts.arch == "vgg19_bn") {
    const auto& conv0 = need(w, "features.0.weight", 4, path, "vgg19_bn");
    mc.name = "vgg19";
    int classes = 0;
    if (w.count("classifier.weight")) {  // the seed's VGG: one Linear(512, classes)
      classes = static_cast<int>(need(w, "classifier.weight", 2, path, "vgg19_bn").size(0));
    } else {  // torchvision's 3-layer classifier has no counterpart: fer's Linear starts fresh
      classes = static_cast<int>(need(w, "classifier.6.weight", 2, path, "vgg19_bn").size(0));
      for (const char* k : {"classifier.0.weight", "classifier.0.bias", "classifier.3.weight",
                            "classifier.3.bias", "classifier.6.weight", "classifier.6.bias"}) {
        dropped_ok.insert(k);
      }
      fresh_ok = {"classifier.weight", "classifier.bias"};
    }
    in = {static_cast<int>(conv0.size(1)), 224, classes};
  } else {  // vit_b_16
    const auto& proj = need(w, "conv_proj.weight", 4, path, "vit_b_16");
    const auto& pos = need(w, "encoder.pos_embedding", 3, path, "vit_b_16");
    const auto& mlp = need(w, "encoder.layers.encoder_layer_0.mlp.0.weight", 2, path, "vit_b_16");
    const auto& head = need(w, "heads.head.weight", 2, path, "vit_b_16");
    FER_CHECK(!w.count("heads.pre_logits.weight"), DataError,
              "{}: has a pre-logits layer (representation_size), which fer's ViT does not have", path);
    mc.name = "vit";
    mc.vit_dim = static_cast<int>(proj.size(0));
    mc.vit_patch = static_cast<int>(proj.size(2));
    mc.vit_mlp_dim = static_cast<int>(mlp.size(0));
    int depth = 0;
    while (w.count(fmt::format("encoder.layers.encoder_layer_{}.ln_1.weight", depth))) ++depth;
    mc.vit_depth = depth;
    mc.vit_heads = opts.vit_heads > 0 ? opts.vit_heads : 12;
    FER_CHECK(mc.vit_dim % mc.vit_heads == 0, DataError,
              "{}: width {} is not divisible by {} heads (set --vit-heads)", path, mc.vit_dim, mc.vit_heads);
    const auto grid = std::llround(std::sqrt(static_cast<double>(pos.size(1) - 1)));
    FER_CHECK(grid * grid + 1 == pos.size(1), DataError,
              "{}: encoder.pos_embedding has {} tokens, not 1 + a square patch grid", path, pos.size(1));
    in = {static_cast<int>(proj.size(1)), static_cast<int>(grid) * mc.vit_patch,
          static_cast<int>(head.size(0))};
  }
  FER_CHECK(in.num_classes >= 2, DataError, "{}: the classifier has {} outputs; at least 2 expected", path,
            in.num_classes);
  FER_CHECK(in.channels == 1 || in.channels == 3, DataError,
            "{}: the input stem takes {} channels; 1 or 3 expected", path, in.channels);
  rep.model_name = mc.name;

  torch::manual_seed(0);  // fresh parts (vgg's classifier) are re-initialised by train anyway
  auto model = models::create_model(mc, in);
  models::LoadReport load;
  try {
    load = models::load_named_tensors(*model, w, /*strict=*/false);
  } catch (const Error& e) {
    throw DataError(fmt::format("{}: {}", path, e.what()));
  }
  std::vector<std::string> missing, unexpected;
  for (const auto& k : load.missing) (fresh_ok.count(k) ? rep.fresh : missing).push_back(k);
  for (const auto& k : load.unexpected) (dropped_ok.count(k) ? rep.dropped : unexpected).push_back(k);
  if (!missing.empty() || !unexpected.empty() || !load.mismatched.empty()) {
    std::string msg =
        fmt::format("{}: does not match {} ({} tensors in the file):", path, opts.arch, raw.size());
    if (!missing.empty())
      msg += fmt::format("\n  missing ({}): {}", missing.size(), capped(missing, kListCap));
    if (!unexpected.empty())
      msg += fmt::format("\n  unexpected ({}): {}", unexpected.size(), capped(unexpected, kListCap));
    if (!load.mismatched.empty())
      msg += fmt::format("\n  shape mismatch ({}): {}", load.mismatched.size(),
                         capped(load.mismatched, kListCap));
    throw DataError(msg);
  }
  rep.imported = w.size() - rep.dropped.size();

  uint64_t bytes = 0;
  const std::string digest = sha256_file(path, &bytes);
  nlohmann::json model_json = config::to_json(cfg).at("model");
  rep.meta = {{"kind", "imported"},
              {"arch", opts.arch},
              {"model", model_json},
              {"input", {{"channels", in.channels}, {"size", in.size}}},
              {"classes", in.num_classes},
              {"source",
               {{"path", std::filesystem::absolute(path).string()},
                {"sha256", digest},
                {"bytes", bytes},
                {"found_under", found_under}}},
              {"imported", rep.imported},
              {"renamed", rep.renamed},
              {"dropped", rep.dropped},
              {"fresh", rep.fresh},
              {"fer_version", version()},
              {"git_commit", git_commit()}};
  // torchvision's weights are trained on ImageNet-normalised input; the seed's VGG and a 3x3-stem
  // ResNet come from FER code whose normalisation the file does not record.
  const bool torchvision_layout = !(mc.name == "vgg19" && fresh_ok.empty()) && mc.stem != config::Stem::k3x3;
  if (torchvision_layout) rep.meta["expects_normalize"] = "imagenet";
  save_checkpoint(opts.output, *model, nullptr, rep.meta);
  return rep;
}

}  // namespace fer::train
