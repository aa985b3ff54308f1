// dlib HOG and OpenCV Haar detectors, dlib's 68-point shape predictor.
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <dlib/opencv/cv_image.h>
#include <dlib/revision.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "face_internal.hpp"
#include "fer/core/error.hpp"
#include "fer/face/face.hpp"

namespace fer::face {
namespace fs = std::filesystem;

void require_model_file(const std::string& path, const std::string& what, const std::string& package) {
  FER_CHECK(!path.empty(), IoError, "no {} file given ({})", what, package);
  FER_CHECK(fs::is_regular_file(path), IoError, "{}: {} not found ({})", path, what, package);
}

cv::Mat to_gray(const cv::Mat& image) {
  FER_CHECK(!image.empty(), DataError, "empty image given to the face detector");
  FER_CHECK(image.depth() == CV_8U, DataError, "face detection needs an 8-bit image, got depth {}", image.depth());
  cv::Mat gray;
  if (image.channels() == 1) {
    gray = image;
  } else if (image.channels() == 3) {
    cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  } else if (image.channels() == 4) {
    cv::cvtColor(image, gray, cv::COLOR_BGRA2GRAY);
  } else {
    throw DataError(fmt::format("face detection needs 1, 3 or 4 channels, got {}", image.channels()));
  }
  return gray.isContinuous() ? gray : gray.clone();
}

void sort_and_filter(std::vector<Detection>& dets, const config::FaceConfig& cfg) {
  dets.erase(std::remove_if(dets.begin(), dets.end(),
                            [&](const Detection& d) {
                              return d.confidence < cfg.min_confidence ||
                                     std::min(d.box.width, d.box.height) < static_cast<float>(cfg.min_face);
                            }),
             dets.end());
  std::stable_sort(dets.begin(), dets.end(),
                   [](const Detection& a, const Detection& b) { return a.box.area() > b.box.area(); });
}

namespace {

class HogDetector : public Detector {
 public:
  explicit HogDetector(const config::FaceConfig& cfg) : cfg_(cfg), detector_(dlib::get_frontal_face_detector()) {}

  std::vector<Detection> detect(const cv::Mat& image) override {
    const cv::Mat gray = to_gray(image);
    dlib::array2d<unsigned char> img;
    dlib::assign_image(img, dlib::cv_image<unsigned char>(gray));
    double scale = 1.0;
    for (int i = 0; i < cfg_.upsample; ++i) {
      dlib::pyramid_up(img);
      scale *= 2.0;
    }
    std::vector<dlib::rect_detection> found;
    detector_(img, found, 0.0);
    std::vector<Detection> out;
    for (const auto& d : found) {
      const dlib::rectangle& r = d.rect;
      out.push_back({cv::Rect2f(static_cast<float>(r.left() / scale), static_cast<float>(r.top() / scale),
                                static_cast<float>((r.width()) / scale), static_cast<float>((r.height()) / scale)),
                     static_cast<float>(d.detection_confidence)});
    }
    sort_and_filter(out, cfg_);
    return out;
  }
  std::string name() const override { return "hog"; }

 private:
  config::FaceConfig cfg_;
  dlib::frontal_face_detector detector_;
};

class HaarDetector : public Detector {
 public:
  explicit HaarDetector(const config::FaceConfig& cfg) : cfg_(cfg) {
    require_model_file(cfg.haar_cascade, "Haar cascade", "Debian package opencv-data");
    // OpenCV throws (rather than returning false) on some unreadable files, e.g. plain text.
    bool loaded = false;
    try {
      loaded = cascade_.load(cfg.haar_cascade);
    } catch (const cv::Exception& e) {
      throw IoError(fmt::format("{}: not a readable OpenCV Haar cascade ({})", cfg.haar_cascade, e.err));
    }
    FER_CHECK(loaded, IoError, "{}: not a readable OpenCV Haar cascade", cfg.haar_cascade);
  }

  std::vector<Detection> detect(const cv::Mat& image) override {
    cv::Mat gray = to_gray(image);
    cv::Mat eq;
    cv::equalizeHist(gray, eq);
    std::vector<cv::Rect> rects;
    std::vector<int> levels;
    std::vector<double> weights;
    const int min_side = std::max(cfg_.min_face, 1);
    cascade_.detectMultiScale(eq, rects, levels, weights, 1.1, 4, 0, cv::Size(min_side, min_side), cv::Size(),
                              /*outputRejectLevels=*/true);
    std::vector<Detection> out;
    for (size_t i = 0; i < rects.size(); ++i) {
      out.push_back({cv::Rect2f(rects[i]), i < weights.size() ? static_cast<float>(weights[i]) : 0.0F});
    }
    sort_and_filter(out, cfg_);
    return out;
  }
  std::string name() const override { return "haar"; }

 private:
  config::FaceConfig cfg_;
  cv::CascadeClassifier cascade_;
};

}  // namespace

std::unique_ptr<Detector> make_detector(const config::FaceConfig& cfg) {
  if (cfg.detector == "hog") return std::make_unique<HogDetector>(cfg);
  if (cfg.detector == "haar") return std::make_unique<HaarDetector>(cfg);
  if (cfg.detector == "mmod") return make_mmod_detector(cfg);
  throw ConfigError(fmt::format("face.detector \"{}\" is not a detector (expected hog, haar or mmod)", cfg.detector));
}

struct LandmarkModel::Impl {
  dlib::shape_predictor predictor;
};

LandmarkModel::LandmarkModel(const std::string& path) : impl_(std::make_unique<Impl>()) {
  require_model_file(path, "68-point landmark model", "Debian package libdlib-data");
  try {
    dlib::deserialize(path) >> impl_->predictor;
  } catch (const std::exception& e) {
    throw IoError(fmt::format("{}: not a dlib shape predictor ({})", path, e.what()));
  }
  FER_CHECK(impl_->predictor.num_parts() == 68, IoError, "{}: a {}-point shape predictor, expected 68 points", path,
            impl_->predictor.num_parts());
}
LandmarkModel::~LandmarkModel() = default;
LandmarkModel::LandmarkModel(LandmarkModel&&) noexcept = default;
LandmarkModel& LandmarkModel::operator=(LandmarkModel&&) noexcept = default;

Landmarks LandmarkModel::fit(const cv::Mat& image, const cv::Rect2f& box) const {
  const cv::Mat gray = to_gray(image);
  const dlib::cv_image<unsigned char> img(gray);
  const dlib::rectangle r(static_cast<long>(std::lround(box.x)), static_cast<long>(std::lround(box.y)),
                          static_cast<long>(std::lround(box.x + box.width)) - 1,
                          static_cast<long>(std::lround(box.y + box.height)) - 1);
  const dlib::full_object_detection shape = impl_->predictor(img, r);
  Landmarks lm;
  lm.reserve(shape.num_parts());
  for (unsigned long i = 0; i < shape.num_parts(); ++i) {
    lm.emplace_back(static_cast<float>(shape.part(i).x()), static_cast<float>(shape.part(i).y()));
  }
  return lm;
}

std::string dlib_version() {
  return fmt::format("{}.{}.{}", DLIB_MAJOR_VERSION, DLIB_MINOR_VERSION, DLIB_PATCH_VERSION);
}

}  // namespace fer::face
