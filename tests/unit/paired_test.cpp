// Paired visible + infrared datasets: pairing, layouts, errors, stacked loading, per-modality
// augmentation, subject-grouped splits and `fer synth --modalities`.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <string>
#include <vector>

#include "fer/augment/transforms.hpp"
#include "fer/core/error.hpp"
#include "fer/data/loaders.hpp"
#include "fer/data/prepare.hpp"
#include "fer/data/split.hpp"
#include "fer/data/synth.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using fer::test::error_of;
using fer::test::TempDir;

namespace {

// A 6x6 image: gray `value` (1 channel) or BGR (value, value + 1, value + 2).
void write_img(const fs::path& p, int value, int channels) {
  fs::create_directories(p.parent_path());
  const cv::Mat m = channels == 1 ? cv::Mat(6, 6, CV_8UC1, cv::Scalar(value))
                                  : cv::Mat(6, 6, CV_8UC3, cv::Scalar(value, value + 1, value + 2));
  ASSERT_TRUE(cv::imwrite(p.string(), m));
}

fer::config::DataConfig paired_cfg(const fs::path& root) {
  fer::config::DataConfig d;
  d.format = "paired_folder";
  d.path = root.string();
  d.paired.modalities = {"Vis", "IR"};
  d.paired.channels = {3, 1};
  return d;
}

// ROOT/<mod>/<class>/<stem><suffix>.png for the given (class, stem) pairs; visible value =
// 10 * index, infrared = 10 * index + 5.
void make_pairs(const fs::path& root, const std::vector<std::pair<std::string, std::string>>& items,
                bool class_first = false, const std::string& vis_suffix = "", const std::string& ir_suffix = "") {
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& [cls, stem] = items[i];
    const fs::path v = class_first ? root / cls / "Vis" : root / "Vis" / cls;
    const fs::path r = class_first ? root / cls / "IR" : root / "IR" / cls;
    write_img(v / (stem + vis_suffix + ".png"), static_cast<int>(10 * (i + 1)), 3);
    write_img(r / (stem + ir_suffix + ".png"), static_cast<int>(10 * (i + 1) + 5), 1);
  }
}

std::vector<std::string> ids(const fer::data::Dataset& ds) {
  std::vector<std::string> out;
  for (const auto& s : ds.samples) out.push_back(s.id);
  return out;
}

}  // namespace

TEST(Paired, FormatsAreRegistered) {
  std::set<std::string> names;
  for (const auto& f : fer::data::dataset_formats().entries()) {
    names.insert(f.name);
    if (f.name == "paired_folder" || f.name == "viri" || f.name == "nvie") {
      EXPECT_FALSE(f.description.empty());
      EXPECT_TRUE(static_cast<bool>(f.value.load_config)) << f.name;
    }
  }
  for (const char* n : {"image_folder", "paired_folder", "viri", "nvie"}) EXPECT_TRUE(names.count(n)) << n;
  EXPECT_TRUE(fer::data::is_paired_format("viri"));
  EXPECT_FALSE(fer::data::is_paired_format("image_folder"));
}

TEST(Paired, PairsByStemModalityFirstAndLoadsStackedChannels) {
  TempDir dir;
  const fs::path root = dir.path() / "ds";
  make_pairs(root, {{"happy", "b"}, {"happy", "a"}, {"sad", "c"}});
  auto cfg = paired_cfg(root);
  const auto ds = fer::data::load_configured(cfg);
  EXPECT_EQ(ds.format, "paired_folder");
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"happy", "sad"}));
  EXPECT_EQ(ids(ds), (std::vector<std::string>{"happy/a", "happy/b", "sad/c"}));
  ASSERT_EQ(ds.samples[0].modality_paths.size(), 2u);
  EXPECT_EQ(ds.samples[0].modality_paths[0], (root / "Vis" / "happy" / "a.png").string());
  EXPECT_EQ(ds.samples[0].modality_paths[1], (root / "IR" / "happy" / "a.png").string());
  EXPECT_EQ(ds.samples[0].modality_channels, (std::vector<int>{3, 1}));
  EXPECT_EQ(ds.samples[2].label, 1);

  // happy/a was item 2: visible BGR (20, 21, 22), infrared 25.
  const cv::Mat img = fer::data::load_image(ds.samples[0], 4);
  ASSERT_EQ(img.type(), CV_8UC4);
  EXPECT_EQ(img.size(), cv::Size(6, 6));
  const cv::Vec4b px = img.at<cv::Vec4b>(3, 3);
  EXPECT_EQ(px, cv::Vec4b(20, 21, 22, 25));
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_image(ds.samples[0], 3); }), "happy/a");
  EXPECT_EQ(fer::data::modality_channels(cfg), (std::vector<int>{3, 1}));

  // Gray visible + infrared = 2 channels; a different-size infrared image is resized to visible's.
  cv::imwrite((root / "IR" / "sad" / "c.png").string(), cv::Mat(12, 12, CV_8UC1, cv::Scalar(77)));
  cfg.paired.channels = {1, 1};
  const auto ds2 = fer::data::load_configured(cfg);
  const cv::Mat two = fer::data::load_image(ds2.samples[2], 2);
  ASSERT_EQ(two.type(), CV_8UC2);
  EXPECT_EQ(two.size(), cv::Size(6, 6));
  EXPECT_EQ(two.at<cv::Vec2b>(1, 1)[1], 77);
  EXPECT_EQ(fer::data::modality_channels(cfg), (std::vector<int>{1, 1}));

  // use = one modality: an ordinary sample of that modality, same pairs.
  cfg.paired.use = "IR";
  const auto ir = fer::data::load_configured(cfg);
  EXPECT_EQ(ids(ir), ids(ds));
  EXPECT_TRUE(ir.samples[0].modality_paths.empty());
  EXPECT_EQ(ir.samples[0].path, (root / "IR" / "happy" / "a.png").string());
  EXPECT_EQ(fer::data::load_image(ir.samples[0], 1).at<uint8_t>(0, 0), 25);
  EXPECT_TRUE(fer::data::modality_channels(cfg).empty());
}

TEST(Paired, ClassFirstLayoutAndAutoDetection) {
  TempDir dir;
  const fs::path mf = dir.path() / "mf", cf = dir.path() / "cf";
  make_pairs(mf, {{"happy", "a"}, {"sad", "b"}});
  make_pairs(cf, {{"happy", "a"}, {"sad", "b"}}, /*class_first=*/true);
  auto cfg = paired_cfg(cf);
  const auto auto_cf = fer::data::load_configured(cfg);
  EXPECT_EQ(ids(auto_cf), (std::vector<std::string>{"happy/a", "sad/b"}));
  EXPECT_EQ(auto_cf.samples[1].modality_paths[1], (cf / "sad" / "IR" / "b.png").string());
  cfg.paired.layout = "class_first";
  EXPECT_EQ(ids(fer::data::load_configured(cfg)), ids(auto_cf));
  // Forcing the wrong layout fails with a message naming what is missing.
  cfg.paired.layout = "modality_first";
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_configured(cfg); }), "missing modality folder \"Vis\"");

  auto cfg2 = paired_cfg(mf);
  EXPECT_EQ(ids(fer::data::load_configured(cfg2)), ids(auto_cf));

  // Neither layout: the error names ROOT, the expected folders and what was found.
  const fs::path other = dir.path() / "other";
  write_img(other / "x" / "y" / "1.png", 1, 1);
  const std::string msg = error_of<fer::DataError>([&] { fer::data::load_configured(paired_cfg(other)); });
  EXPECT_HAS(msg, other.string());
  EXPECT_HAS(msg, "\"Vis\", \"IR\"");
  EXPECT_HAS(msg, "found folders: x");
}

TEST(Paired, StemPatternsPairSuffixedFiles) {
  TempDir dir;
  const fs::path root = dir.path() / "ds";
  make_pairs(root, {{"happy", "s01_a"}, {"sad", "s02_b"}}, false, "_vis", "_ir");
  auto cfg = paired_cfg(root);
  // Without patterns nothing pairs.
  const std::string msg = error_of<fer::DataError>([&] { fer::data::load_configured(cfg); });
  EXPECT_HAS(msg, "4 files have no partner");
  EXPECT_HAS(msg, "Vis/happy/s01_a_vis.png");
  EXPECT_HAS(msg, "IR/sad/s02_b_ir.png");
  cfg.paired.stem_patterns = {"(.*)_vis$", "(.*)_ir$"};
  const auto ds = fer::data::load_configured(cfg);
  EXPECT_EQ(ids(ds), (std::vector<std::string>{"happy/s01_a", "sad/s02_b"}));
  EXPECT_EQ(ds.samples[1].modality_paths[1], (root / "IR" / "sad" / "s02_b_ir.png").string());

  // Subjects from the file name; a pattern that matches nothing is an error naming it.
  cfg.subject_pattern = "^(s\\d+)_";
  const auto subj = fer::data::load_configured(cfg);
  EXPECT_EQ(subj.samples[0].subject, "s01");
  EXPECT_EQ(subj.samples[1].subject, "s02");
  cfg.subject_pattern = "^(subj\\d+)";
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_configured(cfg); }), "^(subj\\d+)");
}

TEST(Paired, ShuffledCreationOrderGivesTheSamePairs) {
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 12; ++i) items.push_back({i % 3 == 0 ? "sad" : "happy", fmt::format("f{:02d}", (i * 7) % 12)});
  TempDir dir;
  make_pairs(dir.path() / "a", items);
  std::vector<std::pair<std::string, std::string>> reversed(items.rbegin(), items.rend());
  std::rotate(reversed.begin(), reversed.begin() + 5, reversed.end());
  make_pairs(dir.path() / "b", reversed);
  const auto a = fer::data::load_configured(paired_cfg(dir.path() / "a"));
  const auto b = fer::data::load_configured(paired_cfg(dir.path() / "b"));
  ASSERT_EQ(a.samples.size(), 12u);
  EXPECT_EQ(ids(a), ids(b));
  const std::vector<std::string> a_ids = ids(a);
  EXPECT_TRUE(std::is_sorted(a_ids.begin(), a_ids.end()));
  for (size_t i = 0; i < a.samples.size(); ++i) {
    // The pair's two files carry the same item (visible 10k, infrared 10k + 5).
    const cv::Mat img = fer::data::load_image(b.samples[i], 4);
    const cv::Vec4b& px = img.at<cv::Vec4b>(0, 0);
    EXPECT_EQ(px[3], px[0] + 5) << b.samples[i].id;
  }
}

TEST(Paired, UnpairedErrorListsAndDropCounts) {
  TempDir dir;
  const fs::path root = dir.path() / "ds";
  make_pairs(root, {{"happy", "a"}, {"sad", "b"}});
  write_img(root / "Vis" / "happy" / "lonely.png", 1, 3);
  for (int i = 0; i < 12; ++i) write_img(root / "IR" / "sad" / fmt::format("x{:02d}.png", i), 1, 1);
  auto cfg = paired_cfg(root);
  const std::string msg = error_of<fer::DataError>([&] { fer::data::load_configured(cfg); });
  EXPECT_HAS(msg, "13 files have no partner");
  EXPECT_HAS(msg, "Vis/happy/lonely.png");
  EXPECT_HAS(msg, "IR/sad/x00.png");
  EXPECT_HAS(msg, "and 3 more");
  cfg.paired.unpaired = "drop";
  const auto ds = fer::data::load_configured(cfg);
  EXPECT_EQ(ids(ds), (std::vector<std::string>{"happy/a", "sad/b"}));
}

TEST(Paired, ClassMismatchNamesBothFiles) {
  TempDir dir;
  const fs::path root = dir.path() / "ds";
  make_pairs(root, {{"happy", "a"}, {"sad", "b"}});
  write_img(root / "Vis" / "happy" / "k.png", 1, 3);
  write_img(root / "IR" / "sad" / "k.png", 1, 1);
  auto cfg = paired_cfg(root);
  cfg.paired.unpaired = "drop";  // a mismatch is an error even when unpaired files are dropped
  const std::string msg = error_of<fer::DataError>([&] { fer::data::load_configured(cfg); });
  EXPECT_HAS(msg, "different classes");
  EXPECT_HAS(msg, "Vis/happy/k.png");
  EXPECT_HAS(msg, "IR/sad/k.png");
}

TEST(Paired, MissingModalityFolderAndClassInOneModalityOnly) {
  TempDir dir;
  const fs::path root = dir.path() / "ds";
  make_pairs(root, {{"happy", "a"}, {"sad", "b"}});
  write_img(root / "Vis" / "angry" / "c.png", 1, 3);
  const std::string msg = error_of<fer::DataError>([&] { fer::data::load_configured(paired_cfg(root)); });
  EXPECT_HAS(msg, "\"angry\" only in Vis");

  const fs::path only = dir.path() / "only";
  write_img(only / "Vis" / "happy" / "a.png", 1, 3);
  const std::string missing = error_of<fer::DataError>([&] { fer::data::load_configured(paired_cfg(only)); });
  EXPECT_HAS(missing, "missing modality folder \"IR\"");

  const fs::path cf = dir.path() / "cf";
  make_pairs(cf, {{"happy", "a"}}, true);
  write_img(cf / "sad" / "Vis" / "b.png", 1, 3);
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_configured(paired_cfg(cf)); }), "\"sad\" only in Vis");
}

TEST(Paired, UndecodableInfraredIsAnIoErrorNamingIt) {
  TempDir dir;
  const fs::path root = dir.path() / "ds";
  make_pairs(root, {{"happy", "a"}, {"sad", "b"}});
  std::ofstream(root / "IR" / "sad" / "b.png", std::ios::trunc) << "not a png";
  const auto ds = fer::data::load_configured(paired_cfg(root));
  EXPECT_NO_THROW(fer::data::load_image(ds.samples[0], 4));
  EXPECT_HAS(error_of<fer::IoError>([&] { fer::data::load_image(ds.samples[1], 4); }),
             (root / "IR" / "sad" / "b.png").string());
}

namespace {

fer::config::PreprocessConfig pre(int size, int channels) {
  fer::config::PreprocessConfig p;
  p.size = size;
  p.channels = channels;
  p.normalize = "none";
  return p;
}

// An asymmetric pattern: an L-shape and a dot, on a gradient.
cv::Mat pattern(int size) {
  cv::Mat m(size, size, CV_8UC1);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) m.at<uint8_t>(y, x) = static_cast<uint8_t>(20 + x * 2 + y);
  cv::rectangle(m, cv::Rect(8, 6, 4, 20), cv::Scalar(230), cv::FILLED);
  cv::rectangle(m, cv::Rect(8, 22, 14, 4), cv::Scalar(230), cv::FILLED);
  cv::circle(m, cv::Point(26, 10), 2, cv::Scalar(180), cv::FILLED);
  return m;
}

}  // namespace

TEST(PairedAugment, GeometryIsIdenticalOnBothModalities) {
  const cv::Mat g = pattern(40);
  cv::Mat vis;
  cv::cvtColor(g, vis, cv::COLOR_GRAY2BGR);
  cv::Mat stacked;
  cv::merge(std::vector<cv::Mat>{vis, g}, stacked);
  fer::config::AugmentConfig a;
  a.rotation = 25;
  a.zoom = 0.2;
  a.shear = 8;
  a.translate = 0.1;
  a.perspective = 0.08;
  a.hflip = 0.5;
  a.vflip = 0.5;
  a.crop = 32;
  const fer::augment::Pipeline p(pre(40, 4), a, {3, 1});
  int changed = 0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    const cv::Mat out = p.train(stacked, seed);
    ASSERT_EQ(out.type(), CV_8UC4);
    ASSERT_EQ(out.size(), cv::Size(32, 32));
    std::vector<cv::Mat> ch;
    cv::split(out, ch);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(cv::norm(ch[c], ch[3], cv::NORM_INF), 0.0) << "seed " << seed;
    changed += cv::norm(ch[3], fer::augment::center_crop(g, 32), cv::NORM_INF) > 0;
  }
  EXPECT_GT(changed, 6);  // the augmentation did something
  // Two gray modalities (2 channels) too.
  cv::Mat two;
  cv::merge(std::vector<cv::Mat>{g, g}, two);
  const fer::augment::Pipeline p2(pre(40, 2), a, {1, 1});
  std::vector<cv::Mat> ch;
  cv::split(p2.train(two, 3), ch);
  EXPECT_EQ(cv::norm(ch[0], ch[1], cv::NORM_INF), 0.0);
  // Two colour modalities (6 channels, more than cv::Scalar holds).
  cv::Mat six;
  cv::merge(std::vector<cv::Mat>{vis, vis}, six);
  a.brightness = 0.2;
  a.contrast = 0.2;
  const fer::augment::Pipeline p6(pre(40, 6), a, {3, 3});
  const cv::Mat out6 = p6.train(six, 5);
  ASSERT_EQ(out6.channels(), 6);
  cv::split(out6, ch);
  EXPECT_EQ(cv::norm(ch[0], ch[1], cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(ch[3], ch[4], cv::NORM_INF), 0.0);
  std::vector<float> chw(6 * 32 * 32);
  p6.to_chw(out6, chw.data());
  EXPECT_EQ(p6.eval_ten_crop(six).size(), 10u);
}

TEST(PairedAugment, PhotometricIsDrawnPerModality) {
  cv::Mat stacked(32, 32, CV_8UC4, cv::Scalar(128, 128, 128, 128));
  fer::config::AugmentConfig a;
  a.brightness = 0.3;
  a.contrast = 0.3;
  const fer::augment::Pipeline p(pre(32, 4), a, {3, 1});
  int differ = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const cv::Mat out = p.train(stacked, seed);
    const cv::Vec4b& px = out.at<cv::Vec4b>(5, 5);
    EXPECT_EQ(px[0], px[1]);  // one draw for the whole visible group
    EXPECT_EQ(px[1], px[2]);
    differ += px[0] != px[3];
  }
  EXPECT_GE(differ, 8);
  // Without the split, a 4-channel pipeline is refused (the lead must pass it).
  EXPECT_THROW(fer::augment::Pipeline(pre(32, 4), a), fer::ConfigError);
  EXPECT_THROW(fer::augment::Pipeline(pre(32, 4), a, {3, 3}), fer::ConfigError);
  EXPECT_THROW(fer::augment::Pipeline(pre(32, 4), a, {2, 2}), fer::ConfigError);
  // Noise works on stacked images and differs between the groups.
  fer::config::AugmentConfig n;
  n.gaussian_noise = 10;
  n.salt_pepper = 0.05;
  const cv::Mat noisy = fer::augment::Pipeline(pre(32, 4), n, {3, 1}).train(stacked, 1);
  std::vector<cv::Mat> ch;
  cv::split(noisy, ch);
  EXPECT_GT(cv::norm(ch[0], ch[3], cv::NORM_L1), 0.0);
}

TEST(PairedAugment, ToChwAndStatsOrderEachGroupAsRgb) {
  const cv::Mat img(2, 2, CV_8UC4, cv::Scalar(0, 51, 102, 255));  // B G R IR
  fer::augment::Pipeline p(pre(2, 4), {}, {3, 1});
  std::vector<float> out(16);
  p.to_chw(img, out.data());
  EXPECT_FLOAT_EQ(out[0], 0.4f);   // R
  EXPECT_FLOAT_EQ(out[4], 0.2f);   // G
  EXPECT_FLOAT_EQ(out[8], 0.0f);   // B
  EXPECT_FLOAT_EQ(out[12], 1.0f);  // IR
  std::vector<double> mean, sd;
  fer::augment::channel_stats({img}, 4, mean, sd, {3, 1});
  ASSERT_EQ(mean.size(), 4u);
  EXPECT_NEAR(mean[0], 0.4, 1e-12);
  EXPECT_NEAR(mean[2], 0.0, 1e-12);
  EXPECT_NEAR(mean[3], 1.0, 1e-12);
  // IR first, visible second.
  fer::augment::channel_stats({img}, 4, mean, sd, {1, 3});
  EXPECT_NEAR(mean[0], 0.0, 1e-12);
  EXPECT_NEAR(mean[1], 1.0, 1e-12);  // R = channel 3
  auto imagenet = pre(2, 4);
  imagenet.normalize = "imagenet";
  fer::augment::Pipeline pi(imagenet, {}, {3, 1});
  pi.to_chw(img, out.data());
  EXPECT_NEAR(out[0], (0.4 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(out[12], (1.0 - (0.485 + 0.456 + 0.406) / 3) / ((0.229 + 0.224 + 0.225) / 3), 1e-5);
}

TEST(PairedData, DatasetNormalisationHasOneStatPerStackedChannel) {
  TempDir dir;
  const fs::path root = dir.path() / "ds";
  make_pairs(root, {{"happy", "a"}, {"sad", "b"}});
  const auto ds = fer::data::load_configured(paired_cfg(root));
  auto p = pre(6, 4);
  p.normalize = "dataset";
  fer::data::resolve_normalization(p, {}, ds, {0, 1});
  ASSERT_EQ(p.mean.size(), 4u);
  ASSERT_EQ(p.std.size(), 4u);
  // Visible BGR (10,11,12) and (20,21,22); IR 15 and 25. Output order R G B IR.
  EXPECT_NEAR(p.mean[0], 17 / 255.0, 1e-9);
  EXPECT_NEAR(p.mean[2], 15 / 255.0, 1e-9);
  EXPECT_NEAR(p.mean[3], 20 / 255.0, 1e-9);
}

TEST(SplitSubjects, NoSubjectOnTwoSidesEverySampleOnceDeterministic) {
  fer::data::Dataset ds;
  ds.source = "mem";
  ds.class_names = {"a", "b", "c"};
  // 30 subjects with 2..7 samples each, labels mixed.
  for (int s = 0; s < 30; ++s)
    for (int k = 0; k < 2 + s % 6; ++k) {
      fer::data::Sample smp;
      smp.id = fmt::format("s{}_{}", s, k);
      smp.subject = fmt::format("s{:02d}", s);
      smp.label = (s + k) % 3;
      ds.samples.push_back(smp);
    }
  fer::config::SplitConfig cfg;  // ratio 0.7 / 0.15 / 0.15
  const auto sp = fer::data::make_split(ds, cfg, 7);
  std::map<std::string, int> side;
  std::vector<int> seen(ds.samples.size(), 0);
  const std::vector<const std::vector<size_t>*> parts = {&sp.train, &sp.val, &sp.test};
  for (int k = 0; k < 3; ++k) {
    EXPECT_FALSE(parts[k]->empty());
    for (size_t i : *parts[k]) {
      ++seen[i];
      const auto [it, inserted] = side.emplace(ds.samples[i].subject, k);
      EXPECT_EQ(it->second, k) << "subject " << ds.samples[i].subject << " on two sides";
    }
  }
  for (int c : seen) EXPECT_EQ(c, 1);
  const double n = static_cast<double>(ds.samples.size());
  EXPECT_NEAR(sp.train.size() / n, 0.7, 0.1);
  EXPECT_NEAR(sp.test.size() / n, 0.15, 0.08);
  const auto again = fer::data::make_split(ds, cfg, 7);
  EXPECT_EQ(again.train, sp.train);
  EXPECT_EQ(again.val, sp.val);
  EXPECT_EQ(again.test, sp.test);
  EXPECT_NE(fer::data::make_split(ds, cfg, 8).test, sp.test);

  // Without subjects: the per-sample split (subject ids would group otherwise).
  auto plain = ds;
  for (auto& smp : plain.samples) smp.subject.clear();
  const auto ps = fer::data::make_split(plain, cfg, 7);
  bool split_subject = false;
  std::map<std::string, std::set<int>> sides;
  for (int k = 0; k < 3; ++k)
    for (size_t i : (k == 0 ? ps.train : k == 1 ? ps.val : ps.test)) sides[ds.samples[i].subject].insert(k);
  for (const auto& [s, ks] : sides) split_subject = split_subject || ks.size() > 1;
  EXPECT_TRUE(split_subject);

  // Too few subjects for three splits.
  fer::data::Dataset two = ds;
  for (auto& smp : two.samples) smp.subject = smp.subject < "s15" ? "x" : "y";
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::make_split(two, cfg, 7); }), "without subjects");
}

TEST(PairedSynth, WritesBothLayoutsAndTheLoaderPairsEverything) {
  TempDir dir;
  fer::data::SynthOptions o;
  o.out = dir.str("mf");
  o.classes = 3;
  o.per_class = 4;
  o.size = 32;
  o.threads = 2;
  o.modalities = {"visible", "infrared"};
  o.modality_dirs = {"Vis", "IR"};
  o.suffixes = {"_vis", "_ir"};
  EXPECT_EQ(fer::data::write_synthetic_dataset(o), 24);
  EXPECT_TRUE(fs::exists(dir.path() / "mf" / "Vis" / "angry" / "angry_00001_vis.png"));
  EXPECT_TRUE(fs::exists(dir.path() / "mf" / "IR" / "fear" / "fear_00004_ir.png"));
  auto cfg = paired_cfg(dir.path() / "mf");
  cfg.paired.channels = {1, 1};
  cfg.paired.stem_patterns = {"(.*)_vis$", "(.*)_ir$"};
  const auto ds = fer::data::load_configured(cfg);
  EXPECT_EQ(ds.samples.size(), 12u);
  EXPECT_EQ(ds.samples[0].id, "angry/angry_00001");
  // The visible image is the default synth face; the infrared one differs from it.
  const cv::Mat both = fer::data::load_image(ds.samples[0], 2);
  std::vector<cv::Mat> ch;
  cv::split(both, ch);
  EXPECT_GT(cv::norm(ch[0], ch[1], cv::NORM_L1), 0.0);

  o.out = dir.str("cf");
  o.layout = "class_first";
  o.suffixes.clear();
  o.modality_dirs.clear();
  fer::data::write_synthetic_dataset(o);
  EXPECT_TRUE(fs::exists(dir.path() / "cf" / "angry" / "infrared" / "angry_00001.png"));
  auto cfg2 = paired_cfg(dir.path() / "cf");
  cfg2.paired.modalities = {"visible", "infrared"};
  cfg2.paired.channels = {1, 1};
  const auto ds2 = fer::data::load_configured(cfg2);
  EXPECT_EQ(ds2.samples.size(), 12u);
  // Same seed, same faces whatever the layout.
  std::vector<cv::Mat> ch2;
  cv::split(fer::data::load_image(ds2.samples[0], 2), ch2);
  EXPECT_EQ(cv::norm(ch[1], ch2[1], cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(ch[0], ch2[0], cv::NORM_INF), 0.0);
}

TEST(PairedSynth, ThermalImageIsTheSameFaceWithWarmRegions) {
  const int size = 64;
  const cv::Mat t = fer::data::render_synthetic_thermal(3, size, 11);
  ASSERT_EQ(t.type(), CV_8UC1);
  EXPECT_TRUE(cv::norm(t, fer::data::render_synthetic_thermal(3, size, 11), cv::NORM_INF) == 0);
  // Face (centre) warmer than the corners (background).
  const double centre = cv::mean(t(cv::Rect(24, 24, 16, 16)))[0];
  const double corner = cv::mean(t(cv::Rect(0, 0, 6, 6)))[0];
  EXPECT_GT(centre, corner + 40);
  // Low texture: much smoother than the visible image.
  cv::Mat lt, lv;
  cv::Laplacian(t, lt, CV_32F);
  cv::Laplacian(fer::data::render_synthetic_face(3, size, 11), lv, CV_32F);
  EXPECT_LT(cv::norm(lt, cv::NORM_L1), 0.5 * cv::norm(lv, cv::NORM_L1));
  // The thermal face follows the visible one: the same seed, another class = same person.
  EXPECT_GT(cv::norm(t, fer::data::render_synthetic_thermal(5, size, 11), cv::NORM_L1), 0.0);
}

TEST(PairedSynth, SplitSignalPutsHalfTheClassInEachModality) {
  // Split-signal thermal images depend on the pattern only, visible ones on the expression only.
  const int size = 48;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    const cv::Mat f0 = fer::data::render_synthetic_thermal(3, size, seed, 0);
    EXPECT_EQ(cv::norm(f0, fer::data::render_synthetic_thermal(4, size, seed, 0), cv::NORM_INF), 0.0);
    const cv::Mat f1 = fer::data::render_synthetic_thermal(3, size, seed, 1);
    EXPECT_GT(cv::norm(f0, f1, cv::NORM_L1), 0.0);
  }
  TempDir dir;
  fer::data::SynthOptions o;
  o.out = dir.str("ss");
  o.per_class = 2;
  o.size = 32;
  o.modalities = {"visible", "infrared"};
  o.split_signal = true;
  EXPECT_EQ(fer::data::write_synthetic_dataset(o), 16);
  auto cfg = paired_cfg(dir.path() / "ss");
  cfg.paired.modalities = {"visible", "infrared"};
  cfg.paired.channels = {1, 1};
  const auto ds = fer::data::load_configured(cfg);
  EXPECT_EQ(ds.class_names, fer::data::synth_split_signal_class_names());
  EXPECT_EQ(ds.samples.size(), 8u);
  o.modalities = {"visible"};
  EXPECT_THROW(fer::data::write_synthetic_dataset(o), fer::ConfigError);
}

TEST(PairedRealData, ThermalFolderLoadsAsOneChannelImages) {
  FER_REQUIRE_SHARED(thermal, "thermal");
  const auto ds = fer::data::load_dataset("image_folder", thermal);
  ASSERT_GT(ds.samples.size(), 0u);
  EXPECT_TRUE(std::find(ds.class_names.begin(), ds.class_names.end(), "happy") != ds.class_names.end());
  for (size_t i = 0; i < ds.samples.size(); i += std::max<size_t>(1, ds.samples.size() / 5)) {
    const cv::Mat img = fer::data::load_image(ds.samples[i], 1);
    EXPECT_EQ(img.type(), CV_8UC1) << ds.samples[i].id;
    EXPECT_GT(img.rows, 8);
  }
}

// ---- pair_folder_files: unlabelled paired folders for fer infer ----

namespace {
std::vector<std::string> keys(const std::vector<fer::data::PairedFiles>& v) {
  std::vector<std::string> out;
  for (const auto& f : v) out.push_back(f.key);
  return out;
}
}  // namespace

TEST(Paired, PairFolderFilesPairsWithOrWithoutClassFoldersAndKeepsTheUnpaired) {
  TempDir dir;
  const fs::path root = dir.path() / "in";
  make_pairs(root, {{"happy", "a"}, {"sad", "b"}});  // with class folders
  write_img(root / "Vis" / "c.png", 1, 3);            // straight in ROOT/<modality>, paired
  write_img(root / "IR" / "c.png", 1, 1);
  write_img(root / "Vis" / "lonely.png", 1, 3);       // no infrared partner
  write_img(root / "IR" / "happy" / "z.png", 1, 1);   // no visible partner
  write_img(root / "IR" / "sad" / "a.png", 1, 1);     // key "a" in another class: not a's partner
  const auto cfg = paired_cfg(root);
  const auto files = fer::data::pair_folder_files(root.string(), cfg.paired);
  EXPECT_EQ(keys(files), (std::vector<std::string>{"c", "lonely", "happy/a", "happy/z", "sad/a", "sad/b"}));
  const auto at = [&](const std::string& key) {
    for (const auto& f : files)
      if (f.key == key) return f.paths;
    return std::vector<std::string>{};
  };
  EXPECT_EQ(at("c"), (std::vector<std::string>{(root / "Vis/c.png").string(), (root / "IR/c.png").string()}));
  EXPECT_EQ(at("happy/a"),
            (std::vector<std::string>{(root / "Vis/happy/a.png").string(), (root / "IR/happy/a.png").string()}));
  EXPECT_EQ(at("lonely"), (std::vector<std::string>{(root / "Vis/lonely.png").string(), ""}));
  EXPECT_EQ(at("happy/z"), (std::vector<std::string>{"", (root / "IR/happy/z.png").string()}));
  EXPECT_EQ(at("sad/a"), (std::vector<std::string>{"", (root / "IR/sad/a.png").string()}));

  // Only one modality folder: every file is a sample with the other modality missing.
  const fs::path vis_only = dir.path() / "vis_only";
  write_img(vis_only / "Vis" / "x.png", 1, 3);
  const auto alone = fer::data::pair_folder_files(vis_only.string(), cfg.paired);
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0].paths[1], "");
}

TEST(Paired, PairFolderFilesUsesStemPatternsAndClassFirstLayout) {
  TempDir dir;
  const fs::path cf = dir.path() / "cf";
  make_pairs(cf, {{"happy", "s01"}, {"sad", "s02"}}, /*class_first=*/true, "_vis", "_ir");
  write_img(cf / "sad" / "Vis" / "odd.png", 1, 3);  // does not match the visible pattern
  auto cfg = paired_cfg(cf);
  cfg.paired.stem_patterns = {"(.*)_vis$", "(.*)_ir$"};
  const auto files = fer::data::pair_folder_files(cf.string(), cfg.paired);
  EXPECT_EQ(keys(files), (std::vector<std::string>{"happy/s01", "sad/s02", "sad/Vis/odd.png"}));
  EXPECT_EQ(files[1].paths[1], (cf / "sad" / "IR" / "s02_ir.png").string());
  EXPECT_EQ(files[2].paths[1], "");
  EXPECT_HAS(files[2].note, "(.*)_vis$");
}

TEST(Paired, PairFolderFilesErrorsNameTheFolderAndFiles) {
  TempDir dir;
  const fs::path none = dir.path() / "none";
  write_img(none / "photos" / "a.png", 1, 3);
  const auto cfg = paired_cfg(none);
  const std::string msg = error_of<fer::DataError>([&] { fer::data::pair_folder_files(none.string(), cfg.paired); });
  EXPECT_HAS(msg, none.string());
  EXPECT_HAS(msg, "no modality folder \"Vis\", \"IR\"");
  EXPECT_HAS(msg, "found folders: photos");

  const fs::path dup = dir.path() / "dup";
  write_img(dup / "Vis" / "a.png", 1, 3);
  write_img(dup / "Vis" / "a.jpg", 1, 3);
  write_img(dup / "IR" / "a.png", 1, 1);
  const std::string d = error_of<fer::DataError>([&] { fer::data::pair_folder_files(dup.string(), cfg.paired); });
  EXPECT_HAS(d, "Vis/a.jpg and Vis/a.png (key \"a\")");

  EXPECT_HAS(error_of<fer::IoError>([&] { fer::data::pair_folder_files((dir.path() / "nope").string(), cfg.paired); }),
             "nope: folder not found");
}
