#include "fer/augment/transforms.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "fer/core/error.hpp"

namespace fer::augment {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Portable draws: the std distributions differ between standard libraries, the engine does not,
// so the same seed gives the same augmentation everywhere.
double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }

// Standard normal quantiles at the midpoints of 4096 equal-probability bins: indexing with 12
// random bits draws an (up to 3.5 sigma) normal value far faster than Box-Muller.
constexpr int kNormalTableSize = 4096;
const std::array<float, kNormalTableSize>& normal_table() {
  static const std::array<float, kNormalTableSize> table = [] {
    std::array<float, kNormalTableSize> t{};
    for (int i = 0; i < kNormalTableSize; ++i) {
      const double p = (i + 0.5) / kNormalTableSize;
      double lo = -10.0, hi = 10.0;  // bisection on the CDF 0.5 * erfc(-z / sqrt(2))
      for (int it = 0; it < 60; ++it) {
        const double mid = 0.5 * (lo + hi);
        (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
      }
      t[i] = static_cast<float>(0.5 * (lo + hi));
    }
    return t;
  }();
  return table;
}

void check_image(const cv::Mat& img, const char* what) {
  FER_CHECK(!img.empty(), DataError, "{}: empty image", what);
  FER_CHECK(img.depth() == CV_8U, DataError, "{}: expected an 8-bit image, got depth {} with {} channels", what,
            img.depth(), img.channels());
}

// Output plane k of to_chw / channel_stats reads source channel perm[k]: each 3-channel group is
// reversed (BGR -> RGB), other groups keep their order.
std::vector<int> output_order(const std::vector<int>& groups) {
  std::vector<int> perm;
  int offset = 0;
  for (int g : groups) {
    for (int k = 0; k < g; ++k) perm.push_back(g == 3 ? offset + 2 - k : offset + k);
    offset += g;
  }
  return perm;
}

std::vector<int> checked_groups(const std::vector<int>& modality_channels, int channels, const char* what) {
  if (modality_channels.empty()) {
    FER_CHECK(channels == 1 || channels == 3, ConfigError,
              "{}: expected 1 or 3 channels, got {} (stacked modalities need their channel split, "
              "data::modality_channels(cfg.data))",
              what, channels);
    return {channels};
  }
  int sum = 0;
  for (size_t m = 0; m < modality_channels.size(); ++m) {
    FER_CHECK(modality_channels[m] == 1 || modality_channels[m] == 3, ConfigError,
              "{}: modality {} has {} channels, expected 1 or 3", what, m, modality_channels[m]);
    sum += modality_channels[m];
  }
  FER_CHECK(sum == channels, ConfigError, "{}: the modalities' channels sum to {}, but there are {} channels", what,
            sum, channels);
  return modality_channels;
}

// Channels [offset, offset + n) of img as their own Mat, and back.
cv::Mat take_channels(const cv::Mat& img, int offset, int n) {
  cv::Mat out(img.size(), CV_8UC(n));
  std::vector<int> from_to;
  for (int k = 0; k < n; ++k) {
    from_to.push_back(offset + k);
    from_to.push_back(k);
  }
  cv::mixChannels(&img, 1, &out, 1, from_to.data(), static_cast<size_t>(n));
  return out;
}

void put_channels(const cv::Mat& part, cv::Mat& img, int offset) {
  std::vector<int> from_to;
  for (int k = 0; k < part.channels(); ++k) {
    from_to.push_back(k);
    from_to.push_back(offset + k);
  }
  cv::mixChannels(&part, 1, &img, 1, from_to.data(), static_cast<size_t>(part.channels()));
}

// Resizes to side x side: INTER_AREA when shrinking, INTER_LINEAR when enlarging.
cv::Mat resize_to(const cv::Mat& img, int side) {
  if (img.cols == side && img.rows == side) return img.clone();
  cv::Mat out;
  const bool shrink = img.cols >= side && img.rows >= side;
  cv::resize(img, out, cv::Size(side, side), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

// Offset of a centred crop, rounded half to even like torchvision's center_crop.
int centre_offset(int full, int crop) { return static_cast<int>(std::nearbyint((full - crop) / 2.0)); }

std::vector<cv::Mat> five_crop(const cv::Mat& img, int side) {
  const int w = img.cols, h = img.rows;
  return {crop(img, 0, 0, side), crop(img, w - side, 0, side), crop(img, 0, h - side, side),
          crop(img, w - side, h - side, side), center_crop(img, side)};
}

}  // namespace

const std::vector<double>& imagenet_mean() {
  static const std::vector<double> v = {0.485, 0.456, 0.406};
  return v;
}

const std::vector<double>& imagenet_std() {
  static const std::vector<double> v = {0.229, 0.224, 0.225};
  return v;
}

// ---- single transforms ----

cv::Mat hflip(const cv::Mat& img) {
  cv::Mat out;
  cv::flip(img, out, 1);
  return out;
}

cv::Mat vflip(const cv::Mat& img) {
  cv::Mat out;
  cv::flip(img, out, 0);
  return out;
}

cv::Mat affine(const cv::Mat& img, double degrees, double scale, double shear_deg, double tx, double ty) {
  FER_CHECK(scale > 0.0, ConfigError, "affine: scale must be > 0, got {}", scale);
  if (degrees == 0.0 && scale == 1.0 && shear_deg == 0.0 && tx == 0.0 && ty == 0.0) return img.clone();
  // Destination = T(c + t) * R * Shear * S * T(-c); positive degrees turn counter-clockwise on
  // screen, as cv::getRotationMatrix2D and torchvision do.
  const double a = degrees * kPi / 180.0, ca = std::cos(a), sa = std::sin(a);
  const double sh = std::tan(shear_deg * kPi / 180.0);
  // R (screen CCW with y down) = [[c, s], [-s, c]]; shear along x = [[1, sh], [0, 1]].
  const double m00 = scale * ca, m01 = scale * (ca * sh + sa);
  const double m10 = -scale * sa, m11 = scale * (-sa * sh + ca);
  const double cx = (img.cols - 1) * 0.5, cy = (img.rows - 1) * 0.5;
  const cv::Matx23d m(m00, m01, cx + tx - m00 * cx - m01 * cy, m10, m11, cy + ty - m10 * cx - m11 * cy);
  cv::Mat out;
  cv::warpAffine(img, out, m, img.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

cv::Mat perspective(const cv::Mat& img, const std::vector<double>& corner_offsets) {
  FER_CHECK(corner_offsets.size() == 8, ConfigError, "perspective: expected 8 corner offsets, got {}",
            corner_offsets.size());
  const float w = static_cast<float>(img.cols - 1), h = static_cast<float>(img.rows - 1);
  const std::array<cv::Point2f, 4> src = {cv::Point2f(0, 0), cv::Point2f(w, 0), cv::Point2f(w, h),
                                          cv::Point2f(0, h)};
  std::array<cv::Point2f, 4> dst{};
  for (int i = 0; i < 4; ++i) {
    dst[i] = src[i] + cv::Point2f(static_cast<float>(corner_offsets[2 * i]),
                                  static_cast<float>(corner_offsets[2 * i + 1]));
  }
  const cv::Mat m = cv::getPerspectiveTransform(src.data(), dst.data());
  cv::Mat out;
  cv::warpPerspective(img, out, m, img.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

cv::Mat brightness_contrast(const cv::Mat& img, double brightness, double contrast) {
  double mean = 0.0;
  if (img.channels() <= 4) {
    const cv::Scalar m = cv::mean(img);
    for (int c = 0; c < img.channels(); ++c) mean += m[c];
    mean /= img.channels();
  } else {
    mean = cv::mean(img.reshape(1))[0];
  }
  cv::Mat out;
  img.convertTo(out, -1, contrast, (1.0 - contrast) * mean + brightness * 255.0);
  return out;
}

cv::Mat gaussian_noise(const cv::Mat& img, double sigma, Rng& rng) {
  check_image(img, "gaussian_noise");
  const auto& table = normal_table();
  cv::Mat out(img.size(), img.type());
  const int n = img.cols * img.channels();
  const float s = static_cast<float>(sigma);
  uint64_t bits = 0;
  int left = 0;  // 12-bit table indices left in `bits` (5 per engine call)
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* src = img.ptr<uint8_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int x = 0; x < n; ++x) {
      if (left == 0) {
        bits = rng();
        left = 5;
      }
      const float z = table[bits & (kNormalTableSize - 1)];
      bits >>= 12;
      --left;
      dst[x] = cv::saturate_cast<uint8_t>(src[x] + s * z);
    }
  }
  return out;
}

cv::Mat salt_pepper(const cv::Mat& img, double fraction, Rng& rng) {
  check_image(img, "salt_pepper");
  cv::Mat out = img.clone();
  const int cn = img.channels();
  for (int y = 0; y < out.rows; ++y) {
    uint8_t* row = out.ptr<uint8_t>(y);
    for (int x = 0; x < out.cols; ++x) {
      const double u = uniform01(rng);
      if (u >= fraction) continue;
      // The same draw decides salt or pepper: below half the fraction is pepper.
      const uint8_t v = u < 0.5 * fraction ? 0 : 255;
      for (int c = 0; c < cn; ++c) row[x * cn + c] = v;
    }
  }
  return out;
}

cv::Mat crop(const cv::Mat& img, int x, int y, int crop) {
  FER_CHECK(crop > 0 && x >= 0 && y >= 0 && x + crop <= img.cols && y + crop <= img.rows, DataError,
            "crop: {}x{} at ({}, {}) does not fit a {}x{} image", crop, crop, x, y, img.cols, img.rows);
  return img(cv::Rect(x, y, crop, crop)).clone();
}

cv::Mat center_crop(const cv::Mat& img, int crop) {
  FER_CHECK(crop > 0 && crop <= img.cols && crop <= img.rows, DataError,
            "center_crop: {} does not fit a {}x{} image", crop, img.cols, img.rows);
  return fer::augment::crop(img, centre_offset(img.cols, crop), centre_offset(img.rows, crop), crop);
}

std::vector<cv::Mat> ten_crop(const cv::Mat& img, int crop) {
  FER_CHECK(crop > 0 && crop <= img.cols && crop <= img.rows, DataError,
            "ten_crop: {} does not fit a {}x{} image", crop, img.cols, img.rows);
  std::vector<cv::Mat> out = five_crop(img, crop);
  std::vector<cv::Mat> flipped = five_crop(hflip(img), crop);
  out.insert(out.end(), flipped.begin(), flipped.end());
  return out;
}

// ---- pipeline ----

Pipeline::Pipeline(const config::PreprocessConfig& pre, const config::AugmentConfig& aug,
                   std::vector<int> modality_channels)
    : pre_(pre), aug_(aug), modality_channels_(std::move(modality_channels)) {
  FER_CHECK(pre_.size >= 1, ConfigError, "/preprocess/size: expected >= 1, got {}", pre_.size);
  if (modality_channels_.empty()) {
    FER_CHECK(pre_.channels == 1 || pre_.channels == 3, ConfigError,
              "/preprocess/channels: expected 1 or 3, got {} (stacked modalities: pass their channel split, "
              "data::modality_channels(cfg.data), to the Pipeline)",
              pre_.channels);
  } else {
    checked_groups(modality_channels_, pre_.channels, "/preprocess/channels");
  }
  FER_CHECK(aug_.crop >= 0 && aug_.crop <= pre_.size, ConfigError,
            "/augment/crop: expected 0..{} (preprocess.size), got {}", pre_.size, aug_.crop);
}

std::vector<int> Pipeline::groups() const {
  return modality_channels_.empty() ? std::vector<int>{pre_.channels} : modality_channels_;
}

int Pipeline::output_size() const { return aug_.crop > 0 ? aug_.crop : pre_.size; }

cv::Mat Pipeline::train(const cv::Mat& img, uint64_t sample_seed) const {
  check_image(img, "augment");
  FER_CHECK(img.channels() == pre_.channels, DataError,
            "augment: image has {} channels, preprocess.channels is {}", img.channels(), pre_.channels);
  Rng rng(sample_seed);
  cv::Mat x = resize_to(img, pre_.size);
  const double side = pre_.size;

  // Geometric: one affine, then perspective, then flips.
  if (aug_.rotation > 0 || aug_.zoom > 0 || aug_.shear > 0 || aug_.translate > 0) {
    const double deg = aug_.rotation > 0 ? uniform(rng, -aug_.rotation, aug_.rotation) : 0.0;
    const double scale = aug_.zoom > 0 ? uniform(rng, 1.0 - aug_.zoom, 1.0 + aug_.zoom) : 1.0;
    const double shear = aug_.shear > 0 ? uniform(rng, -aug_.shear, aug_.shear) : 0.0;
    double tx = 0.0, ty = 0.0;
    if (aug_.translate > 0) {
      tx = uniform(rng, -aug_.translate, aug_.translate) * side;
      ty = uniform(rng, -aug_.translate, aug_.translate) * side;
    }
    x = affine(x, deg, scale, shear, tx, ty);
  }
  if (aug_.perspective > 0) {
    std::vector<double> offsets(8);
    for (double& o : offsets) o = uniform(rng, -aug_.perspective, aug_.perspective) * side;
    x = perspective(x, offsets);
  }
  if (aug_.hflip > 0 && uniform01(rng) < aug_.hflip) x = hflip(x);
  if (aug_.vflip > 0 && uniform01(rng) < aug_.vflip) x = vflip(x);

  // Photometric: drawn independently for each modality (one group for ordinary images).
  const auto photometric = [&](cv::Mat m) {
    if (aug_.brightness > 0 || aug_.contrast > 0) {
      const double b = aug_.brightness > 0 ? uniform(rng, -aug_.brightness, aug_.brightness) : 0.0;
      const double c = aug_.contrast > 0 ? uniform(rng, 1.0 - aug_.contrast, 1.0 + aug_.contrast) : 1.0;
      m = brightness_contrast(m, b, c);
    }
    if (aug_.gaussian_noise > 0) m = gaussian_noise(m, aug_.gaussian_noise, rng);
    if (aug_.salt_pepper > 0) m = salt_pepper(m, aug_.salt_pepper, rng);
    return m;
  };
  const bool any_photometric =
      aug_.brightness > 0 || aug_.contrast > 0 || aug_.gaussian_noise > 0 || aug_.salt_pepper > 0;
  if (modality_channels_.size() <= 1) {
    x = photometric(x);
  } else if (any_photometric) {
    int offset = 0;
    for (int g : modality_channels_) {
      put_channels(photometric(take_channels(x, offset, g)), x, offset);
      offset += g;
    }
  }

  if (aug_.crop > 0 && aug_.crop < pre_.size) {
    const int range = pre_.size - aug_.crop + 1;
    const int cx = std::min(range - 1, static_cast<int>(uniform01(rng) * range));
    const int cy = std::min(range - 1, static_cast<int>(uniform01(rng) * range));
    x = crop(x, cx, cy, aug_.crop);
  }
  return x;
}

cv::Mat Pipeline::eval(const cv::Mat& img) const {
  check_image(img, "preprocess");
  FER_CHECK(img.channels() == pre_.channels, DataError,
            "preprocess: image has {} channels, preprocess.channels is {}", img.channels(), pre_.channels);
  cv::Mat x = resize_to(img, pre_.size);
  return aug_.crop > 0 && aug_.crop < pre_.size ? center_crop(x, aug_.crop) : x;
}

std::vector<cv::Mat> Pipeline::eval_ten_crop(const cv::Mat& img) const {
  if (aug_.crop <= 0) {
    cv::Mat x = eval(img);
    return {x, hflip(x)};
  }
  check_image(img, "preprocess");
  FER_CHECK(img.channels() == pre_.channels, DataError,
            "preprocess: image has {} channels, preprocess.channels is {}", img.channels(), pre_.channels);
  return ten_crop(resize_to(img, pre_.size), aug_.crop);
}

std::vector<cv::Mat> Pipeline::eval_views(const cv::Mat& img, Tta t) const {
  switch (t) {
    case Tta::kNone:
      return {eval(img)};
    case Tta::kFlip: {
      cv::Mat x = eval(img);
      return {x, hflip(x)};
    }
    case Tta::kTenCrop:
      FER_CHECK(
          aug_.crop > 0, ConfigError,
          "ten-crop test-time augmentation needs a model trained with augment.crop > 0 (use flip instead)");
      return eval_ten_crop(img);
  }
  return {};
}

const Registry<TransformKind>& transform_registry() {
  static const Registry<TransformKind> registry = [] {
    Registry<TransformKind> r("transform");
    const auto add = [&r](const char* name, const char* description, const char* section) {
      r.add(name, description, {std::string(section) + "." + name});
    };
    add("rotation", "rotation, uniform in [-r, r] degrees", "augment");
    add("zoom", "scale, uniform in [1-z, 1+z]", "augment");
    add("shear", "shear, uniform in [-s, s] degrees", "augment");
    add("translate", "shift, uniform in [-t, t] of the side", "augment");
    add("perspective", "corner displacement up to this fraction of the side", "augment");
    add("hflip", "horizontal flip with this probability", "augment");
    add("vflip", "vertical flip with this probability", "augment");
    add("brightness", "additive brightness, uniform in [-b, b] of 255", "augment");
    add("contrast", "contrast, uniform in [1-c, 1+c]", "augment");
    add("gaussian_noise", "Gaussian noise with this sigma (gray levels)", "augment");
    add("salt_pepper", "this fraction of pixels set to 0 or 255", "augment");
    add("crop", "random crop (train) / centre crop (eval) of this side", "augment");
    add("flip", "test time: the image and its mirror image; logits averaged", "eval");
    add("ten_crop", "test time: 4 corners + centre, and their mirror images; logits averaged", "eval");
    return r;
  }();
  return registry;
}

Tta parse_tta(const std::string& name, const std::string& where) {
  if (name == "none") return Tta::kNone;
  if (name == "flip") return Tta::kFlip;
  if (name == "ten_crop") return Tta::kTenCrop;
  throw ConfigError(fmt::format("{}: expected none, flip or ten_crop, got \"{}\"", where, name));
}

const char* tta_name(Tta t) {
  switch (t) {
    case Tta::kNone:
      return "none";
    case Tta::kFlip:
      return "flip";
    case Tta::kTenCrop:
      return "ten_crop";
  }
  return "?";
}

Tta configured_tta(const config::EvalConfig& e) {
  return e.ten_crop ? Tta::kTenCrop : e.flip ? Tta::kFlip : Tta::kNone;
}

int tta_views(Tta t) { return t == Tta::kTenCrop ? 10 : t == Tta::kFlip ? 2 : 1; }

void Pipeline::to_chw(const cv::Mat& img, float* dst) const {
  check_image(img, "to_chw");
  const int cn = pre_.channels;
  FER_CHECK(img.channels() == cn, DataError, "to_chw: image has {} channels, preprocess.channels is {}",
            img.channels(), cn);
  const std::vector<int> grp = groups();
  const std::vector<int> perm = output_order(grp);  // output plane -> source channel

  // One 256-entry table per output channel maps a byte to its normalised value.
  std::vector<std::array<float, 256>> lut(static_cast<size_t>(cn));
  const config::Choice<config::Normalize> mode = pre_.normalize;
  if (mode == "minmax") {  // per modality group
    int offset = 0;
    for (int g : grp) {
      double lo = 0.0, hi = 0.0;
      if (static_cast<int>(grp.size()) == 1)
        cv::minMaxLoc(img.reshape(1), &lo, &hi);
      else
        cv::minMaxLoc(take_channels(img, offset, g).reshape(1), &lo, &hi);
      const double range = hi - lo;
      for (int c = offset; c < offset + g; ++c)
        for (int v = 0; v < 256; ++v) lut[c][v] = range > 0 ? static_cast<float>((v - lo) / range) : 0.0f;
      offset += g;
    }
  } else if (mode == "none") {
    for (int c = 0; c < cn; ++c)
      for (int v = 0; v < 256; ++v) lut[c][v] = static_cast<float>(v / 255.0);
  } else {
    std::vector<double> mean = pre_.mean, std = pre_.std;
    if (mode == "imagenet" && mean.empty()) {
      const auto &im = imagenet_mean(), &is = imagenet_std();
      for (int g : grp) {
        if (g == 3) {
          mean.insert(mean.end(), im.begin(), im.end());
          std.insert(std.end(), is.begin(), is.end());
        } else {  // gray: the average of the RGB statistics
          for (int k = 0; k < g; ++k) {
            mean.push_back((im[0] + im[1] + im[2]) / 3.0);
            std.push_back((is[0] + is[1] + is[2]) / 3.0);
          }
        }
      }
    }
    FER_CHECK(mean.size() == static_cast<size_t>(cn) && std.size() == static_cast<size_t>(cn), ConfigError,
              "preprocess.normalize \"{}\" needs {} mean and std values, got {} and {}", mode, cn,
              mean.size(), std.size());
    for (int c = 0; c < cn; ++c) {
      FER_CHECK(std[c] > 0.0, ConfigError, "/preprocess/std/{}: expected > 0, got {}", c, std[c]);
      for (int v = 0; v < 256; ++v) lut[c][v] = static_cast<float>((v / 255.0 - mean[c]) / std[c]);
    }
  }

  const int w = img.cols, h = img.rows;
  const size_t plane = static_cast<size_t>(w) * h;
  if (cn == 1) {
    const auto& l = lut[0];
    for (int y = 0; y < h; ++y) {
      const uint8_t* src = img.ptr<uint8_t>(y);
      float* out = dst + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; ++x) out[x] = l[src[x]];
    }
    return;
  }
  if (cn == 3) {
    const auto &lr = lut[0], &lg = lut[1], &lb = lut[2];
    for (int y = 0; y < h; ++y) {
      const uint8_t* src = img.ptr<uint8_t>(y);
      float* r = dst + static_cast<size_t>(y) * w;
      float* g = r + plane;
      float* b = g + plane;
      for (int x = 0; x < w; ++x, src += 3) {  // BGR in, RGB planes out
        b[x] = lb[src[0]];
        g[x] = lg[src[1]];
        r[x] = lr[src[2]];
      }
    }
    return;
  }
  for (int k = 0; k < cn; ++k) {  // stacked modalities: plane k from source channel perm[k]
    const auto& l = lut[k];
    const int sc = perm[k];
    for (int y = 0; y < h; ++y) {
      const uint8_t* src = img.ptr<uint8_t>(y) + sc;
      float* out = dst + k * plane + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; ++x) out[x] = l[src[static_cast<size_t>(x) * cn]];
    }
  }
}

void channel_stats(const std::vector<cv::Mat>& images, int channels, std::vector<double>& mean,
                   std::vector<double>& std, const std::vector<int>& modality_channels) {
  const std::vector<int> perm = output_order(checked_groups(modality_channels, channels, "channel_stats"));
  FER_CHECK(!images.empty(), DataError, "channel_stats: no images");
  // Exact per-channel histograms (RGB order), then moments in double.
  std::vector<std::array<uint64_t, 256>> hist(channels);
  for (auto& hc : hist) hc.fill(0);
  for (size_t i = 0; i < images.size(); ++i) {
    const cv::Mat& img = images[i];
    check_image(img, "channel_stats");
    FER_CHECK(img.channels() == channels, DataError, "channel_stats: image {} has {} channels, expected {}",
              i, img.channels(), channels);
    for (int y = 0; y < img.rows; ++y) {
      const uint8_t* src = img.ptr<uint8_t>(y);
      if (channels == 1) {
        for (int x = 0; x < img.cols; ++x) ++hist[0][src[x]];
      } else if (channels == 3 && perm[0] == 2) {
        for (int x = 0; x < img.cols; ++x, src += 3) {
          ++hist[0][src[2]];
          ++hist[1][src[1]];
          ++hist[2][src[0]];
        }
      } else {
        for (int x = 0; x < img.cols; ++x, src += channels)
          for (int k = 0; k < channels; ++k) ++hist[static_cast<size_t>(k)][src[perm[static_cast<size_t>(k)]]];
      }
    }
  }
  mean.assign(channels, 0.0);
  std.assign(channels, 0.0);
  for (int c = 0; c < channels; ++c) {
    double n = 0.0, s = 0.0, s2 = 0.0;
    for (int v = 0; v < 256; ++v) {
      const double k = static_cast<double>(hist[c][v]), x = v / 255.0;
      n += k;
      s += k * x;
      s2 += k * x * x;
    }
    FER_CHECK(n > 0, DataError, "channel_stats: images have no pixels");
    mean[c] = s / n;
    std[c] = std::sqrt(std::max(0.0, s2 / n - mean[c] * mean[c]));
  }
}

}  // namespace fer::augment
