#pragma once
// Faces in the wild: every face in a photo or video frame found, aligned the way the model's
// training data was (the checkpoint's face section) and classified; in videos, faces keep an id
// across frames and their probabilities can be smoothed over time. No torch in this header.
#include <opencv2/core.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/face/face.hpp"
#include "fer/infer/predictor.hpp"

namespace fer::infer {

struct FaceResult {
  int index = 0;  ///< position in the frame's list (largest face first)
  int id = -1;    ///< track id across frames (videos, cameras); -1 for still images
  face::Detection detection;
  face::Landmarks landmarks;  ///< 68 points in frame pixels, or empty
  bool by_eyes = false;       ///< aligned by the eye centres (else a box crop)
  cv::Mat crop;               ///< the aligned crop the model saw (before its own resize)
  std::vector<float> raw_probs;  ///< this frame's softmax
  std::vector<float> probs;      ///< smoothed over the track when smoothing is on, else raw_probs
  std::optional<face::GeometryScores> geometry;  ///< with AnalyzerOptions::geometry and landmarks
  size_t top() const;
};

struct AnalyzerOptions {
  augment::Tta tta = augment::Tta::kNone;  ///< test-time augmentation of each face crop
  bool track = false;     ///< give faces ids by box overlap between consecutive calls
  double smooth = 0.0;    ///< exponential smoothing of a track's probabilities: p = s*p_prev + (1-s)*p_now
  bool geometry = false;  ///< compute face::geometry_scores
  /// With tracking (videos, cameras): the whole frame is searched for faces every N-th frame and
  /// whenever a face was lost; the frames in between are searched only near the previous frame's
  /// faces (face::Detector::detect_near), so a new face shows up within N frames. 1 = always the
  /// whole frame.
  int redetect_every = 5;
  double track_iou = 0.3;
  int track_max_missed = 10;
};

/// Detector + landmarks + alignment + model. Not thread-safe.
class FaceAnalyzer {
 public:
  /// `face` is usually predictor.config().face with command-line overrides.
  FaceAnalyzer(Predictor& predictor, const config::FaceConfig& face, const AnalyzerOptions& opts);
  ~FaceAnalyzer();
  FaceAnalyzer(FaceAnalyzer&&) noexcept;

  std::vector<FaceResult> analyze(const cv::Mat& frame);
  /// Forget tracks (call between videos).
  void reset();
  /// Switch tracking on or off (both forget the tracks).
  void set_tracking(bool on);
  const face::FacePipeline& pipeline() const;

 private:
  Predictor& predictor_;
  AnalyzerOptions opts_;
  std::unique_ptr<face::FacePipeline> pipeline_;
  std::unique_ptr<face::IouTracker> tracker_;
  std::map<int, std::vector<float>> smoothed_;
  std::vector<cv::Rect2f> last_boxes_;  ///< the previous frame's faces (tracking only)
  int since_whole_ = 0;                 ///< frames since the last whole-frame detection
};

}  // namespace fer::infer
