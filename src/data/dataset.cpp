#include "fer/data/dataset.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "fer/core/error.hpp"
#include "fer/core/image_limits.hpp"

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

namespace {

cv::Mat decode(const std::string& path) {
  FER_CHECK(std::filesystem::exists(path), IoError, "{}: file not found", path);
  cv::Mat img = io::read_image(path, cv::IMREAD_UNCHANGED);  // pixel limit, truncated JPEGs
  FER_CHECK(!img.empty(), IoError, "{}: cannot decode image (corrupt or unsupported format)", path);
  return img;
}

cv::Mat convert(cv::Mat img, int channels) {
  if (img.depth() != CV_8U) {
    cv::Mat tmp;
    double scale = img.depth() == CV_16U ? 1.0 / 257.0 : 1.0;
    img.convertTo(tmp, CV_8U, scale);
    img = tmp;
  }
  if (img.channels() == 2) {  // gray + alpha: keep the gray plane
    cv::Mat gray;
    cv::extractChannel(img, gray, 0);
    img = gray;
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

cv::Mat load_paired(const Sample& sample, int channels) {
  FER_CHECK(sample.modality_channels.size() == sample.modality_paths.size(), DataError,
            "sample {}: {} modality files but {} channel counts", sample.id, sample.modality_paths.size(),
            sample.modality_channels.size());
  int total = 0;
  for (int c : sample.modality_channels) {
    FER_CHECK(c == 1 || c == 3, DataError, "sample {}: modality channel count {} (expected 1 or 3)", sample.id, c);
    total += c;
  }
  FER_CHECK(total == channels, DataError,
            "sample {}: its {} modalities stack to {} channels, but {} were asked for (preprocess.channels)",
            sample.id, sample.modality_paths.size(), total, channels);
  std::vector<cv::Mat> parts;
  parts.reserve(sample.modality_paths.size());
  for (size_t m = 0; m < sample.modality_paths.size(); ++m) {
    cv::Mat img = convert(decode(sample.modality_paths[m]), sample.modality_channels[m]);
    if (!parts.empty() && img.size() != parts[0].size()) {
      cv::Mat r;
      const bool shrink = img.cols >= parts[0].cols && img.rows >= parts[0].rows;
      cv::resize(img, r, parts[0].size(), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
      img = r;
    }
    parts.push_back(img);
  }
  cv::Mat out;
  cv::merge(parts, out);
  return out;
}

}  // namespace

cv::Mat load_image(const Sample& sample, int channels) {
  if (!sample.modality_paths.empty() && sample.image.empty()) return load_paired(sample, channels);
  cv::Mat img = sample.image;
  if (img.empty()) {
    FER_CHECK(!sample.path.empty(), DataError, "sample {}: no image and no path", sample.id);
    img = decode(sample.path);
  }
  return convert(img, channels);
}

}  // namespace fer::data
