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

cv::Mat ScaledDetector::input_of(const cv::Mat& image) const {
  FER_CHECK(!image.empty(), DataError, "empty image given to the face detector");
  FER_CHECK(image.depth() == CV_8U, DataError, "face detection needs an 8-bit image, got depth {}", image.depth());
  return reads_gray() ? to_gray(image) : image;
}

std::vector<Detection> ScaledDetector::detect(const cv::Mat& image) {
  const cv::Mat input = input_of(image);
  const int side = std::max(image.cols, image.rows);
  cv::Mat scaled = input;
  if (cfg_.detect_max_side > 0 && side > cfg_.detect_max_side) {
    const double scale = static_cast<double>(cfg_.detect_max_side) / side;
    const cv::Size to(std::max(1, static_cast<int>(std::lround(image.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(image.rows * scale))));
    cv::resize(input, scaled, to, 0, 0, cv::INTER_AREA);
  }
  const double sx = static_cast<double>(image.cols) / scaled.cols;
  const double sy = static_cast<double>(image.rows) / scaled.rows;
  const int min_side = std::max(1, static_cast<int>(std::floor(cfg_.min_face / std::max(sx, sy))));
  std::vector<Detection> out = detect_at(scaled, min_side);
  if (scaled.size() != image.size()) {
    for (Detection& d : out) {
      d.box = cv::Rect2f(static_cast<float>(d.box.x * sx), static_cast<float>(d.box.y * sy),
                         static_cast<float>(d.box.width * sx), static_cast<float>(d.box.height * sy));
    }
  }
  sort_and_filter(out, cfg_);
  return out;
}

std::vector<Detection> ScaledDetector::detect_near(const cv::Mat& image, const std::vector<cv::Rect2f>& boxes) {
  const cv::Mat input = input_of(image);
  const cv::Rect frame(0, 0, image.cols, image.rows);
  // A face is searched for at about kFaceSide pixels in its scaled-down neighbourhood: well above
  // every detector's smallest window, and cheap whatever the face's size in the frame.
  constexpr double kFaceSide = 120.0;
  std::vector<Detection> found;
  for (const cv::Rect2f& b : boxes) {
    const double side = std::max(b.width, b.height);
    if (!(side >= 1.0)) continue;
    const cv::Rect roi = cv::Rect(static_cast<int>(std::floor(b.x - side / 2)), static_cast<int>(std::floor(b.y - side / 2)),
                                  static_cast<int>(std::ceil(b.width + side)), static_cast<int>(std::ceil(b.height + side))) &
                         frame;
    if (roi.width < 8 || roi.height < 8) continue;
    const double scale = std::min(1.0, kFaceSide / side);
    cv::Mat part = input(roi);
    if (scale < 1.0) {
      cv::resize(part, part,
                 cv::Size(std::max(1, static_cast<int>(std::lround(roi.width * scale))),
                          std::max(1, static_cast<int>(std::lround(roi.height * scale)))),
                 0, 0, cv::INTER_AREA);
    } else if (!part.isContinuous()) {
      part = part.clone();
    }
    const double sx = static_cast<double>(roi.width) / part.cols;
    const double sy = static_cast<double>(roi.height) / part.rows;
    const int min_side = std::max({1, static_cast<int>(std::floor(0.6 * side / std::max(sx, sy))),
                                   static_cast<int>(std::floor(cfg_.min_face / std::max(sx, sy)))});
    for (Detection d : detect_at(part, min_side)) {
      d.box = cv::Rect2f(static_cast<float>(roi.x + d.box.x * sx), static_cast<float>(roi.y + d.box.y * sy),
                         static_cast<float>(d.box.width * sx), static_cast<float>(d.box.height * sy));
      if (std::max(d.box.width, d.box.height) < 0.6 * side) continue;
      found.push_back(d);
    }
  }
  // Neighbourhoods overlap when faces are close: keep the most confident of overlapping finds.
  std::stable_sort(found.begin(), found.end(),
                   [](const Detection& a, const Detection& b) { return a.confidence > b.confidence; });
  std::vector<Detection> out;
  for (const Detection& d : found) {
    const bool dup =
        std::any_of(out.begin(), out.end(), [&](const Detection& k) { return iou(d.box, k.box) > 0.5; });
    if (!dup) out.push_back(d);
  }
  sort_and_filter(out, cfg_);
  return out;
}

namespace {

class HogDetector : public ScaledDetector {
 public:
  explicit HogDetector(const config::FaceConfig& cfg)
      : ScaledDetector(cfg), detector_(dlib::get_frontal_face_detector()) {}

 protected:
  bool reads_gray() const override { return true; }
  std::vector<Detection> detect_at(const cv::Mat& gray, int /*min_side*/) override {
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
    return out;
  }

 public:
  std::string name() const override { return "hog"; }

 private:
  dlib::frontal_face_detector detector_;
};

class HaarDetector : public ScaledDetector {
 public:
  explicit HaarDetector(const config::FaceConfig& cfg) : ScaledDetector(cfg) {
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

  std::string name() const override { return "haar"; }

 protected:
  bool reads_gray() const override { return true; }
  std::vector<Detection> detect_at(const cv::Mat& gray, int min_side) override {
    cv::Mat eq;
    cv::equalizeHist(gray, eq);
    std::vector<cv::Rect> rects;
    std::vector<int> levels;
    std::vector<double> weights;
    cascade_.detectMultiScale(eq, rects, levels, weights, 1.1, 4, 0, cv::Size(min_side, min_side), cv::Size(),
                              /*outputRejectLevels=*/true);
    std::vector<Detection> out;
    for (size_t i = 0; i < rects.size(); ++i) {
      out.push_back({cv::Rect2f(rects[i]), i < weights.size() ? static_cast<float>(weights[i]) : 0.0F});
    }
    return out;
  }

 private:
  cv::CascadeClassifier cascade_;
};

}  // namespace

const Registry<DetectorKind>& detector_registry() {
  static const Registry<DetectorKind> registry = [] {
    Registry<DetectorKind> r("face detector");
    const auto no_file = [](const config::FaceConfig&) { return std::string(); };
    r.add("hog", "dlib HOG + linear SVM frontal face detector (built in; default)",
          {[](const config::FaceConfig& c) -> std::unique_ptr<Detector> {
             return std::make_unique<HogDetector>(c);
           },
           no_file});
    r.add("haar", "OpenCV Haar cascade, face.haar_cascade (Debian package opencv-data)",
          {[](const config::FaceConfig& c) -> std::unique_ptr<Detector> {
             return std::make_unique<HaarDetector>(c);
           },
           [](const config::FaceConfig& c) { return c.haar_cascade; }});
    r.add("mmod", "dlib CNN face detector: face.mmod_model = mmod_human_face_detector.dat (not packaged)",
          {make_mmod_detector, [](const config::FaceConfig& c) { return c.mmod_model; }});
    r.add("none", "no detection: each input image is one face crop", {{}, no_file});
    return r;
  }();
  return registry;
}

std::unique_ptr<Detector> make_detector(const config::FaceConfig& cfg) {
  const auto& kind = detector_registry().get(cfg.detector, "face.detector").value;
  FER_CHECK(static_cast<bool>(kind.make), ConfigError,
            "face.detector \"{}\" is not a detector (each image is taken as one face crop)", cfg.detector);
  return kind.make(cfg);
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
