#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "fer/core/error.hpp"
#include "fer/infer/predictor.hpp"
#include "fer/train/runtime.hpp"

namespace fer::app {
namespace fs = std::filesystem;

namespace {
bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* e : {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}) {
    if (ext == e) return true;
  }
  return false;
}

/// Files named on the command line, with folders expanded (recursively, sorted).
std::vector<std::string> collect_inputs(const std::vector<std::string>& args, std::vector<std::string>& missing) {
  std::vector<std::string> files;
  for (const auto& a : args) {
    if (fs::is_directory(a)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(a)) {
        if (e.is_regular_file() && is_image(e.path())) found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) missing.push_back(a + ": folder holds no images");
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(a)) {
      files.push_back(a);
    } else {
      missing.push_back(a + ": no such file or folder");
    }
  }
  return files;
}
}  // namespace

Runner add_infer(CLI::App& app) {
  auto* sub = app.add_subcommand("infer", "Classify face images (already cropped faces) with a trained model");
  struct Opts {
    std::string run, checkpoint = "best", device = "auto", json;
    std::vector<std::string> inputs;
    bool ten_crop = false;
    int batch = 64, threads = 0;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("-r,--run", o->run, "Run directory or checkpoint file (.pt)")->required();
  sub->add_option("--checkpoint", o->checkpoint, "best | last (with a run directory)")->capture_default_str();
  sub->add_option("inputs", o->inputs, "Image files or folders")->required();
  sub->add_option("--json", o->json, "Write JSON lines to this file ('-' = stdout) instead of a table")
      ->expected(0, 1)
      ->default_str("-");
  sub->add_flag("--ten-crop", o->ten_crop, "Ten-crop test-time augmentation");
  sub->add_option("--device", o->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  sub->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)");
  sub->add_option("--batch", o->batch, "Images per forward pass")->check(CLI::PositiveNumber);
  auto* json_opt = sub->get_option("--json");
  return [o, json_opt]() {
    train::configure_threads(o->threads);
    infer::Predictor predictor(infer::resolve_checkpoint(o->run, o->checkpoint), o->device);
    const auto& names = predictor.class_names();
    std::vector<std::string> failures;
    const auto files = collect_inputs(o->inputs, failures);
    const bool as_json = json_opt->count() > 0;
    std::ofstream json_file;
    std::ostream* out = &std::cout;
    std::string json_tmp;
    if (as_json && o->json != "-" && !o->json.empty()) {
      json_tmp = o->json + ".partial";
      json_file.open(json_tmp);
      FER_CHECK(json_file.good(), IoError, "{}: cannot open for writing", o->json);
      out = &json_file;
    }
    size_t w = 4;
    for (const auto& f : files) w = std::max(w, f.size());
    if (!as_json) {
      fmt::print("{:<{}}  {:<10} {:>6}", "file", w, "class", "prob");
      for (const auto& n : names) fmt::print(" {:>8.8}", n);
      fmt::print("\n");
    }
    size_t ok = 0;
    for (size_t start = 0; start < files.size(); start += static_cast<size_t>(o->batch)) {
      std::vector<cv::Mat> images;
      std::vector<std::string> batch_files;
      for (size_t i = start; i < std::min(files.size(), start + o->batch); ++i) {
        cv::Mat img = cv::imread(files[i], cv::IMREAD_UNCHANGED);
        if (img.empty()) {
          failures.push_back(files[i] + ": cannot decode image");
          spdlog::error("{}: cannot decode image (corrupt or unsupported format); skipped", files[i]);
          continue;
        }
        images.push_back(img);
        batch_files.push_back(files[i]);
      }
      const auto probs = predictor.predict(images, o->ten_crop);
      for (size_t i = 0; i < probs.size(); ++i) {
        const auto& p = probs[i];
        const size_t top = std::max_element(p.begin(), p.end()) - p.begin();
        if (as_json) {
          nlohmann::json j = {{"file", batch_files[i]}, {"class", names[top]}, {"prob", p[top]}};
          nlohmann::json all = nlohmann::json::object();
          for (size_t c = 0; c < names.size(); ++c) all[names[c]] = p[c];
          j["probs"] = all;
          *out << j.dump() << "\n";
        } else {
          fmt::print("{:<{}}  {:<10} {:6.3f}", batch_files[i], w, names[top], p[top]);
          for (float v : p) fmt::print(" {:8.3f}", v);
          fmt::print("\n");
        }
        ++ok;
      }
    }
    if (json_file.is_open()) {
      json_file.close();
      fs::rename(json_tmp, o->json);
    }
    spdlog::info("{} image(s) classified, {} failed", ok, failures.size());
    for (const auto& f : failures) spdlog::error("failed: {}", f);
    return failures.empty() ? 0 : 1;
  };
}

}  // namespace fer::app
