#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <opencv2/core.hpp>
#include <vector>

#include "fer/augment/transforms.hpp"
#include "fer/core/error.hpp"

namespace fa = fer::augment;

namespace {

// 8-bit gray image whose pixel (x, y) holds y * w + x (distinct values, w * h <= 256).
cv::Mat ramp(int w, int h) {
  cv::Mat m(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<uint8_t>(y, x) = static_cast<uint8_t>(y * w + x);
  return m;
}

bool equal(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// The centroid of pixels brighter than 128.
cv::Point2d bright_centroid(const cv::Mat& img) {
  double sx = 0, sy = 0, n = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      if (img.at<uint8_t>(y, x) > 128) {
        sx += x;
        sy += y;
        n += 1;
      }
  return n > 0 ? cv::Point2d(sx / n, sy / n) : cv::Point2d(-1, -1);
}

fer::config::PreprocessConfig pre_cfg(int size, int channels, const std::string& norm = "none") {
  fer::config::PreprocessConfig p;
  p.size = size;
  p.channels = channels;
  p.normalize = norm;
  return p;
}

fer::config::AugmentConfig all_on() {
  fer::config::AugmentConfig a;
  a.crop = 40;
  a.hflip = 0.5;
  a.vflip = 0.1;
  a.rotation = 15;
  a.zoom = 0.1;
  a.shear = 5;
  a.translate = 0.1;
  a.perspective = 0.05;
  a.brightness = 0.2;
  a.contrast = 0.2;
  a.gaussian_noise = 5;
  a.salt_pepper = 0.01;
  return a;
}

cv::Mat textured(int size, int channels) {
  cv::Mat m(size, size, CV_8UC(channels));
  fa::Rng rng(7);
  for (int y = 0; y < size; ++y) {
    uint8_t* row = m.ptr<uint8_t>(y);
    for (int x = 0; x < size * channels; ++x) row[x] = static_cast<uint8_t>(rng() & 0xFF);
  }
  return m;
}

}  // namespace

TEST(Augment, FlipsMovePixels) {
  const cv::Mat img = ramp(4, 3);
  const cv::Mat h = fa::hflip(img), v = fa::vflip(img);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) {
      EXPECT_EQ(h.at<uint8_t>(y, x), img.at<uint8_t>(y, 3 - x));
      EXPECT_EQ(v.at<uint8_t>(y, x), img.at<uint8_t>(2 - y, x));
    }
}

TEST(Augment, AffineIdentityReturnsInput) {
  const cv::Mat img = textured(16, 3);
  EXPECT_TRUE(equal(fa::affine(img, 0, 1, 0, 0, 0), img));
}

TEST(Augment, AffineRotates90CounterClockwise) {
  cv::Mat img = cv::Mat::zeros(21, 21, CV_8UC1);
  img(cv::Rect(15, 9, 3, 3)).setTo(255);  // right of centre (10, 10), centred on (16, 10)
  const cv::Point2d p = bright_centroid(fa::affine(img, 90, 1, 0, 0, 0));
  // Counter-clockwise on screen: right of centre goes above it.
  EXPECT_NEAR(p.x, 10, 1.0);
  EXPECT_NEAR(p.y, 4, 1.0);
}

TEST(Augment, AffineTranslatesAndZooms) {
  cv::Mat img = cv::Mat::zeros(21, 21, CV_8UC1);
  img(cv::Rect(13, 9, 3, 3)).setTo(255);  // centred on (14, 10)
  cv::Point2d p = bright_centroid(fa::affine(img, 0, 1, 0, 3, -2));
  EXPECT_NEAR(p.x, 17, 0.5);
  EXPECT_NEAR(p.y, 8, 0.5);
  p = bright_centroid(fa::affine(img, 0, 2, 0, 0, 0));  // (14 - 10) * 2 + 10
  EXPECT_NEAR(p.x, 18, 1.0);
  EXPECT_NEAR(p.y, 10, 1.0);
}

TEST(Augment, PerspectiveZeroOffsetsKeepsImageAndChecksCount) {
  const cv::Mat img = textured(12, 1);
  EXPECT_TRUE(equal(fa::perspective(img, std::vector<double>(8, 0.0)), img));
  EXPECT_THROW(fa::perspective(img, {1, 2, 3}), fer::ConfigError);
  const cv::Mat warped = fa::perspective(img, {2, 1, -1, 2, -2, -1, 1, -2});
  EXPECT_EQ(warped.size(), img.size());
  EXPECT_FALSE(equal(warped, img));
}

TEST(Augment, CropCoordinates) {
  const cv::Mat img = ramp(8, 8);
  const cv::Mat c = fa::crop(img, 2, 3, 4);
  ASSERT_EQ(c.size(), cv::Size(4, 4));
  EXPECT_EQ(c.at<uint8_t>(0, 0), 3 * 8 + 2);
  EXPECT_EQ(c.at<uint8_t>(3, 3), 6 * 8 + 5);
  const cv::Mat cc = fa::center_crop(img, 4);
  EXPECT_EQ(cc.at<uint8_t>(0, 0), 2 * 8 + 2);
  EXPECT_THROW(fa::crop(img, 6, 0, 4), fer::DataError);
  EXPECT_THROW(fa::center_crop(img, 9), fer::DataError);
}

TEST(Augment, TenCropOrder) {
  const cv::Mat img = ramp(8, 8);
  const auto crops = fa::ten_crop(img, 5);
  ASSERT_EQ(crops.size(), 10u);
  const int x0[5] = {0, 3, 0, 3, -1}, y0[5] = {0, 0, 3, 3, -1};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(crops[i].at<uint8_t>(0, 0), y0[i] * 8 + x0[i]) << "crop " << i;
  EXPECT_TRUE(equal(crops[4], fa::center_crop(img, 5)));
  const cv::Mat flipped = fa::hflip(img);
  EXPECT_TRUE(equal(crops[5], fa::crop(flipped, 0, 0, 5)));
  EXPECT_TRUE(equal(crops[8], fa::crop(flipped, 3, 3, 5)));
  EXPECT_TRUE(equal(crops[9], fa::center_crop(flipped, 5)));
  // The top-left crop of the flipped image is the flipped top-right crop.
  EXPECT_TRUE(equal(crops[5], fa::hflip(crops[1])));
}

TEST(Augment, BrightnessContrastOnConstantImage) {
  const cv::Mat img(4, 4, CV_8UC3, cv::Scalar(100, 100, 100));
  cv::Mat out = fa::brightness_contrast(img, 0.1, 2.0);          // contrast about the mean keeps 100
  EXPECT_EQ(out.at<cv::Vec3b>(1, 1), cv::Vec3b(126, 126, 126));  // 100 + 25.5, rounded to even
  out = fa::brightness_contrast(img, 0.9, 1.0);
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));  // saturated
  cv::Mat two(1, 2, CV_8UC1);
  two.at<uint8_t>(0, 0) = 90;
  two.at<uint8_t>(0, 1) = 110;
  out = fa::brightness_contrast(two, 0.0, 2.0);  // about the mean 100
  EXPECT_EQ(out.at<uint8_t>(0, 0), 80);
  EXPECT_EQ(out.at<uint8_t>(0, 1), 120);
}

TEST(Augment, SaltPepperFraction) {
  const cv::Mat img(100, 100, CV_8UC1, cv::Scalar(128));
  fa::Rng rng(3);
  const cv::Mat out = fa::salt_pepper(img, 0.1, rng);
  const int salt = cv::countNonZero(out == 255), pepper = cv::countNonZero(out == 0);
  EXPECT_NEAR((salt + pepper) / 10000.0, 0.1, 0.015);
  EXPECT_NEAR(salt / 10000.0, 0.05, 0.01);
  const cv::Mat color(50, 50, CV_8UC3, cv::Scalar(128, 128, 128));
  const cv::Mat cout = fa::salt_pepper(color, 0.2, rng);
  for (int y = 0; y < 50; ++y)  // whole pixels change, not single channels
    for (int x = 0; x < 50; ++x) {
      const cv::Vec3b& v = cout.at<cv::Vec3b>(y, x);
      EXPECT_TRUE(v[0] == v[1] && v[1] == v[2]);
    }
}

TEST(Augment, GaussianNoiseStd) {
  const cv::Mat img(128, 128, CV_8UC1, cv::Scalar(128));
  fa::Rng rng(5);
  const cv::Mat out = fa::gaussian_noise(img, 10.0, rng);
  cv::Scalar mean, sd;
  cv::meanStdDev(out, mean, sd);
  EXPECT_NEAR(mean[0], 128, 0.5);
  EXPECT_NEAR(sd[0], 10.0, 0.5);
  fa::Rng a(9), b(9);
  EXPECT_TRUE(equal(fa::gaussian_noise(img, 5, a), fa::gaussian_noise(img, 5, b)));
}

TEST(Augment, PipelineDeterministicAndSized) {
  const fa::Pipeline p(pre_cfg(48, 3), all_on());
  EXPECT_EQ(p.output_size(), 40);
  const cv::Mat img = textured(64, 3);
  const cv::Mat a = p.train(img, 11), b = p.train(img, 11), c = p.train(img, 12);
  EXPECT_EQ(a.size(), cv::Size(40, 40));
  EXPECT_EQ(a.type(), CV_8UC3);
  EXPECT_TRUE(equal(a, b));
  EXPECT_FALSE(equal(a, c));
  // Eval is resize + centre crop, with no randomness.
  const cv::Mat e = p.eval(img);
  EXPECT_EQ(e.size(), cv::Size(40, 40));
  EXPECT_TRUE(equal(e, p.eval(img)));
  const auto ten = p.eval_ten_crop(img);
  ASSERT_EQ(ten.size(), 10u);
  EXPECT_TRUE(equal(ten[4], e));
  // Gray input upscaled; no augmentation at all is a plain resize.
  const fa::Pipeline plain(pre_cfg(32, 1), fer::config::AugmentConfig{});
  const cv::Mat g = plain.train(textured(20, 1), 1);
  EXPECT_EQ(g.size(), cv::Size(32, 32));
  EXPECT_TRUE(equal(g, plain.eval(textured(20, 1))));
  const auto two = plain.eval_ten_crop(textured(20, 1));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_TRUE(equal(two[1], fa::hflip(two[0])));
  EXPECT_THROW(plain.train(textured(20, 3), 1), fer::DataError);
}

TEST(Augment, TestTimeAugmentationViews) {
  fer::config::AugmentConfig aug;
  aug.crop = 40;
  const fa::Pipeline p(pre_cfg(48, 3), aug);
  const cv::Mat img = textured(60, 3);
  const auto none = p.eval_views(img, fa::Tta::kNone);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_TRUE(equal(none[0], p.eval(img)));
  const auto flip = p.eval_views(img, fa::Tta::kFlip);
  ASSERT_EQ(flip.size(), 2u);
  EXPECT_TRUE(equal(flip[0], p.eval(img)));
  EXPECT_TRUE(equal(flip[1], fa::hflip(p.eval(img))));
  EXPECT_FALSE(equal(flip[0], flip[1]));  // the texture is not symmetric
  const auto ten = p.eval_views(img, fa::Tta::kTenCrop);
  ASSERT_EQ(ten.size(), 10u);
  for (size_t k = 0; k < ten.size(); ++k) EXPECT_TRUE(equal(ten[k], p.eval_ten_crop(img)[k])) << k;
  for (auto t : {fa::Tta::kNone, fa::Tta::kFlip, fa::Tta::kTenCrop}) {
    EXPECT_EQ(fa::tta_views(t), static_cast<int>(p.eval_views(img, t).size()));
    EXPECT_EQ(fa::parse_tta(fa::tta_name(t), "x"), t);
  }
  // Ten-crop needs a crop; flip does not.
  const fa::Pipeline plain(pre_cfg(32, 3), fer::config::AugmentConfig{});
  EXPECT_EQ(plain.eval_views(img, fa::Tta::kFlip).size(), 2u);
  EXPECT_THROW(plain.eval_views(img, fa::Tta::kTenCrop), fer::ConfigError);
  try {
    fa::parse_tta("tencrop", "--tta");
    FAIL() << "no error";
  } catch (const fer::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--tta: expected none, flip or ten_crop, got \"tencrop\""),
              std::string::npos)
        << e.what();
  }
  fer::config::EvalConfig e;
  EXPECT_EQ(fa::configured_tta(e), fa::Tta::kNone);
  e.flip = true;
  EXPECT_EQ(fa::configured_tta(e), fa::Tta::kFlip);
  e.flip = false;
  e.ten_crop = true;
  EXPECT_EQ(fa::configured_tta(e), fa::Tta::kTenCrop);
}

TEST(Augment, PipelineRejectsBadConfig) {
  fer::config::AugmentConfig a;
  a.crop = 50;
  EXPECT_THROW(fa::Pipeline(pre_cfg(48, 3), a), fer::ConfigError);
  EXPECT_THROW(fa::Pipeline(pre_cfg(48, 2), {}), fer::ConfigError);
  // An unknown normalisation cannot be represented: the enum's spellings reject it.
  EXPECT_THROW(pre_cfg(48, 3, "zscore"), std::invalid_argument);
}

TEST(Augment, ToChwRgbOrderAndNormalisation) {
  cv::Mat img(2, 2, CV_8UC3);
  img.at<cv::Vec3b>(0, 0) = {0, 51, 255};  // B G R
  img.at<cv::Vec3b>(0, 1) = {255, 0, 0};
  img.at<cv::Vec3b>(1, 0) = {102, 102, 102};
  img.at<cv::Vec3b>(1, 1) = {0, 0, 0};
  std::vector<float> out(12);

  fa::Pipeline none(pre_cfg(2, 3, "none"), {});
  none.to_chw(img, out.data());
  EXPECT_FLOAT_EQ(out[0], 1.0f);      // R plane, (0,0)
  EXPECT_FLOAT_EQ(out[4], 0.2f);      // G plane, (0,0)
  EXPECT_FLOAT_EQ(out[8], 0.0f);      // B plane, (0,0)
  EXPECT_FLOAT_EQ(out[8 + 1], 1.0f);  // B plane, (0,1)
  EXPECT_FLOAT_EQ(out[2], 0.4f);      // R plane, (1,0)

  auto pre = pre_cfg(2, 3, "custom");
  pre.mean = {0.5, 0.4, 0.2};
  pre.std = {0.5, 0.2, 0.1};
  fa::Pipeline custom(pre, {});
  custom.to_chw(img, out.data());
  EXPECT_NEAR(out[0], (1.0 - 0.5) / 0.5, 1e-6);
  EXPECT_NEAR(out[4], (0.2 - 0.4) / 0.2, 1e-6);
  EXPECT_NEAR(out[9], (1.0 - 0.2) / 0.1, 1e-6);
  EXPECT_NEAR(out[3], (0.0 - 0.5) / 0.5, 1e-6);

  fa::Pipeline imagenet(pre_cfg(2, 3, "imagenet"), {});
  imagenet.to_chw(img, out.data());
  EXPECT_NEAR(out[0], (1.0 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(out[8], (0.0 - 0.406) / 0.225, 1e-5);

  cv::Mat gray(2, 2, CV_8UC1);
  gray.at<uint8_t>(0, 0) = 50;
  gray.at<uint8_t>(0, 1) = 100;
  gray.at<uint8_t>(1, 0) = 150;
  gray.at<uint8_t>(1, 1) = 250;
  fa::Pipeline minmax(pre_cfg(2, 1, "minmax"), {});
  minmax.to_chw(gray, out.data());
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[1], 0.25f);
  EXPECT_FLOAT_EQ(out[2], 0.5f);
  EXPECT_FLOAT_EQ(out[3], 1.0f);
  minmax.to_chw(cv::Mat(2, 2, CV_8UC1, cv::Scalar(77)), out.data());
  EXPECT_FLOAT_EQ(out[2], 0.0f);  // constant image
}

TEST(Augment, ToChwErrors) {
  std::vector<float> out(12);
  fa::Pipeline gray(pre_cfg(2, 1, "none"), {});
  EXPECT_THROW(gray.to_chw(cv::Mat(2, 2, CV_8UC3, cv::Scalar(1, 2, 3)), out.data()), fer::DataError);
  auto pre = pre_cfg(2, 3, "dataset");  // statistics not computed yet
  fa::Pipeline missing(pre, {});
  EXPECT_THROW(missing.to_chw(cv::Mat(2, 2, CV_8UC3), out.data()), fer::ConfigError);
  pre.mean = {0.5};
  pre.std = {0.2};
  fa::Pipeline wrong_len(pre, {});
  EXPECT_THROW(wrong_len.to_chw(cv::Mat(2, 2, CV_8UC3), out.data()), fer::ConfigError);
}

TEST(Augment, ChannelStatsOnConstantImages) {
  std::vector<cv::Mat> imgs = {cv::Mat(4, 4, CV_8UC3, cv::Scalar(0, 51, 255)),
                               cv::Mat(4, 4, CV_8UC3, cv::Scalar(0, 153, 255))};
  std::vector<double> mean, sd;
  fa::channel_stats(imgs, 3, mean, sd);
  ASSERT_EQ(mean.size(), 3u);
  EXPECT_NEAR(mean[0], 1.0, 1e-12);  // R
  EXPECT_NEAR(mean[1], 0.4, 1e-12);  // G: half 0.2, half 0.6
  EXPECT_NEAR(mean[2], 0.0, 1e-12);  // B
  EXPECT_NEAR(sd[0], 0.0, 1e-9);
  EXPECT_NEAR(sd[1], 0.2, 1e-9);
  EXPECT_NEAR(sd[2], 0.0, 1e-9);
  EXPECT_THROW(fa::channel_stats(imgs, 1, mean, sd), fer::DataError);
  EXPECT_THROW(fa::channel_stats({}, 3, mean, sd), fer::DataError);
}

// fer list transforms reads the registry: it names every augment.* key of the config (no more,
// no fewer) and the eval.* test-time augmentations, and each key exists in the config.
TEST(Augment, TransformRegistryCoversEveryKey) {
  const nlohmann::json cfg = fer::config::to_json(fer::config::Config{});
  std::set<std::string> augment_keys, registered;
  for (const auto& item : cfg.at("augment").items()) augment_keys.insert("augment." + item.key());
  for (const auto& t : fer::augment::transform_registry().entries()) {
    EXPECT_FALSE(t.description.empty()) << t.name;
    const auto dot = t.value.key.find('.');
    ASSERT_NE(dot, std::string::npos) << t.value.key;
    EXPECT_TRUE(cfg.at(t.value.key.substr(0, dot)).contains(t.value.key.substr(dot + 1))) << t.value.key;
    if (t.value.key.rfind("augment.", 0) == 0) registered.insert(t.value.key);
  }
  EXPECT_EQ(registered, augment_keys);
}
