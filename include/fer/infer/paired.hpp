#pragma once
// Inference with a fused visible + infrared model (fer infer on paired data): pairs of face crops
// (given one by one, or paired folders), a single-modality fallback model for samples with one
// modality missing, results as a table, JSON lines or CSV (fer/infer/output.hpp). No torch here.
#include <string>
#include <vector>

#include "fer/augment/transforms.hpp"
#include "fer/config/config.hpp"

namespace fer::infer {
class Predictor;

/// The options of fer infer that apply to a fused model.
struct PairedInferOptions {
  std::vector<std::string> pairs;      ///< --pair values, "A,B" in the model's modality order ("" = missing)
  std::vector<std::string> folders;    ///< positional inputs: paired folders
  std::vector<std::string> fallbacks;  ///< --fallback MODALITY=RUN_OR_CHECKPOINT (win over model.fallback)
  std::string device = "auto";
  std::string precision;  ///< --precision ("" = each run's train.precision)
  augment::Tta tta = augment::Tta::kNone;
  bool to_json = false, to_csv = false;
  std::string json, csv;  ///< "" or "-" = stdout
};

/// True when the model takes stacked modalities (a paired data.format with data.paired.use "all").
bool is_fused_model(const config::Config& cfg);

/// Classifies every sample of o.pairs and o.folders with `fused` (inputs used whole: no face
/// detection), a missing modality with the fallback of the present one (o.fallbacks, else the
/// checkpoint's model.fallback), and writes a table, JSON lines or CSV. UsageError for inputs
/// a fused model cannot take; samples that fail are listed at the end. Returns the failures
/// (each "SOURCE: why"; also logged), empty when every sample was classified.
std::vector<std::string> infer_paired(Predictor& fused, const PairedInferOptions& o);

}  // namespace fer::infer
