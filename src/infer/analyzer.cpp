#include "fer/infer/analyzer.hpp"

#include <algorithm>

#include "fer/core/error.hpp"

namespace fer::infer {

size_t FaceResult::top() const {
  return probs.empty() ? 0 : static_cast<size_t>(std::max_element(probs.begin(), probs.end()) - probs.begin());
}

FaceAnalyzer::FaceAnalyzer(Predictor& predictor, const config::FaceConfig& face, const AnalyzerOptions& opts)
    : predictor_(predictor), opts_(opts) {
  FER_CHECK(opts_.smooth >= 0.0 && opts_.smooth < 1.0, UsageError, "--smooth: expected a value in [0, 1), got {}",
            opts_.smooth);
  FER_CHECK(opts_.redetect_every >= 1, UsageError, "--redetect: expected a whole number of frames >= 1, got {}",
            opts_.redetect_every);
  pipeline_ = std::make_unique<face::FacePipeline>(face, predictor.config().preprocess.size);
  reset();
}
FaceAnalyzer::~FaceAnalyzer() = default;
FaceAnalyzer::FaceAnalyzer(FaceAnalyzer&&) noexcept = default;

const face::FacePipeline& FaceAnalyzer::pipeline() const { return *pipeline_; }

void FaceAnalyzer::reset() {
  tracker_ = opts_.track ? std::make_unique<face::IouTracker>(opts_.track_iou, opts_.track_max_missed) : nullptr;
  smoothed_.clear();
  last_boxes_.clear();
  since_whole_ = 0;
}

void FaceAnalyzer::set_tracking(bool on) {
  opts_.track = on;
  reset();
}

std::vector<FaceResult> FaceAnalyzer::analyze(const cv::Mat& frame) {
  std::vector<face::Face> faces;
  bool whole = !tracker_ || opts_.redetect_every <= 1 || last_boxes_.empty() || since_whole_ + 1 >= opts_.redetect_every;
  if (!whole) {
    faces = pipeline_->process_near(frame, last_boxes_);
    whole = faces.size() < last_boxes_.size();  // a face was lost: look at the whole frame now
  }
  if (whole) {
    faces = pipeline_->process(frame);
    since_whole_ = 0;
  } else {
    ++since_whole_;
  }
  if (tracker_) {
    last_boxes_.clear();
    for (const auto& f : faces) last_boxes_.push_back(f.detection.box);
  }
  std::vector<FaceResult> out(faces.size());
  std::vector<cv::Mat> crops;
  std::vector<cv::Rect2f> boxes;
  for (size_t i = 0; i < faces.size(); ++i) {
    FaceResult& r = out[i];
    r.index = static_cast<int>(i);
    r.detection = faces[i].detection;
    r.landmarks = std::move(faces[i].landmarks);
    r.by_eyes = faces[i].aligned.by_eyes;
    r.crop = faces[i].aligned.crop;
    if (opts_.geometry && r.landmarks.size() == 68) r.geometry = face::geometry_scores(r.landmarks);
    crops.push_back(r.crop);
    boxes.push_back(r.detection.box);
  }
  const auto probs = predictor_.predict(crops, opts_.tta);
  std::vector<int> ids;
  if (tracker_) ids = tracker_->update(boxes);
  for (size_t i = 0; i < out.size(); ++i) {
    FaceResult& r = out[i];
    r.raw_probs = probs[i];
    r.probs = probs[i];
    if (tracker_) {
      r.id = ids[i];
      if (opts_.smooth > 0.0) {
        auto it = smoothed_.find(r.id);
        if (it != smoothed_.end()) {
          for (size_t c = 0; c < r.probs.size(); ++c) {
            r.probs[c] = static_cast<float>(opts_.smooth * it->second[c] + (1.0 - opts_.smooth) * r.raw_probs[c]);
          }
        }
        smoothed_[r.id] = r.probs;
      }
    }
  }
  if (tracker_ && opts_.smooth > 0.0) {
    // Forget the smoothing state of tracks not seen in this frame for long (bounded memory).
    if (smoothed_.size() > 256) {
      std::map<int, std::vector<float>> keep;
      for (const auto& r : out) keep[r.id] = smoothed_[r.id];
      smoothed_.swap(keep);
    }
  }
  return out;
}

}  // namespace fer::infer
