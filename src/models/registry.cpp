// The model registry: one line per model family. A new model is its own file with a
// register_* function (declared in backbone.hpp) and one line here.
#include "fer/models/registry.hpp"

#include "backbone.hpp"
#include "fer/config/config.hpp"

namespace fer::models {

const ModelRegistry& model_registry() {
  static const ModelRegistry registry = [] {
    ModelRegistry r("model");
    detail::register_resnet(r);   // resnet18, fusion_early
    detail::register_fusion(r);   // fusion_feature, fusion_late
    detail::register_vgg(r);      // vgg19
    detail::register_compact(r);  // compact_cnn
    detail::register_vit(r);      // vit, vit_se
    return r;
  }();
  return registry;
}

void check_model_name(const config::ModelConfig& cfg) {
  model_registry().get(cfg.name, cfg.name_at.empty() ? std::string("/model/name") : cfg.name_at);
}

}  // namespace fer::models
