#pragma once
// A trained model ready to classify face images, with the preprocessing it was trained with
// (read from the checkpoint). No torch in this header.
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "fer/augment/transforms.hpp"
#include "fer/config/config.hpp"
#include "fer/train/run_files.hpp"

namespace fer::infer {

using train::resolve_checkpoint;  // run directory -> best.pt / last.pt (fer/train/run_files.hpp)

/// Classifies already-cropped face images.
class Predictor {
 public:
  /// Loads the checkpoint; device as in the config ("auto", "cpu", "cuda:0"); precision of the
  /// forward passes: fp32 | bf16 | fp16, "" = the run's train.precision (refused on a device that
  /// cannot run it; a slow one is logged).
  Predictor(const std::string& checkpoint_path, const std::string& device, const std::string& precision = "");
  ~Predictor();
  Predictor(Predictor&&) noexcept;
  Predictor& operator=(Predictor&&) noexcept;

  const std::vector<std::string>& class_names() const;
  /// The run's resolved config as stored in the checkpoint.
  const config::Config& config() const;
  /// The checkpoint's JSON record.
  const nlohmann::json& meta() const;
  /// The precision of the forward passes (fp32 | bf16 | fp16).
  const std::string& precision() const;

  /// Softmax probabilities for each 8-bit image (any channel count; converted as in training).
  /// A fused model (paired data, use "all") takes its modalities stacked as preprocess.channels
  /// channels, as data::load_image returns a paired sample; other channel counts are a DataError.
  /// `tta`: the views whose logits are averaged (ten-crop needs a model trained with a crop).
  std::vector<std::vector<float>> predict(const std::vector<cv::Mat>& images,
                                          augment::Tta tta = augment::Tta::kNone);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fer::infer
