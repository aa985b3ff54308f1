#pragma once
// Shared between the face module's translation units.
#include <memory>
#include <string>
#include <vector>

#include "fer/face/face.hpp"

namespace fer::face {

/// IoError "<path>: <what> not found (<package>)" when the file is missing.
void require_model_file(const std::string& path, const std::string& what, const std::string& package);
/// 8-bit single-channel, continuous copy or view.
cv::Mat to_gray(const cv::Mat& image);
/// Drops detections under min_confidence / min_face, sorts largest first.
void sort_and_filter(std::vector<Detection>& dets, const config::FaceConfig& cfg);
/// The base of every detector: detect() validates the image, runs detect_at() on a copy scaled
/// down so that its longer side is at most cfg.detect_max_side (gray first when the detector reads
/// gray), maps the boxes back to full-image pixels, then filters and sorts them with cfg.
class ScaledDetector : public Detector {
 public:
  explicit ScaledDetector(const config::FaceConfig& cfg) : cfg_(cfg) {}
  std::vector<Detection> detect(const cv::Mat& image) final;
  std::vector<Detection> detect_near(const cv::Mat& image, const std::vector<cv::Rect2f>& boxes) final;

 protected:
  /// Raw detections in `image`'s own pixels; min_side: the smallest face worth finding there.
  virtual std::vector<Detection> detect_at(const cv::Mat& image, int min_side) = 0;
  config::FaceConfig cfg_;

 private:
  /// The image detect_at reads: checked (non-empty, 8-bit), gray when reads_gray().
  cv::Mat input_of(const cv::Mat& image) const;
};

/// dlib's CNN face detector (its own translation unit: the network type is slow to compile).
std::unique_ptr<Detector> make_mmod_detector(const config::FaceConfig& cfg);

}  // namespace fer::face
