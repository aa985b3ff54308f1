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
/// dlib's CNN face detector (its own translation unit: the network type is slow to compile).
std::unique_ptr<Detector> make_mmod_detector(const config::FaceConfig& cfg);

}  // namespace fer::face
