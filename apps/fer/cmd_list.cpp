#include <fmt/format.h>

#include <filesystem>

#include "commands.hpp"
#include "fer/augment/transforms.hpp"
#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/data/loaders.hpp"
#include "fer/face/face.hpp"
#include "fer/models/registry.hpp"

namespace fer::app {

Runner add_list(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "list", "List registered models, dataset formats, transforms, face detectors or config keys");
  auto what = std::make_shared<std::string>();
  sub->add_option("what", *what,
                  "models | datasets | transforms | detectors | keys (every config key, a Markdown table)")
      ->required()
      ->check(CLI::IsMember({"models", "datasets", "transforms", "detectors", "keys"}));
  return [what]() {
    if (*what == "models") {
      for (const auto& m : models::model_registry().entries())
        fmt::print("{:<14} {}\n", m.name, m.description);
    } else if (*what == "datasets") {
      for (const auto& d : data::dataset_formats().entries())
        fmt::print("{:<14} {}\n", d.name, d.description);
    } else if (*what == "detectors") {
      const config::FaceConfig f;
      const auto state = [](const std::string& path) {
        return std::filesystem::is_regular_file(path) ? "found" : "MISSING";
      };
      for (const auto& d : face::detector_registry().entries()) {
        const std::string file = d.value.model_file(f);
        if (file.empty()) {
          fmt::print("{:<6} {}\n", d.name, d.description);
        } else {
          fmt::print("{:<6} {}: {} ({})\n", d.name, d.description, file, state(file));
        }
      }
      fmt::print("landmarks: dlib 68-point shape predictor: {} ({}; Debian package libdlib-data)\n", f.landmark_model,
                 state(f.landmark_model));
    } else if (*what == "keys") {
      fmt::print("{}", config::field_reference_markdown());
    } else {
      for (const auto& t : augment::transform_registry().entries()) {
        fmt::print("{:<16} {:<22} {}\n", t.name, t.value.key, t.description);
      }
    }
    return 0;
  };
}

}  // namespace fer::app
