#pragma once
// Preprocessing and augmentation on cv::Mat (no torch). Training transforms are seeded per
// sample; evaluation transforms are deterministic.
#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/core/registry.hpp"

namespace fer::augment {

using Rng = std::mt19937_64;

// ---- single transforms (8-bit images with any channel count, e.g. 4 = stacked BGR +
// infrared; output has the input's size) ----
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

/// A registered transform: the config key that turns it on.
struct TransformKind {
  std::string key;  ///< "augment.rotation", "eval.flip", ...
};
/// The training transforms (one per augment.* key, in the order the pipeline applies them) and
/// the test-time augmentations, for `fer list transforms`. Augment.TransformRegistryCoversEveryKey
/// ties it to the config's augment section.
const Registry<TransformKind>& transform_registry();

/// Test-time augmentation: the views of an image whose logits are averaged.
enum class Tta {
  kNone,     ///< the evaluation image alone
  kFlip,     ///< the evaluation image and its mirror image (2 views)
  kTenCrop,  ///< 4 corner crops + centre crop and their mirror images (10 views; needs augment.crop)
};
/// "none" | "flip" | "ten_crop"; anything else is a ConfigError naming `where` and the choices.
Tta parse_tta(const std::string& name, const std::string& where);
const char* tta_name(Tta t);
/// Views per image: 1, 2 or 10.
int tta_views(Tta t);
/// The test-time augmentation a run's config asks for (eval.ten_crop, eval.flip).
Tta configured_tta(const config::EvalConfig& e);

/// The preprocessing + augmentation pipeline of a run.
///
/// Stacked modalities (paired datasets, data.paired.use "all"): pass the channels of each
/// modality, in stacking order, as `modality_channels` (data::modality_channels(cfg.data), e.g.
/// {3, 1}); their sum must equal preprocess.channels and each be 1 or 3. Then geometric
/// transforms are applied identically to all channels, photometric ones (brightness/contrast,
/// gaussian noise, salt-and-pepper) are drawn independently per modality, to_chw turns each
/// 3-channel group from BGR into RGB, and "imagenet" / "minmax" normalise per modality. Empty
/// (the default) = one image of preprocess.channels (1 or 3) channels, as before.
class Pipeline {
 public:
  Pipeline(const config::PreprocessConfig& pre, const config::AugmentConfig& aug,
           std::vector<int> modality_channels = {});

  /// The modality split given to the constructor (empty for ordinary images).
  const std::vector<int>& modality_channels() const { return modality_channels_; }

  /// Side of the images this pipeline outputs (augment.crop if set, else preprocess.size).
  int output_size() const;
  int channels() const { return pre_.channels; }

  /// 8-bit image with `channels()` channels -> resized, randomly augmented, randomly cropped.
  cv::Mat train(const cv::Mat& img, uint64_t sample_seed) const;
  /// Resize + centre crop (no randomness).
  cv::Mat eval(const cv::Mat& img) const;
  /// Resize + ten crops (requires augment.crop > 0; else one eval image and its flip).
  std::vector<cv::Mat> eval_ten_crop(const cv::Mat& img) const;
  /// The tta_views(t) views of an image: eval(img); eval(img) and its mirror; or the ten crops
  /// (ConfigError when augment.crop is 0).
  std::vector<cv::Mat> eval_views(const cv::Mat& img, Tta t) const;

  /// Writes an 8-bit HxWxC image as float CHW into dst (C*H*W floats): RGB channel order for
  /// 3 channels (for each 3-channel modality group), values scaled to [0,1] then normalised as
  /// configured (mean/std per output channel, minmax, none).
  void to_chw(const cv::Mat& img, float* dst) const;

 private:
  // Each modality's channels, in order ({channels} for ordinary images).
  std::vector<int> groups() const;

  config::PreprocessConfig pre_;
  config::AugmentConfig aug_;
  std::vector<int> modality_channels_;
};

/// Per-channel mean and std (0..1 scale, in to_chw's output order: RGB for each 3-channel
/// group) of 8-bit images with `channels` channels, for "dataset" normalisation.
/// `modality_channels` as for Pipeline (empty = one group of `channels`, 1 or 3).
void channel_stats(const std::vector<cv::Mat>& images, int channels, std::vector<double>& mean,
                   std::vector<double>& std, const std::vector<int>& modality_channels = {});

/// ImageNet mean/std (RGB, 0..1).
const std::vector<double>& imagenet_mean();
const std::vector<double>& imagenet_std();

}  // namespace fer::augment
