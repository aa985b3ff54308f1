#pragma once
// The model registry: every model family a config may name (model.name), with its one-line
// description (`fer list models`) and its factory. Torch-free to include: create_model in
// fer/models/model.hpp builds through it.
#include <functional>
#include <memory>
#include <string>

#include "fer/core/registry.hpp"

namespace fer::config {
struct ModelConfig;
}

namespace fer::models {

class Classifier;
struct InputSpec;

/// How a registered model is built.
struct ModelFamily {
  /// Builds the network for `cfg` (cfg.name is the entry's name) and a checked input spec;
  /// ConfigError naming the /model/... key for options or inputs the family does not take.
  std::function<std::shared_ptr<Classifier>(const config::ModelConfig&, const InputSpec&)> build;
  /// Reads two modalities stacked as channels (paired visible + infrared data).
  bool paired = false;
};

using ModelRegistry = Registry<ModelFamily>;

/// The built-in models, in a fixed order (src/models/registry.cpp lists them).
const ModelRegistry& model_registry();

/// ConfigError unless cfg.name is registered, naming where it was written (cfg.name_at) and the
/// closest registered name. create_model calls it; fer train calls it before anything is written.
void check_model_name(const config::ModelConfig& cfg);

}  // namespace fer::models
