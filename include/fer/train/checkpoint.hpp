#pragma once
// Checkpoint files: weights, optimizer state and a JSON record (epoch, best metric, class
// names, the resolved config with its preprocessing, scheduler state), plus the RNG state.
#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>

#include <map>
#include <string>

#include "fer/models/model.hpp"

namespace fer::train {

/// Writes a checkpoint atomically (temporary file + rename): a crash never leaves a partial
/// file where a good checkpoint was.
void save_checkpoint(const std::string& path, models::Classifier& model, torch::optim::Optimizer* optimizer,
                     const nlohmann::json& meta);

/// Reads only the JSON record. Throws IoError/DataError naming the file.
nlohmann::json read_checkpoint_meta(const std::string& path);

/// A checkpoint's JSON record and weights (parameter and buffer name -> CPU tensor).
struct CheckpointContents {
  nlohmann::json meta;
  std::map<std::string, torch::Tensor> weights;
};

/// Reads the record and the weights without building a model (e.g. to copy some of them into
/// another model). Throws IoError/DataError naming the file.
CheckpointContents read_checkpoint(const std::string& path);

/// Loads weights (strict) and, when given, the optimizer state and the CPU RNG state.
/// A checkpoint of another model/shape is a DataError listing the differences.
nlohmann::json load_checkpoint(const std::string& path, models::Classifier& model,
                               torch::optim::Optimizer* optimizer, bool restore_rng);

}  // namespace fer::train
