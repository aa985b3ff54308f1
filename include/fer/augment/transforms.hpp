#pragma once
// Preprocessing and augmentation on cv::Mat (no torch). Training transforms are seeded per
// sample; evaluation transforms are deterministic.
#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "fer/config/config.hpp"

namespace fer::augment {

using Rng = std::mt19937_64;

// ---- single transforms (8-bit images, 1 or 3 channels; output has the input's size) ----
cv::Mat hflip(const cv::Mat& img);
cv::Mat vflip(const cv::Mat& img);
/// Rotation by `degrees`, zoom by `scale`, shear by `shear_deg` and translation by (tx, ty)
/// pixels, about the image centre; borders replicated.
cv::Mat affine(const cv::Mat& img, double degrees, double scale, double shear_deg, double tx, double ty);
/// Moves each corner by the given offsets (pixels, 8 values: x0,y0,...,x3,y3) and warps.
cv::Mat perspective(const cv::Mat& img, const std::vector<double>& corner_offsets);
/// out = img * contrast + brightness*255, saturated; contrast scales about the image mean.
cv::Mat brightness_contrast(const cv::Mat& img, double brightness, double contrast);
cv::Mat gaussian_noise(const cv::Mat& img, double sigma, Rng& rng);
cv::Mat salt_pepper(const cv::Mat& img, double fraction, Rng& rng);
/// Crop of side `crop` at (x, y).
cv::Mat crop(const cv::Mat& img, int x, int y, int crop);
cv::Mat center_crop(const cv::Mat& img, int crop);
/// The 4 corner crops + centre crop, then the same 5 of the horizontally flipped image.
std::vector<cv::Mat> ten_crop(const cv::Mat& img, int crop);

/// The preprocessing + augmentation pipeline of a run.
class Pipeline {
 public:
  Pipeline(const config::PreprocessConfig& pre, const config::AugmentConfig& aug);

  /// Side of the images this pipeline outputs (augment.crop if set, else preprocess.size).
  int output_size() const;
  int channels() const { return pre_.channels; }

  /// 8-bit image with `channels()` channels -> resized, randomly augmented, randomly cropped.
  cv::Mat train(const cv::Mat& img, uint64_t sample_seed) const;
  /// Resize + centre crop (no randomness).
  cv::Mat eval(const cv::Mat& img) const;
  /// Resize + ten crops (requires augment.crop > 0; else one eval image and its flip).
  std::vector<cv::Mat> eval_ten_crop(const cv::Mat& img) const;

  /// Writes an 8-bit HxWxC image as float CHW into dst (C*H*W floats): RGB channel order for
  /// 3 channels, values scaled to [0,1] then normalised as configured (mean/std, minmax, none).
  void to_chw(const cv::Mat& img, float* dst) const;

 private:
  config::PreprocessConfig pre_;
  config::AugmentConfig aug_;
};

/// Per-channel mean and std (0..1 scale, RGB order) of images resized to `size`, for
/// "dataset" normalisation. `images` are 8-bit with `channels` channels.
void channel_stats(const std::vector<cv::Mat>& images, int channels, std::vector<double>& mean,
                   std::vector<double>& std);

/// ImageNet mean/std (RGB, 0..1).
const std::vector<double>& imagenet_mean();
const std::vector<double>& imagenet_std();

}  // namespace fer::augment
