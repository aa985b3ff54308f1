// Boxes, landmarks, labels and probability bars drawn on frames (fer infer --annotate / --show).
#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "fer/face/face.hpp"

namespace fer::face {
namespace {

const cv::Scalar kBox(60, 220, 60);
const cv::Scalar kPoint(255, 160, 0);
const cv::Scalar kText(255, 255, 255);
const cv::Scalar kPanel(30, 30, 30);
const cv::Scalar kBar(60, 180, 255);

void text_with_background(cv::Mat& img, const std::string& text, cv::Point org, double scale, int thickness) {
  int baseline = 0;
  const cv::Size sz = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
  org.x = std::clamp(org.x, 0, std::max(0, img.cols - sz.width));
  org.y = std::clamp(org.y, sz.height + 2, std::max(sz.height + 2, img.rows - baseline));
  cv::rectangle(img, cv::Point(org.x, org.y - sz.height - 2), cv::Point(org.x + sz.width, org.y + baseline), kPanel,
                cv::FILLED);
  cv::putText(img, text, org, cv::FONT_HERSHEY_SIMPLEX, scale, kText, thickness, cv::LINE_AA);
}

}  // namespace

void draw_faces(cv::Mat& bgr, const std::vector<OverlayFace>& faces) {
  const double ref = std::max(bgr.cols, bgr.rows);
  for (const auto& f : faces) {
    const double side = std::max(f.box.width, f.box.height);
    const int thick = std::max(1, static_cast<int>(std::lround(side / 80.0)));
    const double scale = std::clamp(side / 220.0, 0.35, 1.2) * std::clamp(ref / 640.0, 0.8, 1.5);
    cv::rectangle(bgr, cv::Rect(f.box), kBox, thick, cv::LINE_AA);
    const int r = std::max(1, static_cast<int>(std::lround(side / 120.0)));
    for (const auto& p : f.landmarks) cv::circle(bgr, p, r, kPoint, cv::FILLED, cv::LINE_AA);
    if (f.probs.empty()) continue;
    const size_t top = static_cast<size_t>(std::max_element(f.probs.begin(), f.probs.end()) - f.probs.begin());
    std::string label = top < f.class_names.size() ? f.class_names[top] : std::to_string(top);
    label = fmt::format("{}{} {:.0f}%", f.id >= 0 ? fmt::format("#{} ", f.id) : "", label, 100.0 * f.probs[top]);
    text_with_background(bgr, label, cv::Point(static_cast<int>(f.box.x), static_cast<int>(f.box.y) - 4), scale,
                         std::max(1, thick));
    // One small bar per class under the box: name and a bar whose length is the probability.
    const double bar_scale = scale * 0.7;
    int baseline = 0;
    const int line_h =
        cv::getTextSize("Ag", cv::FONT_HERSHEY_SIMPLEX, bar_scale, 1, &baseline).height + baseline + 3;
    const int bar_w = std::max(30, static_cast<int>(f.box.width * 0.6));
    int name_w = 0;
    for (const auto& n : f.class_names) {
      name_w = std::max(name_w, cv::getTextSize(n, cv::FONT_HERSHEY_SIMPLEX, bar_scale, 1, &baseline).width);
    }
    // Under the box when it fits, else beside it (right, then left), else over the box's bottom.
    const int panel_w = name_w + bar_w + 8;
    const int panel_h = line_h * static_cast<int>(f.probs.size()) + 4;
    const int bx0 = static_cast<int>(f.box.x), by0 = static_cast<int>(f.box.y);
    const int bx1 = static_cast<int>(f.box.x + f.box.width), by1 = static_cast<int>(f.box.y + f.box.height);
    int x = std::clamp(bx0, 0, std::max(0, bgr.cols - panel_w));
    int y = by1 + 4;
    if (y + panel_h > bgr.rows) {
      const int side_y = std::clamp(by0, 0, std::max(0, bgr.rows - panel_h));
      if (bx1 + 4 + panel_w <= bgr.cols) {
        x = bx1 + 4;
        y = side_y;
      } else if (bx0 - 4 - panel_w >= 0) {
        x = bx0 - 4 - panel_w;
        y = side_y;
      } else {
        y = bgr.rows - panel_h;
      }
    }
    y = std::max(0, y);  // a box above the image: the panel starts at the top row
    if (x >= bgr.cols || y >= bgr.rows) continue;
    cv::Mat roi = bgr(cv::Rect(x, y, std::min(panel_w, bgr.cols - x), std::min(panel_h, bgr.rows - y)));
    cv::Mat shade(roi.size(), roi.type(), kPanel);
    cv::addWeighted(roi, 0.35, shade, 0.65, 0, roi);
    for (size_t c = 0; c < f.probs.size(); ++c) {
      const int row = y + 2 + line_h * static_cast<int>(c);
      const std::string name = c < f.class_names.size() ? f.class_names[c] : std::to_string(c);
      cv::putText(bgr, name, cv::Point(x + 2, row + line_h - baseline - 2), cv::FONT_HERSHEY_SIMPLEX, bar_scale, kText,
                  1, cv::LINE_AA);
      const int len = static_cast<int>(std::lround(bar_w * std::clamp(f.probs[c], 0.0F, 1.0F)));
      cv::rectangle(bgr, cv::Rect(x + name_w + 6, row + 2, std::max(1, len), line_h - 4), c == top ? kBox : kBar,
                    cv::FILLED);
    }
  }
}

void draw_banner(cv::Mat& bgr, const std::string& text) {
  const double scale = std::clamp(std::max(bgr.cols, bgr.rows) / 900.0, 0.4, 1.2);
  text_with_background(bgr, text, cv::Point(4, 4), scale, 1);
}

}  // namespace fer::face
