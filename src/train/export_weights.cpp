// fer export-weights: a checkpoint's weights as a PyTorch state dict (torch.load reads it).
#include <fmt/format.h>
#include <torch/serialize.h>

#include <algorithm>
#include <set>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/pretrained.hpp"
#include "fer/train/run_files.hpp"

namespace fer::train {
namespace {

/// The tensor names of torchvision's resnet18 (parameters and batch-norm buffers).
std::set<std::string> torchvision_resnet18_names() {
  std::set<std::string> names{"conv1.weight", "fc.weight", "fc.bias"};
  auto bn = [&](const std::string& p) {
    for (const char* s : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}) {
      names.insert(p + "." + s);
    }
  };
  bn("bn1");
  for (int layer = 1; layer <= 4; ++layer) {
    for (int block = 0; block < 2; ++block) {
      const std::string b = fmt::format("layer{}.{}.", layer, block);
      names.insert(b + "conv1.weight");
      names.insert(b + "conv2.weight");
      bn(b + "bn1");
      bn(b + "bn2");
      if (layer > 1 && block == 0) {
        names.insert(b + "downsample.0.weight");
        bn(b + "downsample.1");
      }
    }
  }
  return names;
}

}  // namespace

const std::vector<std::string>& export_formats() {
  static const std::vector<std::string> f{"torchvision", "fer"};
  return f;
}

ExportReport export_weights(const ExportOptions& opts) {
  FER_CHECK(opts.format == "torchvision" || opts.format == "fer", UsageError,
            "--format: expected torchvision or fer, got \"{}\"", opts.format);
  FER_CHECK(!opts.output.empty(), UsageError, "--out: give the file to write, e.g. model.pth");
  ExportReport r;
  r.checkpoint = resolve_checkpoint(opts.run, opts.checkpoint);
  const CheckpointContents c = read_checkpoint(r.checkpoint);
  // A training checkpoint holds its whole config; an import-weights checkpoint its model section.
  nlohmann::json model, preprocess, classes;
  int channels = 0, size = 0;
  try {
    if (c.meta.contains("config")) {
      const auto& cfg = c.meta.at("config");
      model = cfg.at("model");
      preprocess = cfg.at("preprocess");
      channels = preprocess.at("channels").get<int>();
      size = preprocess.at("size").get<int>();
      const int crop = cfg.at("augment").value("crop", 0);
      if (crop > 0) size = crop;
      classes = c.meta.at("class_names");
    } else {
      model = c.meta.at("model");
      channels = c.meta.at("input").at("channels").get<int>();
      size = c.meta.at("input").at("size").get<int>();
      classes = c.meta.at("classes");
    }
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: incomplete checkpoint record: {}", r.checkpoint, e.what()));
  }
  r.model_name = model.value("name", "");
  if (opts.format == "torchvision") {
    FER_CHECK(r.model_name == "resnet18", UsageError,
              "{}: a {} model; --format torchvision covers resnet18 (torchvision's names and layout); use "
              "--format fer for fer's own names",
              r.checkpoint, r.model_name);
    const std::set<std::string> want = torchvision_resnet18_names();
    std::vector<std::string> extra, missing;
    for (const auto& [name, t] : c.weights) {
      if (!want.count(name)) extra.push_back(name);
    }
    for (const auto& name : want) {
      if (!c.weights.count(name)) missing.push_back(name);
    }
    const int width = static_cast<int>(c.weights.at("conv1.weight").size(0));
    FER_CHECK(
        extra.empty() && missing.empty() && width == 64, UsageError,
        "{}: this resnet18 is not torchvision's{}{}{}; use --format fer (fer's names; see "
        "scripts/fer_torchvision.py)",
        r.checkpoint, width == 64 ? "" : fmt::format(" (width {}, torchvision's is 64)", width),
        extra.empty()
            ? ""
            : fmt::format("; tensors torchvision's resnet18 has no place for: {}{}",
                          fmt::join(extra.begin(), extra.begin() + std::min<size_t>(extra.size(), 6), ", "),
                          extra.size() > 6 ? fmt::format(" and {} more", extra.size() - 6) : ""),
        missing.empty() ? "" : fmt::format("; missing: {}", fmt::join(missing, ", ")));
  }
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : c.weights) dict.insert(name, t.contiguous());
  r.tensors = c.weights.size();
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomic(opts.output, std::string(bytes.begin(), bytes.end()));
  nlohmann::json side{{"format", opts.format},
                      {"checkpoint", r.checkpoint},
                      {"model", model},
                      {"input", {{"channels", channels}, {"size", size}}},
                      {"classes", classes}};
  if (!preprocess.is_null()) side["preprocess"] = preprocess;
  r.sidecar = opts.output + ".json";
  write_file_atomic(r.sidecar, side.dump(2) + "\n");
  return r;
}

}  // namespace fer::train
