#include <fmt/format.h>

#include <filesystem>

#include "commands.hpp"
#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/data/loaders.hpp"
#include "fer/models/registry.hpp"

namespace fer::app {

Runner add_list(CLI::App& app) {
  auto* sub = app.add_subcommand("list", "List registered models, dataset formats, transforms or face detectors");
  auto what = std::make_shared<std::string>();
  sub->add_option("what", *what, "models | datasets | transforms | detectors")
      ->required()
      ->check(CLI::IsMember({"models", "datasets", "transforms", "detectors"}));
  return [what]() {
    if (*what == "models") {
      for (const auto& m : models::model_infos()) fmt::print("{:<14} {}\n", m.name, m.description);
    } else if (*what == "datasets") {
      for (const auto& d : data::dataset_formats()) fmt::print("{:<14} {}\n", d.name, d.description);
    } else if (*what == "detectors") {
      const config::FaceConfig f;
      const auto state = [](const std::string& path) {
        return std::filesystem::is_regular_file(path) ? "found" : "MISSING";
      };
      fmt::print("{:<6} {}\n", "hog", "dlib HOG + linear SVM frontal face detector (built in; default)");
      fmt::print("{:<6} OpenCV Haar cascade: {} ({}; Debian package opencv-data)\n", "haar", f.haar_cascade,
                 state(f.haar_cascade));
      fmt::print("{:<6} {}\n", "mmod",
                 "dlib CNN face detector: needs face.mmod_model = mmod_human_face_detector.dat (not packaged)");
      fmt::print("{:<6} {}\n", "none", "no detection: each input image is one face crop");
      fmt::print("landmarks: dlib 68-point shape predictor: {} ({}; Debian package libdlib-data)\n", f.landmark_model,
                 state(f.landmark_model));
    } else {
      const std::pair<const char*, const char*> transforms[] = {
          {"crop", "random crop (train) / centre crop (eval) of this side"},
          {"hflip", "horizontal flip with this probability"},
          {"vflip", "vertical flip with this probability"},
          {"rotation", "rotation, uniform in [-r, r] degrees"},
          {"zoom", "scale, uniform in [1-z, 1+z]"},
          {"shear", "shear, uniform in [-s, s] degrees"},
          {"translate", "shift, uniform in [-t, t] of the side"},
          {"perspective", "corner displacement up to this fraction of the side"},
          {"brightness", "additive brightness, uniform in [-b, b] of 255"},
          {"contrast", "contrast, uniform in [1-c, 1+c]"},
          {"gaussian_noise", "Gaussian noise with this sigma (gray levels)"},
          {"salt_pepper", "this fraction of pixels set to 0 or 255"},
          {"ten_crop (eval)", "4 corners + centre, and their mirror images; logits averaged"},
      };
      for (const auto& [n, d] : transforms) fmt::print("{:<16} {}\n", n, d);
    }
    return 0;
  };
}

}  // namespace fer::app
