#include "fer/data/prepare.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <unordered_map>

#include "fer/augment/transforms.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/data/loaders.hpp"

namespace fer::data {
namespace fs = std::filesystem;

Dataset load_configured(const config::DataConfig& cfg) {
  Dataset ds = load_dataset(cfg);  // paired formats read cfg.paired and apply cfg.subject_pattern themselves
  if (!is_paired_format(cfg.format)) assign_subjects(ds, cfg.subject_pattern);  // any format with file names
  if (!cfg.label_map.empty() || !cfg.classes.empty()) {
    ds = remap_classes(std::move(ds), cfg.label_map, cfg.classes, cfg.classes_at, cfg.label_map_at);
  }
  FER_CHECK(!ds.samples.empty(), DataError, "{}: no samples", cfg.path);
  return ds;
}

Split split_from_json(const nlohmann::json& j, const Dataset& ds, const std::string& origin) {
  std::unordered_map<std::string, size_t> by_id;
  by_id.reserve(ds.samples.size());
  for (size_t i = 0; i < ds.samples.size(); ++i) by_id.emplace(ds.samples[i].id, i);
  Split s;
  try {
    s.scheme = j.at("scheme").get<std::string>();
    s.selection = j.value("selection", std::string("val"));
    for (const char* part : {"train", "val", "test"}) {
      auto& out = std::string(part) == "train" ? s.train : std::string(part) == "val" ? s.val : s.test;
      for (const auto& id : j.at(part)) {
        auto it = by_id.find(id.get<std::string>());
        FER_CHECK(it != by_id.end(), DataError,
                  "{}: sample \"{}\" of the saved {} split is not in the dataset (the data changed since the run)",
                  origin, id.get<std::string>(), part);
        out.push_back(it->second);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: not a split file: {}", origin, e.what()));
  }
  return s;
}

void resolve_normalization(config::PreprocessConfig& pre, const config::AugmentConfig& aug, const Dataset& ds,
                           const std::vector<size_t>& indices, size_t max_samples) {
  if (pre.normalize != config::Normalize::kDataset || !pre.mean.empty()) return;
  FER_CHECK(!indices.empty(), DataError, "cannot compute dataset mean/std: the training split is empty");
  config::PreprocessConfig raw = pre;
  raw.normalize = "none";
  // Stacked modalities: one mean/std per stacked channel, each 3-channel group in RGB order.
  const std::vector<int> groups = ds.samples.at(indices[0]).modality_channels;
  augment::Pipeline pipeline(raw, aug, groups);
  const size_t n = std::min(indices.size(), max_samples);
  std::vector<cv::Mat> images;
  images.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    const size_t i = indices[k * indices.size() / n];
    images.push_back(pipeline.eval(load_image(ds.samples[i], pre.channels)));
  }
  augment::channel_stats(images, pre.channels, pre.mean, pre.std, groups);
  for (auto& s : pre.std) s = std::max(s, 1e-6);
}

std::string adopt_alignment(config::Config& cfg) {
  if (cfg.data.format != "image_folder" || cfg.data.path.empty()) return "";
  const fs::path file = fs::path(cfg.data.path) / "fer_align.json";
  if (!fs::is_regular_file(file)) return "";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(file.string()));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: not valid JSON ({})", file.string(), e.what()));
  }
  FER_CHECK(j.is_object() && j.contains("face"), DataError, "{}: expected an object with a \"face\" section",
            file.string());
  const config::FaceConfig from_file = config::parse_face_config(j.at("face"), file.string() + " /face");
  const config::FaceConfig defaults;
  if (config::face_to_json(cfg.face) != config::face_to_json(defaults) &&
      config::face_to_json(cfg.face) != config::face_to_json(from_file)) {
    spdlog::warn("the config's face section differs from {}, which says how this dataset was aligned; using the file",
                 file.string());
  }
  cfg.face = from_file;
  spdlog::info("face alignment for inference taken from {} (detector {}, align {}, size {})", file.string(),
               cfg.face.detector, cfg.face.align, cfg.face.size);
  return file.string();
}

}  // namespace fer::data
