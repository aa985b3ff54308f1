// Dataset loaders, the registry and class remapping, on files written in the real formats.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "fer/core/error.hpp"
#include "fer/data/loaders.hpp"
#include "fer/data/split.hpp"
#include "test_util.hpp"

namespace {

using fer::data::Dataset;
using fer::data::H5Type;

using fer::test::error_of;

// 2304 (or `count`) space-separated values; pixel i = (i + seed) % 256.
std::string pixel_field(int count, int seed) {
  std::string s;
  for (int i = 0; i < count; ++i) {
    if (i) s += ' ';
    s += std::to_string((i + seed) % 256);
  }
  return s;
}

std::string csv_row(int label, int seed, const std::string& usage, int count = 2304) {
  return std::to_string(label) + "," + pixel_field(count, seed) + "," + usage;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// ---------------------------------------------------------------------------------------------
// FER2013 CSV

TEST(Fer2013Csv, LoadsLabelsUsageIdsAndPixels) {
  fer::test::TempDir dir;
  const std::string p = dir.str("fer2013.csv");
  write_text(p, "emotion,pixels,Usage\r\n" + csv_row(3, 0, "Training") + "\r\n" +
                    csv_row(0, 7, "PublicTest") + "\r\n" + csv_row(6, 100, "PrivateTest") + "\r\n");
  const Dataset ds = fer::data::load_fer2013_csv(p);
  EXPECT_EQ(ds.format, "fer2013_csv");
  EXPECT_EQ(ds.source, p);
  ASSERT_EQ(ds.class_names.size(), 7u);
  EXPECT_EQ(ds.class_names[0], "angry");
  EXPECT_EQ(ds.class_names[6], "neutral");
  ASSERT_EQ(ds.samples.size(), 3u);
  EXPECT_EQ(ds.samples[0].id, "row:1");
  EXPECT_EQ(ds.samples[2].id, "row:3");
  EXPECT_EQ(ds.labels(), (std::vector<int>{3, 0, 6}));
  EXPECT_EQ(ds.samples[0].usage, "Training");
  EXPECT_EQ(ds.samples[1].usage, "PublicTest");
  EXPECT_EQ(ds.samples[2].usage, "PrivateTest");
  const cv::Mat& img = ds.samples[1].image;
  ASSERT_EQ(img.rows, 48);
  ASSERT_EQ(img.cols, 48);
  ASSERT_EQ(img.type(), CV_8UC1);
  EXPECT_EQ(img.at<uint8_t>(0, 0), 7);
  EXPECT_EQ(img.at<uint8_t>(0, 1), 8);
  EXPECT_EQ(img.at<uint8_t>(1, 0), (48 + 7) % 256);
  EXPECT_EQ(img.at<uint8_t>(47, 47), (2303 + 7) % 256);
}

TEST(Fer2013Csv, UnknownUsageIsAnErrorNamingTheRow) {
  fer::test::TempDir dir;
  const std::string p = dir.str("fer2013.csv");
  write_text(p, "emotion,pixels,Usage\n" + csv_row(3, 0, "Training") + "\n" + csv_row(0, 7, "Validation") + "\n");
  const std::string msg = fer::test::error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(p); });
  EXPECT_HAS(msg, p + ":3: Usage \"Validation\": expected Training, PublicTest or PrivateTest");
}

TEST(Fer2013Csv, NoTrailingNewlineAndExtraColumnsAreAccepted) {
  fer::test::TempDir dir;
  const std::string p = dir.str("fer2013.csv");
  write_text(p, "emotion,pixels,Usage,source\n" + csv_row(1, 0, "Training") + ",web\n" +
                    csv_row(2, 1, "Training") + ",lab");
  const Dataset ds = fer::data::load_fer2013_csv(p);
  ASSERT_EQ(ds.samples.size(), 2u);
  EXPECT_EQ(ds.samples[1].label, 2);
  EXPECT_EQ(ds.samples[1].usage, "Training");
}

TEST(Fer2013Csv, ShortRowNamesFileAndLine) {
  fer::test::TempDir dir;
  const std::string p = dir.str("fer2013.csv");
  write_text(p, "emotion,pixels,Usage\n" + csv_row(0, 0, "Training") + "\n" +
                    csv_row(0, 0, "Training", 2303) + "\n");
  const std::string msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(p); });
  EXPECT_HAS(msg, "fer2013.csv:3: 2303 pixels, expected 2304");
}

TEST(Fer2013Csv, LongRowIsAnError) {
  fer::test::TempDir dir;
  const std::string p = dir.str("fer2013.csv");
  write_text(p, "emotion,pixels,Usage\n" + csv_row(0, 0, "Training", 2305) + "\n");
  const std::string msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(p); });
  EXPECT_HAS(msg, "fer2013.csv:2: 2305 pixels, expected 2304");
}

TEST(Fer2013Csv, BadLabelNamesLine) {
  fer::test::TempDir dir;
  const std::string p = dir.str("fer2013.csv");
  write_text(p, "emotion,pixels,Usage\n" + csv_row(9, 0, "Training") + "\n");
  std::string msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(p); });
  EXPECT_HAS(msg, "fer2013.csv:2:");
  EXPECT_HAS(msg, "expected a label 0..6, got 9");

  write_text(p, "emotion,pixels,Usage\n" + csv_row(1, 0, "Training") + "\nx," + pixel_field(2304, 0) +
                    ",Training\n");
  msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(p); });
  EXPECT_HAS(msg, "fer2013.csv:3:");
  EXPECT_HAS(msg, "expected a label 0..6, got \"x\"");
}

TEST(Fer2013Csv, WrongHeader) {
  fer::test::TempDir dir;
  const std::string p = dir.str("fer2013.csv");
  write_text(p, "label,pixels\n" + csv_row(1, 0, "Training") + "\n");
  const std::string msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(p); });
  EXPECT_HAS(msg, "fer2013.csv:1: expected header emotion,pixels,Usage");
}

TEST(Fer2013Csv, PixelOutOfRangeOrNotANumber) {
  fer::test::TempDir dir;
  const std::string p = dir.str("fer2013.csv");
  std::string px = pixel_field(2304, 0);
  px.replace(px.find(" 4 "), 3, " 256 ");  // pixel 5
  write_text(p, "emotion,pixels,Usage\n0," + px + ",Training\n");
  std::string msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(p); });
  EXPECT_HAS(msg, "fer2013.csv:2: pixel 5: value 256 outside 0..255");

  px = pixel_field(2304, 0);
  px.replace(px.find(" 4 "), 3, " 4x ");
  write_text(p, "emotion,pixels,Usage\n0," + px + ",Training\n");
  msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(p); });
  EXPECT_HAS(msg, "fer2013.csv:2: pixel 5: expected a gray value 0..255, got \"4x\"");
}

TEST(Fer2013Csv, MissingColumn) {
  fer::test::TempDir dir;
  const std::string p = dir.str("fer2013.csv");
  write_text(p, "emotion,pixels,Usage\n0," + pixel_field(2304, 0) + "\n");
  const std::string msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(p); });
  EXPECT_HAS(msg, "fer2013.csv:2: 2 column(s), expected 3");
}

TEST(Fer2013Csv, MissingFileAndEmptyFile) {
  fer::test::TempDir dir;
  std::string msg = error_of<fer::IoError>([&] { fer::data::load_fer2013_csv(dir.str("nope.csv")); });
  EXPECT_HAS(msg, "nope.csv: file not found");
  write_text(dir.str("empty.csv"), "");
  msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(dir.str("empty.csv")); });
  EXPECT_HAS(msg, "empty.csv: empty file");
  write_text(dir.str("head.csv"), "emotion,pixels,Usage\n");
  msg = error_of<fer::DataError>([&] { fer::data::load_fer2013_csv(dir.str("head.csv")); });
  EXPECT_HAS(msg, "no data rows");
}

TEST(Fer2013Csv, RealHeadFile) {
  FER_REQUIRE_SHARED(path, "fer2013/fer2013_head.csv");
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset ds = fer::data::load_fer2013_csv(path);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[          ] fer2013_head.csv: " << ds.samples.size() << " rows in " << ms << " ms\n";
  ASSERT_EQ(ds.samples.size(), 1167u);
  EXPECT_EQ(ds.class_counts(), (std::vector<int64_t>{177, 14, 189, 272, 182, 141, 192}));
  for (const auto& s : ds.samples) ASSERT_EQ(s.usage, "Training") << s.id;
  EXPECT_EQ(ds.samples[0].label, 0);
  EXPECT_EQ(ds.samples[0].image.at<uint8_t>(0, 0), 70);  // the file starts "0,70 80 82"
  EXPECT_EQ(ds.samples[0].image.at<uint8_t>(0, 2), 82);
  EXPECT_EQ(ds.samples.back().id, "row:1167");
}

// ---------------------------------------------------------------------------------------------
// FER2013 HDF5 (the seed code's conversion)

TEST(Fer2013H5, LoadsGroupsInOrderWithBothPixelShapes) {
  fer::test::TempDir dir;
  const std::string p = dir.str("data.h5");
  std::vector<uint8_t> train(3 * 2304), priv(2 * 2304);
  for (size_t i = 0; i < train.size(); ++i) train[i] = static_cast<uint8_t>(i % 251);
  for (size_t i = 0; i < priv.size(); ++i) priv[i] = static_cast<uint8_t>(255 - i % 256);
  const std::vector<int32_t> train_lab = {6, 0, 3};
  const std::vector<int64_t> priv_lab = {1, 2};
  fer::data::write_h5_array(p, "Training_pixel", H5Type::kUInt8, train.data(), {3, 2304});
  fer::data::write_h5_array(p, "Training_label", H5Type::kInt32, train_lab.data(), {3});
  fer::data::write_h5_array(p, "PrivateTest_pixel", H5Type::kUInt8, priv.data(), {2, 48, 48});
  fer::data::write_h5_array(p, "PrivateTest_label", H5Type::kInt64, priv_lab.data(), {2});

  const Dataset ds = fer::data::load_fer2013_h5(p);
  EXPECT_EQ(ds.format, "fer2013_h5");
  ASSERT_EQ(ds.samples.size(), 5u);
  EXPECT_EQ(ds.labels(), (std::vector<int>{6, 0, 3, 1, 2}));
  EXPECT_EQ(ds.samples[0].usage, "Training");
  EXPECT_EQ(ds.samples[3].usage, "PrivateTest");
  EXPECT_EQ(ds.samples[1].id, "Training:1");
  EXPECT_EQ(ds.samples[4].id, "PrivateTest:1");
  EXPECT_EQ(ds.samples[1].image.at<uint8_t>(0, 0), 2304 % 251);
  EXPECT_EQ(ds.samples[4].image.at<uint8_t>(0, 1), 255 - (2304 + 1) % 256);
  EXPECT_EQ(ds.samples[4].image.size(), cv::Size(48, 48));
}

TEST(Fer2013H5, ErrorsNameFileAndDataset) {
  fer::test::TempDir dir;
  const std::vector<uint8_t> px(2 * 2304, 1);
  const std::vector<int64_t> lab3 = {0, 1, 2};
  const std::vector<float> fpx(2 * 2304, 1.f);

  const std::string none = dir.str("none.h5");
  fer::data::write_h5_array(none, "other", H5Type::kInt64, lab3.data(), {3});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_fer2013_h5(none); }),
             "none.h5: no FER2013 datasets");

  const std::string mism = dir.str("mismatch.h5");
  fer::data::write_h5_array(mism, "PublicTest_pixel", H5Type::kUInt8, px.data(), {2, 2304});
  fer::data::write_h5_array(mism, "PublicTest_label", H5Type::kInt64, lab3.data(), {3});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_fer2013_h5(mism); }),
             "mismatch.h5: \"PublicTest_pixel\" has 2 images but \"PublicTest_label\" has 3 labels");

  const std::string half = dir.str("half.h5");
  fer::data::write_h5_array(half, "Training_pixel", H5Type::kUInt8, px.data(), {2, 2304});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_fer2013_h5(half); }),
             "half.h5: \"Training_pixel\" exists but \"Training_label\" is missing");

  const std::string flt = dir.str("float.h5");
  fer::data::write_h5_array(flt, "Training_pixel", H5Type::kFloat32, fpx.data(), {2, 2304});
  fer::data::write_h5_array(flt, "Training_label", H5Type::kInt64, lab3.data(), {2});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_fer2013_h5(flt); }),
             "float.h5: \"Training_pixel\" is float32, expected uint8");

  const std::string shape = dir.str("shape.h5");
  fer::data::write_h5_array(shape, "Training_pixel", H5Type::kUInt8, px.data(), {2, 48, 24, 2});
  fer::data::write_h5_array(shape, "Training_label", H5Type::kInt64, lab3.data(), {2});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_fer2013_h5(shape); }),
             "shape.h5: \"Training_pixel\" has shape [2,48,24,2], expected [N,2304] or [N,48,48]");

  const std::string badlab = dir.str("badlab.h5");
  const std::vector<int64_t> lab_bad = {0, 7};
  fer::data::write_h5_array(badlab, "Training_pixel", H5Type::kUInt8, px.data(), {2, 2304});
  fer::data::write_h5_array(badlab, "Training_label", H5Type::kInt64, lab_bad.data(), {2});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_fer2013_h5(badlab); }),
             "badlab.h5: Training_label[1] = 7, expected a label 0..6");

  EXPECT_HAS(error_of<fer::IoError>([&] { fer::data::load_fer2013_h5(dir.str("missing.h5")); }),
             "missing.h5: file not found");
}

// ---------------------------------------------------------------------------------------------
// CK+ HDF5

void write_ck(const std::string& p, const std::vector<int64_t>& labels, int h = 48, int w = 48) {
  std::vector<uint8_t> px(labels.size() * static_cast<size_t>(h * w));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 13 % 256);
  fer::data::write_h5_array(p, "data_pixel", H5Type::kUInt8, px.data(),
                            {labels.size(), static_cast<uint64_t>(h), static_cast<uint64_t>(w)});
  fer::data::write_h5_array(p, "data_label", H5Type::kInt64, labels.data(), {labels.size()});
}

TEST(CkPlusH5, LoadsAnySizeKeepingFileOrder) {
  fer::test::TempDir dir;
  const std::string p = dir.str("CK_data.h5");
  write_ck(p, {0, 0, 3, 6, 5}, 32, 40);
  const Dataset ds = fer::data::load_ck_plus_h5(p);
  EXPECT_EQ(ds.format, "ck_plus_h5");
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"anger", "disgust", "fear", "happy", "sadness",
                                                      "surprise", "contempt"}));
  ASSERT_EQ(ds.samples.size(), 5u);
  EXPECT_EQ(ds.labels(), (std::vector<int>{0, 0, 3, 6, 5}));
  EXPECT_EQ(ds.samples[3].id, "idx:3");
  EXPECT_EQ(ds.samples[1].image.size(), cv::Size(40, 32));
  EXPECT_EQ(ds.samples[1].image.at<uint8_t>(0, 1), (32 * 40 + 1) * 13 % 256);
  EXPECT_TRUE(ds.samples[1].usage.empty());
}

TEST(CkPlusH5, AlignedFrameTripletsBecomeSequences) {
  fer::test::TempDir dir;
  const std::string p = dir.str("CK_data.h5");
  write_ck(p, {0, 0, 0, 0, 0, 0, 3, 3, 3});  // three sequences of the seed's 3 frames
  const Dataset ds = fer::data::load_ck_plus_h5(p);
  EXPECT_EQ(ds.group_unit, "sequence");
  std::vector<std::string> groups;
  for (const auto& s : ds.samples) groups.push_back(s.subject);
  EXPECT_EQ(groups, (std::vector<std::string>{"seq0000", "seq0000", "seq0000", "seq0001", "seq0001",
                                              "seq0001", "seq0002", "seq0002", "seq0002"}));

  // A label change inside an aligned triplet, or a count that is no multiple of 3: no groups.
  const std::string q = dir.str("mixed.h5");
  write_ck(q, {0, 0, 1, 1, 1, 1});
  const Dataset mixed = fer::data::load_ck_plus_h5(q);
  EXPECT_FALSE(fer::data::has_subjects(mixed));
  EXPECT_EQ(mixed.group_unit, "subject");
  const std::string r = dir.str("four.h5");
  write_ck(r, {2, 2, 2, 2});
  EXPECT_FALSE(fer::data::has_subjects(fer::data::load_ck_plus_h5(r)));
}

TEST(CkPlusH5, MissingDatasetMessage) {
  fer::test::TempDir dir;
  const std::string p = dir.str("CK_data.h5");
  const std::vector<uint8_t> px(2 * 48 * 48, 0);
  fer::data::write_h5_array(p, "data_pixel", H5Type::kUInt8, px.data(), {2, 48, 48});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_ck_plus_h5(p); }),
             "CK_data.h5: no dataset \"data_label\" (expected data_pixel [N,48,48] uint8 and "
             "data_label [N])");
}

TEST(CkPlusH5, LengthMismatchAndBadLabel) {
  fer::test::TempDir dir;
  const std::string p = dir.str("short.h5");
  const std::vector<uint8_t> px(3 * 48 * 48, 0);
  const std::vector<int64_t> lab = {0, 1};
  fer::data::write_h5_array(p, "data_pixel", H5Type::kUInt8, px.data(), {3, 48, 48});
  fer::data::write_h5_array(p, "data_label", H5Type::kInt64, lab.data(), {2});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_ck_plus_h5(p); }),
             "short.h5: data_pixel has 3 images but data_label has 2 labels");

  const std::string q = dir.str("label.h5");
  write_ck(q, {0, 1, 2, 9});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_ck_plus_h5(q); }),
             "label.h5: data_label[3] = 9, expected a label 0..6");

  const std::string r = dir.str("flat.h5");
  fer::data::write_h5_array(r, "data_pixel", H5Type::kUInt8, px.data(), {3, 2304});
  fer::data::write_h5_array(r, "data_label", H5Type::kInt64, lab.data(), {2});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_ck_plus_h5(r); }),
             "flat.h5: data_pixel has shape [3,2304], expected [N,H,W]");
}

TEST(CkPlusH5, NotAnHdf5File) {
  fer::test::TempDir dir;
  write_text(dir.str("CK_data.h5"), "not hdf5");
  EXPECT_HAS(error_of<fer::IoError>([&] { fer::data::load_ck_plus_h5(dir.str("CK_data.h5")); }),
             "CK_data.h5: not a readable HDF5 file");
}

TEST(CkPlusH5, RealFile) {
  FER_REQUIRE_SHARED(path, "ck_plus/CK_data.h5");
  const Dataset ds = fer::data::load_ck_plus_h5(path);
  ASSERT_EQ(ds.samples.size(), 981u);
  EXPECT_EQ(ds.class_counts(), (std::vector<int64_t>{135, 177, 75, 207, 84, 249, 54}));
  EXPECT_EQ(ds.samples[0].image.size(), cv::Size(48, 48));
  EXPECT_EQ(ds.samples[980].id, "idx:980");
  // The seed's layout: 327 sequences of 3 consecutive frames, and the frames of one sequence are
  // far more alike than neighbouring frames of two sequences (mean absolute pixel difference).
  ASSERT_EQ(ds.group_unit, "sequence");
  EXPECT_EQ(ds.samples[0].subject, "seq0000");
  EXPECT_EQ(ds.samples[980].subject, "seq0326");
  double within = 0, across = 0;
  for (size_t i = 0; i + 1 < ds.samples.size(); ++i) {
    const double d = cv::norm(ds.samples[i].image, ds.samples[i + 1].image, cv::NORM_L1) / (48.0 * 48.0);
    (ds.samples[i].subject == ds.samples[i + 1].subject ? within : across) += d;
  }
  within /= 2.0 * 327;
  across /= 326.0;
  EXPECT_LT(within * 4, across) << "within " << within << ", across " << across;
}

// ---------------------------------------------------------------------------------------------
// Image folders

void write_png(const std::filesystem::path& p, int value) {
  std::filesystem::create_directories(p.parent_path());
  ASSERT_TRUE(cv::imwrite(p.string(), cv::Mat(8, 8, CV_8UC1, cv::Scalar(value))));
}

TEST(ImageFolder, SortedClassesAndFilesLazyImages) {
  fer::test::TempDir dir;
  const auto root = dir.path() / "faces";
  write_png(root / "sad" / "b.png", 10);
  write_png(root / "sad" / "a.PNG", 20);
  write_png(root / "happy" / "z.png", 30);
  write_png(root / "happy" / "c.png", 40);
  write_png(root / ".cache" / "x.png", 50);  // hidden class: skipped
  write_png(root / "happy" / ".hidden.png", 60);
  write_text((root / "happy" / "notes.txt").string(), "x");
  write_text((root / "README.md").string(), "x");
  std::filesystem::create_directories(root / "happy" / "nested");

  const Dataset ds = fer::data::load_image_folder(root.string());
  EXPECT_EQ(ds.format, "image_folder");
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"happy", "sad"}));
  ASSERT_EQ(ds.samples.size(), 4u);
  EXPECT_EQ(ds.samples[0].id, "happy/c.png");
  EXPECT_EQ(ds.samples[1].id, "happy/z.png");
  EXPECT_EQ(ds.samples[2].id, "sad/a.PNG");
  EXPECT_EQ(ds.samples[3].id, "sad/b.png");
  EXPECT_EQ(ds.labels(), (std::vector<int>{0, 0, 1, 1}));
  for (const auto& s : ds.samples) EXPECT_TRUE(s.image.empty());
  EXPECT_EQ(ds.samples[2].path, (root / "sad" / "a.PNG").string());
  EXPECT_EQ(fer::data::load_image(ds.samples[2], 1).at<uint8_t>(0, 0), 20);
}

TEST(ImageFolder, Errors) {
  fer::test::TempDir dir;
  EXPECT_HAS(error_of<fer::IoError>([&] { fer::data::load_image_folder(dir.str("nope")); }),
             "nope: folder not found");
  write_text(dir.str("file.png"), "x");
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_image_folder(dir.str("file.png")); }),
             "file.png: not a folder");
  std::filesystem::create_directories(dir.path() / "empty");
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_image_folder(dir.str("empty")); }),
             "empty: no class folders");
  write_png(dir.path() / "ds" / "happy" / "a.png", 1);
  std::filesystem::create_directories(dir.path() / "ds" / "sad");
  write_text((dir.path() / "ds" / "sad" / "a.txt").string(), "x");
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::load_image_folder(dir.str("ds")); }),
             "class folder \"sad\" has no images");
}

// ---------------------------------------------------------------------------------------------
// Registry and class remapping

TEST(DataRegistry, FormatsAndUnknownName) {
  std::vector<std::string> names;
  for (const auto& f : fer::data::dataset_formats().entries()) {
    names.push_back(f.name);
    EXPECT_FALSE(f.description.empty());
    EXPECT_TRUE(static_cast<bool>(f.value.load));
    // the config reader's view of the format (it sits below data/ and cannot read the registry)
    EXPECT_EQ(fer::config::is_paired_format(f.name), f.value.paired) << f.name;
    EXPECT_EQ(fer::data::is_paired_format(f.name), f.value.paired) << f.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"image_folder", "fer2013_csv", "fer2013_h5", "ck_plus_h5", "paired_folder", "viri",
                                            "nvie"}));
  EXPECT_EQ(names, fer::config::dataset_format_names());  // what a config may name, checked at parse time
  EXPECT_HAS(
      error_of<fer::ConfigError>([] { fer::data::load_dataset("jaffe", "x"); }),
      "data.format: expected one of \"image_folder\", \"fer2013_csv\", \"fer2013_h5\", \"ck_plus_h5\", "
      "\"paired_folder\", \"viri\", \"nvie\", got \"jaffe\"");

  fer::test::TempDir dir;
  write_png(dir.path() / "a" / "1.png", 1);
  EXPECT_EQ(fer::data::load_dataset("image_folder", dir.str()).samples.size(), 1u);
}

Dataset fer7(const std::vector<int>& labels) {
  Dataset ds;
  ds.source = "fer.csv";
  ds.class_names = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
  for (size_t i = 0; i < labels.size(); ++i) {
    fer::data::Sample s;
    s.id = "row:" + std::to_string(i + 1);
    s.label = labels[i];
    ds.samples.push_back(s);
  }
  return ds;
}

TEST(DataRemap, SevenToThreeDropsUnmapped) {
  const Dataset ds = fer7({0, 1, 2, 3, 4, 5, 6, 3, 0});
  const std::map<std::string, std::string> m = {
      {"happy", "happy"}, {"neutral", "peace"}, {"angry", "sad"}, {"sad", "sad"}, {"fear", "sad"}};
  const Dataset out = fer::data::remap_classes(ds, m, {});
  // New names in first-seen order over the source classes: angry->sad, happy, neutral->peace.
  EXPECT_EQ(out.class_names, (std::vector<std::string>{"sad", "happy", "peace"}));
  std::vector<std::string> ids;
  for (const auto& s : out.samples) ids.push_back(s.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"row:1", "row:3", "row:4", "row:5", "row:7", "row:8", "row:9"}));
  EXPECT_EQ(out.labels(), (std::vector<int>{0, 0, 1, 0, 2, 1, 0}));

  const Dataset ordered = fer::data::remap_classes(ds, m, {"happy", "sad", "peace"});
  EXPECT_EQ(ordered.class_names, (std::vector<std::string>{"happy", "sad", "peace"}));
  EXPECT_EQ(ordered.labels(), (std::vector<int>{1, 1, 0, 1, 2, 0, 1}));
}

TEST(DataRemap, SubsetWithoutMapKeepsListedOrder) {
  const Dataset ds = fer7({0, 1, 2, 3, 4, 5, 6, 3});
  const Dataset out = fer::data::remap_classes(ds, {}, {"neutral", "happy"});
  EXPECT_EQ(out.class_names, (std::vector<std::string>{"neutral", "happy"}));
  EXPECT_EQ(out.labels(), (std::vector<int>{1, 0, 1}));
  const Dataset same = fer::data::remap_classes(ds, {}, {});
  EXPECT_EQ(same.class_names, ds.class_names);
  EXPECT_EQ(same.labels(), ds.labels());
}

TEST(DataRemap, Errors) {
  const Dataset ds = fer7({0, 3});
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               fer::data::remap_classes(ds, {{"joy", "happy"}}, {});
             }),
             "data.label_map: unknown class \"joy\" in fer.csv; its classes are: angry, disgust, "
             "fear, happy, sad, surprise, neutral");
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               fer::data::remap_classes(ds, {{"happy", "pos"}}, {"neg"});
             }),
             "data.classes: unknown class \"neg\"; available after data.label_map: pos");
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::remap_classes(ds, {}, {"contempt"}); }),
             "available: angry, disgust");
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::remap_classes(ds, {}, {"fear"}); }),
             "fer.csv: no samples left");
}

TEST(DataRemap, ErrorsNameWhereTheNameWasWritten) {
  const Dataset ds = fer7({0, 3});
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               fer::data::remap_classes(ds, {}, {"happy", "contempt"}, {"c.json:3: /data/classes/0",
                                                                        "c.json:4: /data/classes/1"});
             }),
             "c.json:4: /data/classes/1: unknown class \"contempt\"; available: angry");
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               fer::data::remap_classes(ds, {{"joy", "happy"}}, {}, {}, {{"joy", "c.json:7: /data/label_map/joy"}});
             }),
             "c.json:7: /data/label_map/joy: unknown class \"joy\" in fer.csv");
}

}  // namespace
