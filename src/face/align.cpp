// Alignment transforms, geometry scores and the box-overlap tracker (OpenCV only).
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "fer/core/error.hpp"
#include "fer/face/face.hpp"

namespace fer::face {
namespace {

cv::Point2f mean_of(const Landmarks& lm, int first, int last) {
  cv::Point2f s(0, 0);
  for (int i = first; i <= last; ++i) s += lm[static_cast<size_t>(i)];
  return s * (1.0F / static_cast<float>(last - first + 1));
}

void require_68(const Landmarks& lm, const char* what) {
  FER_CHECK(lm.size() == 68, DataError, "{} needs 68 landmarks, got {}", what, lm.size());
}

double dist(const cv::Point2f& a, const cv::Point2f& b) { return std::hypot(a.x - b.x, a.y - b.y); }

}  // namespace

cv::Point2f left_eye_centre(const Landmarks& lm) {
  require_68(lm, "the eye centre");
  return mean_of(lm, 36, 41);
}

cv::Point2f right_eye_centre(const Landmarks& lm) {
  require_68(lm, "the eye centre");
  return mean_of(lm, 42, 47);
}

cv::Matx23d eye_transform(const Landmarks& lm, int size, double eye_x, double eye_y) {
  const cv::Point2f l = left_eye_centre(lm);
  const cv::Point2f r = right_eye_centre(lm);
  const double dx = r.x - l.x;
  const double dy = r.y - l.y;
  const double d = std::hypot(dx, dy);
  FER_CHECK(d > 1e-3, DataError, "the two eye centres coincide: cannot align");
  const double scale = (1.0 - 2.0 * eye_x) * size / d;
  const double a = scale * dx / d;  // scale * cos(angle)
  const double b = scale * dy / d;  // scale * sin(angle)
  // Rotate by -angle and scale about the origin, then move the eyes' midpoint to its target.
  const double mx = 0.5 * (l.x + r.x);
  const double my = 0.5 * (l.y + r.y);
  const double tx = 0.5 * size - (a * mx + b * my);
  const double ty = eye_y * size - (-b * mx + a * my);
  return cv::Matx23d(a, b, tx, -b, a, ty);
}

cv::Matx23d box_transform(const cv::Rect2f& box, int size, double padding) {
  FER_CHECK(box.width > 0 && box.height > 0, DataError, "cannot crop an empty face box");
  const double side = std::max(box.width, box.height) * (1.0 + 2.0 * padding);
  const double cx = box.x + 0.5 * box.width;
  const double cy = box.y + 0.5 * box.height;
  const double s = size / side;
  return cv::Matx23d(s, 0, -(cx - 0.5 * side) * s, 0, s, -(cy - 0.5 * side) * s);
}

std::vector<cv::Point2f> transform_points(const cv::Matx23d& m, const std::vector<cv::Point2f>& pts) {
  std::vector<cv::Point2f> out;
  out.reserve(pts.size());
  for (const auto& p : pts) {
    out.emplace_back(static_cast<float>(m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2)),
                     static_cast<float>(m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2)));
  }
  return out;
}

Aligned align_face(const cv::Mat& image, const Detection& det, const Landmarks& lm, const config::FaceConfig& cfg,
                   int size) {
  FER_CHECK(size >= 8, DataError, "aligned face size must be at least 8, got {}", size);
  Aligned a;
  a.by_eyes = cfg.align == config::FaceAlign::kEyes && lm.size() == 68;
  a.transform = a.by_eyes ? eye_transform(lm, size, cfg.eye_x, cfg.eye_y) : box_transform(det.box, size, cfg.box_padding);
  cv::warpAffine(image, a.crop, cv::Mat(a.transform), cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return a;
}

GeometryScores geometry_scores(const Landmarks& lm) {
  require_68(lm, "geometry scores");
  const double iod = dist(left_eye_centre(lm), right_eye_centre(lm));
  FER_CHECK(iod > 1e-3, DataError, "the two eye centres coincide: no geometry scores");
  GeometryScores g;
  g.eye_width = 0.5 * (dist(lm[36], lm[39]) + dist(lm[42], lm[45])) / iod;
  g.nose_length = dist(lm[27], lm[30]) / iod;
  g.mouth_width = dist(lm[48], lm[54]) / iod;
  return g;
}

double iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<int> IouTracker::update(const std::vector<cv::Rect2f>& boxes) {
  struct Pair {
    double iou;
    size_t track, box;
  };
  std::vector<Pair> pairs;
  for (size_t t = 0; t < tracks_.size(); ++t) {
    for (size_t b = 0; b < boxes.size(); ++b) {
      const double o = iou(tracks_[t].box, boxes[b]);
      if (o >= min_iou_) pairs.push_back({o, t, b});
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.iou > y.iou; });
  std::vector<int> ids(boxes.size(), -1);
  std::vector<bool> track_used(tracks_.size(), false);
  for (const auto& p : pairs) {
    if (track_used[p.track] || ids[p.box] != -1) continue;
    track_used[p.track] = true;
    ids[p.box] = tracks_[p.track].id;
    tracks_[p.track].box = boxes[p.box];
    tracks_[p.track].missed = 0;
  }
  for (size_t t = 0; t < tracks_.size(); ++t) {
    if (!track_used[t]) ++tracks_[t].missed;
  }
  tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(), [&](const Track& t) { return t.missed > max_missed_; }),
                tracks_.end());
  for (size_t b = 0; b < boxes.size(); ++b) {
    if (ids[b] == -1) {
      ids[b] = next_id_++;
      tracks_.push_back({ids[b], boxes[b], 0});
    }
  }
  return ids;
}

}  // namespace fer::face
