#pragma once
// Faces in raw photos and video frames: detection (dlib HOG, OpenCV Haar, dlib CNN/mmod),
// dlib's 68-point landmarks, and alignment to an N x N crop. No torch and no dlib in this header.
#include <opencv2/core.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/core/registry.hpp"

namespace fer::face {

/// One detected face: its box in image pixels and the detector's confidence (its own scale:
/// HOG/mmod SVM scores, about 0..3; Haar level weights, about 0..10).
struct Detection {
  cv::Rect2f box;
  float confidence = 0.0F;
};

/// 68 points in dlib's iBUG 300-W order (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47,
/// mouth 48-67); empty when no landmarks were fitted.
using Landmarks = std::vector<cv::Point2f>;

/// A face detector. Not thread-safe: use one per thread.
class Detector {
 public:
  virtual ~Detector() = default;
  /// Faces in an 8-bit gray or BGR image, largest first.
  virtual std::vector<Detection> detect(const cv::Mat& image) = 0;
  /// Faces near earlier boxes only (video frames between whole-frame detections): each box's
  /// neighbourhood (the box grown by half its side on every edge) is searched for faces of at
  /// least 0.6 times the box's side. Overlapping finds (IoU > 0.5) are merged. Largest first.
  virtual std::vector<Detection> detect_near(const cv::Mat& image, const std::vector<cv::Rect2f>& boxes) = 0;
  virtual std::string name() const = 0;
  /// True when the detector reads gray pixels (HOG, Haar): a gray frame can be passed as it is,
  /// and a colour one is converted first.
  virtual bool reads_gray() const = 0;
};

/// A registered face detector (face.detector).
struct DetectorKind {
  /// Builds it; empty for "none" (no detection: each image is one face crop).
  std::function<std::unique_ptr<Detector>(const config::FaceConfig&)> make;
  /// The model file it reads under these settings ("" when none), for `fer list detectors`.
  std::function<std::string(const config::FaceConfig&)> model_file;
};

/// hog, haar, mmod and none, in that order (`fer list detectors`). The config reader accepts
/// exactly these names for face.detector (FaceDetectors.RegistryMatchesTheConfigReader ties them).
const Registry<DetectorKind>& detector_registry();

/// The detector `cfg.detector` names ("none" is not a detector: an error). Missing model files
/// are an IoError naming the file and the Debian package that provides it.
std::unique_ptr<Detector> make_detector(const config::FaceConfig& cfg);

/// "19.24.0": the dlib this library was built with (for run records and --version).
std::string dlib_version();

/// dlib's 68-point shape predictor. Not thread-safe: use one per thread.
class LandmarkModel {
 public:
  explicit LandmarkModel(const std::string& path);
  ~LandmarkModel();
  LandmarkModel(LandmarkModel&&) noexcept;
  LandmarkModel& operator=(LandmarkModel&&) noexcept;
  /// The 68 points of the face in `box`.
  Landmarks fit(const cv::Mat& image, const cv::Rect2f& box) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Centre of the eye on the image's left (the subject's right eye, points 36-41) and on the
/// image's right (points 42-47).
cv::Point2f left_eye_centre(const Landmarks& lm);
cv::Point2f right_eye_centre(const Landmarks& lm);

/// The similarity transform (rotation, uniform scale, shift) that puts the left eye centre at
/// (eye_x, eye_y) * size and the right one at (1 - eye_x, eye_y) * size: both on one row.
cv::Matx23d eye_transform(const Landmarks& lm, int size, double eye_x, double eye_y);
/// The transform that maps the box, grown by `padding` of its side on every side and made
/// square around its centre, onto a size x size crop.
cv::Matx23d box_transform(const cv::Rect2f& box, int size, double padding);
/// `m` applied to points.
std::vector<cv::Point2f> transform_points(const cv::Matx23d& m, const std::vector<cv::Point2f>& pts);

/// An aligned crop and how it was made.
struct Aligned {
  cv::Mat crop;           ///< size x size, same channels as the source image (detector "none": the
                          ///< whole image unresized; the predictor resizes it as in training)
  cv::Matx23d transform;  ///< source pixel -> crop pixel
  bool by_eyes = false;   ///< false: plain box crop (align "box", or no landmarks)
};

/// Aligns by the eyes when cfg.align is "eyes" and `lm` has 68 points, else crops the box.
Aligned align_face(const cv::Mat& image, const Detection& det, const Landmarks& lm, const config::FaceConfig& cfg,
                   int size);

/// A face found in an image, with everything infer reports.
struct Face {
  Detection detection;
  Landmarks landmarks;
  Aligned aligned;
};

/// Detector + landmarks + alignment with one config. Not thread-safe: one per thread.
class FacePipeline {
 public:
  /// `size` is the aligned crop side (cfg.size when > 0 wins). Loads the model files now.
  FacePipeline(const config::FaceConfig& cfg, int size);
  ~FacePipeline();
  FacePipeline(FacePipeline&&) noexcept;
  FacePipeline& operator=(FacePipeline&&) noexcept;

  /// Every face in the image, largest first. With detector "none" the whole image is one face
  /// (box crop, no landmarks).
  std::vector<Face> process(const cv::Mat& image);
  /// The same, with detection only near `boxes` (Detector::detect_near): for video frames.
  std::vector<Face> process_near(const cv::Mat& image, const std::vector<cv::Rect2f>& boxes);
  /// Landmarks + alignment for a known box (no detection).
  Face process_box(const cv::Mat& image, const Detection& det);
  int size() const;
  const config::FaceConfig& config() const;

 private:
  std::vector<Face> faces_of(const cv::Mat& image, cv::Mat gray, const std::vector<Detection>& found);
  cv::Mat gray_for_detection(const cv::Mat& image) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The seed system's face "scores", from landmark distances divided by the inter-ocular
/// distance (eye centre to eye centre), so they do not depend on image size. Simple geometric
/// heuristics, NOT validated measures of personality or attractiveness.
struct GeometryScores {
  double eye_width = 0;    ///< mean eye width (corner to corner) / IOD
  double nose_length = 0;  ///< nose bridge top (27) to tip (30) / IOD
  double mouth_width = 0;  ///< mouth corners (48-54) / IOD
  // The seed's names for the same three numbers.
  double approachability() const { return eye_width; }
  double youthful_attractiveness() const { return nose_length; }
  double dominance() const { return mouth_width; }
};
/// Needs 68 landmarks (DataError otherwise).
GeometryScores geometry_scores(const Landmarks& lm);

/// Intersection over union of two boxes (0 when either is empty).
double iou(const cv::Rect2f& a, const cv::Rect2f& b);

/// Gives faces in consecutive frames a stable id by greedy box overlap (highest IoU first).
/// A track unseen for more than `max_missed` updates is dropped; ids are never reused.
class IouTracker {
 public:
  explicit IouTracker(double min_iou = 0.3, int max_missed = 10) : min_iou_(min_iou), max_missed_(max_missed) {}
  /// The id of each box, in order.
  std::vector<int> update(const std::vector<cv::Rect2f>& boxes);

 private:
  struct Track {
    int id;
    cv::Rect2f box;
    int missed;
  };
  double min_iou_;
  int max_missed_;
  int next_id_ = 1;
  std::vector<Track> tracks_;
};

/// Overlay for one face: box, landmarks, "id label prob" and a bar per class.
struct OverlayFace {
  cv::Rect2f box;
  Landmarks landmarks;
  int id = -1;  ///< track id, -1 = none
  std::vector<std::string> class_names;
  std::vector<float> probs;
};
void draw_faces(cv::Mat& bgr, const std::vector<OverlayFace>& faces);
/// "12.3 fps" (or any text) in the top-left corner.
void draw_banner(cv::Mat& bgr, const std::string& text);

}  // namespace fer::face
