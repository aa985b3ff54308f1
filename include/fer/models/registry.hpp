#pragma once
// Names of the registered models, for `fer list models` and config validation (no torch).
#include <string>
#include <vector>

namespace fer::models {

/// A registered model family.
struct ModelInfo {
  std::string name;         ///< config value of model.name
  std::string description;  ///< one line
};

/// The built-in models, in a fixed order.
const std::vector<ModelInfo>& model_infos();

}  // namespace fer::models
