#include "fer/data/dataset.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "fer/core/error.hpp"

namespace fer::data {

std::vector<int64_t> Dataset::class_counts() const {
  std::vector<int64_t> counts(class_names.size(), 0);
  for (const auto& s : samples) {
    if (s.label >= 0 && static_cast<size_t>(s.label) < counts.size()) ++counts[s.label];
  }
  return counts;
}

std::vector<int> Dataset::labels() const {
  std::vector<int> out;
  out.reserve(samples.size());
  for (const auto& s : samples) out.push_back(s.label);
  return out;
}

cv::Mat load_image(const Sample& sample, int channels) {
  cv::Mat img = sample.image;
  if (img.empty()) {
    FER_CHECK(!sample.path.empty(), DataError, "sample {}: no image and no path", sample.id);
    FER_CHECK(std::filesystem::exists(sample.path), IoError, "{}: file not found", sample.path);
    img = cv::imread(sample.path, cv::IMREAD_UNCHANGED);
    FER_CHECK(!img.empty(), IoError, "{}: cannot decode image (corrupt or unsupported format)", sample.path);
  }
  if (img.depth() != CV_8U) {
    cv::Mat tmp;
    double scale = img.depth() == CV_16U ? 1.0 / 257.0 : 1.0;
    img.convertTo(tmp, CV_8U, scale);
    img = tmp;
  }
  const int c = img.channels();
  cv::Mat out;
  if (channels == 1) {
    if (c == 1) out = img;
    else if (c == 3) cv::cvtColor(img, out, cv::COLOR_BGR2GRAY);
    else cv::cvtColor(img, out, cv::COLOR_BGRA2GRAY);
  } else {
    if (c == 3) out = img;
    else if (c == 1) cv::cvtColor(img, out, cv::COLOR_GRAY2BGR);
    else cv::cvtColor(img, out, cv::COLOR_BGRA2BGR);
  }
  return out;
}

}  // namespace fer::data
