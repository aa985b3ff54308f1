// Detector + landmarks + alignment.
#include <filesystem>

#include "face_internal.hpp"
#include "fer/core/error.hpp"
#include "fer/face/face.hpp"

namespace fer::face {

struct FacePipeline::Impl {
  config::FaceConfig cfg;
  int size = 0;
  std::unique_ptr<Detector> detector;  // null for "none"
  std::unique_ptr<LandmarkModel> landmarks;  // null for align "box" with detector "none"
};

FacePipeline::FacePipeline(const config::FaceConfig& cfg, int size) : impl_(std::make_unique<Impl>()) {
  impl_->cfg = cfg;
  impl_->size = cfg.size > 0 ? cfg.size : size;
  FER_CHECK(impl_->size >= 8, ConfigError, "face crop size must be at least 8, got {}", impl_->size);
  if (cfg.detector != "none") impl_->detector = make_detector(cfg);
  // Eye alignment needs landmarks (a missing model is an error naming the package). Box crops
  // do not; they still get landmarks (reported by infer) when the model file is there.
  // With detector "none" the whole image is the face: no landmarks at all.
  if (cfg.detector != "none" &&
      (cfg.align == config::FaceAlign::kEyes || std::filesystem::is_regular_file(cfg.landmark_model))) {
    try {
      impl_->landmarks = std::make_unique<LandmarkModel>(cfg.landmark_model);
    } catch (const IoError& e) {
      throw IoError(std::string(e.what()) +
                    "; face.align \"eyes\" needs it (pass another model file, or align \"box\" to crop the "
                    "detector's boxes without landmarks)");
    }
  }
}
FacePipeline::~FacePipeline() = default;
FacePipeline::FacePipeline(FacePipeline&&) noexcept = default;
FacePipeline& FacePipeline::operator=(FacePipeline&&) noexcept = default;

int FacePipeline::size() const { return impl_->size; }
const config::FaceConfig& FacePipeline::config() const { return impl_->cfg; }

Face FacePipeline::process_box(const cv::Mat& image, const Detection& det) {
  Face f;
  f.detection = det;
  if (impl_->landmarks) f.landmarks = impl_->landmarks->fit(image, det.box);
  f.aligned = align_face(image, det, f.landmarks, impl_->cfg, impl_->size);
  return f;
}

std::vector<Face> FacePipeline::process(const cv::Mat& image) {
  FER_CHECK(!image.empty(), DataError, "empty image");
  std::vector<Face> faces;
  if (!impl_->detector) {
    // The whole image is the face: a plain resize, exactly as crops are fed in training.
    Face f;
    f.detection = {cv::Rect2f(0, 0, static_cast<float>(image.cols), static_cast<float>(image.rows)), 1.0F};
    f.aligned.by_eyes = false;
    const double sx = static_cast<double>(impl_->size) / image.cols;
    const double sy = static_cast<double>(impl_->size) / image.rows;
    f.aligned.transform = cv::Matx23d(sx, 0, 0, 0, sy, 0);
    f.aligned.crop = image;  // the predictor resizes as in training
    faces.push_back(std::move(f));
    return faces;
  }
  const cv::Mat gray = gray_for_detection(image);
  return faces_of(image, gray, impl_->detector->detect(gray.empty() ? image : gray));
}

std::vector<Face> FacePipeline::process_near(const cv::Mat& image, const std::vector<cv::Rect2f>& boxes) {
  FER_CHECK(!image.empty(), DataError, "empty image");
  if (!impl_->detector) return process(image);
  const cv::Mat gray = gray_for_detection(image);
  return faces_of(image, gray, impl_->detector->detect_near(gray.empty() ? image : gray, boxes));
}

cv::Mat FacePipeline::gray_for_detection(const cv::Mat& image) const {
  // One gray conversion per frame, shared by a gray detector and the landmark fit.
  return impl_->detector->reads_gray() ? to_gray(image) : cv::Mat();
}

std::vector<Face> FacePipeline::faces_of(const cv::Mat& image, cv::Mat gray, const std::vector<Detection>& found) {
  std::vector<Face> faces;
  // The landmark model reads gray pixels: convert the frame once, not once per face (a 3 MP
  // photo with 24 faces converted 24 times), and not again when the detector had it.
  if (impl_->landmarks && !found.empty() && gray.empty()) gray = to_gray(image);
  for (const Detection& d : found) {
    Face f;
    f.detection = d;
    if (impl_->landmarks) f.landmarks = impl_->landmarks->fit(gray, d.box);
    f.aligned = align_face(image, d, f.landmarks, impl_->cfg, impl_->size);
    faces.push_back(std::move(f));
  }
  return faces;
}

}  // namespace fer::face
