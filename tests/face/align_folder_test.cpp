// fer align's folder logic on a small dataset made from the real photos in ../shared/data/faces:
// manifest rows and counts, policies, gray output, failures, incremental re-runs, determinism
// across thread counts, and refusing to mix settings in one output folder.
#include "fer/face/align_folder.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "fer/core/error.hpp"
#include "fer/face/face.hpp"
#include "test_util.hpp"

namespace fer::face {
namespace {

namespace fs = std::filesystem;
using fer::test::error_of;
using fer::test::shared_data;
using fer::test::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// RFC 4180 records (quoted fields may hold commas and quotes).
std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  const std::string text = slurp(p);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
    } else {
      field += c;
    }
  }
  return rows;
}

/// Manifest rows as maps column -> value.
std::vector<std::map<std::string, std::string>> manifest(const fs::path& out) {
  const auto rows = read_csv(out / "manifest.csv");
  std::vector<std::map<std::string, std::string>> result;
  if (rows.empty()) return result;
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].size(), rows[0].size()) << "record " << i;
    std::map<std::string, std::string> m;
    for (size_t c = 0; c < rows[0].size() && c < rows[i].size(); ++c) m[rows[0][c]] = rows[i][c];
    result.push_back(m);
  }
  return result;
}

/// IN/a: tom.jpg (1 face), dogs.jpg (no face), group.png (several faces), tom_gray.png (1-channel);
/// IN/b: "kids, park.jpg" (a comma in the name), bald.jpg (many faces, scaled down to keep the
/// test fast), corrupt.jpg (garbage bytes).
struct Dataset {
  fs::path root;
  size_t images = 0;
  /// Source -> faces FacePipeline finds in it (decodable sources), counted on first use.
  const std::map<std::string, int>& faces() {
    if (faces_.empty()) {
      config::FaceConfig cfg;
      FacePipeline p(cfg, 64);
      for (const char* s :
           {"a/tom.jpg", "a/dogs.jpg", "a/group.png", "a/tom_gray.png", "b/kids, park.jpg", "b/bald.jpg"}) {
        faces_[s] = static_cast<int>(p.process(cv::imread((root / s).string(), cv::IMREAD_ANYCOLOR)).size());
      }
    }
    return faces_;
  }

 private:
  std::map<std::string, int> faces_;
};

Dataset make_dataset(const fs::path& in) {
  Dataset d;
  fs::create_directories(in / "a");
  fs::create_directories(in / "b");
  const std::string faces = shared_data("faces");
  fs::copy_file(fs::path(faces) / "Tom_Cruise_avp_2014_4.jpg", in / "a/tom.jpg");
  fs::copy_file(fs::path(faces) / "dogs.jpg", in / "a/dogs.jpg");
  cv::imwrite((in / "a/group.png").string(), cv::imread((fs::path(faces) / "2009_004587.jpg").string()));
  cv::imwrite((in / "a/tom_gray.png").string(),
              cv::imread((fs::path(faces) / "Tom_Cruise_avp_2014_4.jpg").string(), cv::IMREAD_GRAYSCALE));
  fs::copy_file(fs::path(faces) / "2008_001009.jpg", in / "b/kids, park.jpg");
  cv::Mat bald = cv::imread((fs::path(faces) / "bald_guys.jpg").string());
  cv::resize(bald, bald, cv::Size(640, 498), 0, 0, cv::INTER_AREA);
  cv::imwrite((in / "b/bald.jpg").string(), bald);
  std::ofstream(in / "b/corrupt.jpg") << "this is not a JPEG, just some bytes";
  std::ofstream(in / "b/notes.txt") << "not an image: ignored";
  d.root = in;
  d.images = 7;
  return d;
}

AlignFolderOptions options(const TempDir& t) {
  AlignFolderOptions o;
  o.in = t.str("raw");
  o.out = t.str("aligned");
  o.size = 64;
  o.threads = 2;
  o.progress = false;
  return o;
}

/// Shared by the tests: the dataset is made (and its faces counted) once.
class AlignFolder : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (shared_data("faces/bald_guys.jpg").empty()) return;
    dir_ = new TempDir;
    data_ = new Dataset(make_dataset(dir_->path() / "raw"));
  }
  static void TearDownTestSuite() {
    delete data_;
    delete dir_;
    data_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!data_) GTEST_SKIP() << "../shared/data/faces is absent: real-data test skipped";
    fs::copy(dir_->path() / "raw", t_.path() / "raw", fs::copy_options::recursive);
  }
  Dataset& data() { return *data_; }

  TempDir t_;
  static TempDir* dir_;
  static Dataset* data_;
};
TempDir* AlignFolder::dir_ = nullptr;
Dataset* AlignFolder::data_ = nullptr;

TEST_F(AlignFolder, LargestFaceSkipNoFaceSameWithOneThread) {
  const auto o = options(t_);
  const fs::path out(o.out);
  const AlignSummary s = align_folder(o);
  const auto& faces = data().faces();
  ASSERT_EQ(faces.at("a/tom.jpg"), 1);
  ASSERT_EQ(faces.at("a/dogs.jpg"), 0);
  ASSERT_GT(faces.at("a/group.png"), 1);
  ASSERT_GT(faces.at("b/bald.jpg"), 1);

  EXPECT_EQ(s.images, data().images);
  EXPECT_EQ(s.done_before, 0U);
  EXPECT_EQ(s.aligned, 5U);
  EXPECT_EQ(s.outputs, 5U);
  EXPECT_EQ(s.no_face, 1U);
  size_t multi = 0;
  for (const auto& [src, n] : faces) multi += n > 1 ? 1 : 0;
  EXPECT_EQ(s.multi_face, multi);
  EXPECT_EQ(s.failed, 1U);
  ASSERT_EQ(s.failures.size(), 1U);
  EXPECT_HAS(s.failures[0], "corrupt.jpg");
  EXPECT_HAS(s.failures[0], "cannot decode image");
  EXPECT_FALSE(s.interrupted);
  EXPECT_EQ(s.manifest, (out / "manifest.csv").string());

  const auto rows = manifest(out);
  ASSERT_EQ(rows.size(), data().images);  // one row per source image
  const auto header = read_csv(out / "manifest.csv").at(0);
  EXPECT_EQ(header, (std::vector<std::string>{"source", "faces_found", "face_index", "box_x", "box_y",
                                              "box_w", "box_h", "landmarks_ok", "output", "status"}));
  for (size_t i = 1; i < rows.size(); ++i)
    EXPECT_LT(rows[i - 1].at("source"), rows[i].at("source"));  // sorted
  for (const auto& r : rows) {
    const std::string& src = r.at("source");
    SCOPED_TRACE(src);
    if (src == "b/corrupt.jpg") {
      EXPECT_EQ(r.at("status"), "error: cannot decode image");
      EXPECT_EQ(r.at("output"), "");
      continue;
    }
    EXPECT_EQ(std::stoi(r.at("faces_found")), faces.at(src));
    if (src == "a/dogs.jpg") {
      EXPECT_EQ(r.at("status"), "skipped_no_face");
      EXPECT_EQ(r.at("output"), "");
      EXPECT_EQ(r.at("face_index"), "-1");
      EXPECT_EQ(r.at("box_w"), "");
      EXPECT_FALSE(fs::exists(out / "a/dogs.png"));
      continue;
    }
    EXPECT_EQ(r.at("status"), "aligned");
    EXPECT_EQ(r.at("face_index"), "0");
    EXPECT_EQ(r.at("landmarks_ok"), "1");
    EXPECT_GT(std::stoi(r.at("box_w")), 20);
    const std::string expected_out = fs::path(src).replace_extension(".png").generic_string();
    EXPECT_EQ(r.at("output"), expected_out);
    const cv::Mat img = cv::imread((out / expected_out).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(img.empty());
    EXPECT_EQ(img.cols, 64);
    EXPECT_EQ(img.rows, 64);
    EXPECT_EQ(img.channels(), src == "a/tom_gray.png" ? 1 : 3);  // a 1-channel source stays 1-channel
  }
  // The comma in "kids, park.jpg" is quoted in the file.
  EXPECT_HAS(slurp(out / "manifest.csv"), "\"b/kids, park.jpg\"");

  const auto settings = nlohmann::json::parse(slurp(out / "fer_align.json"));
  EXPECT_EQ(settings.at("face").at("size"), 64);
  EXPECT_EQ(settings.at("face").at("detector"), "hog");
  EXPECT_EQ(settings.at("gray"), false);
  EXPECT_EQ(settings.at("no_face"), "skip");
  EXPECT_EQ(settings.at("multi"), "largest");
  EXPECT_TRUE(settings.contains("fer_version"));
  // The face section is what training and inference read back.
  EXPECT_EQ(config::face_to_json(config::parse_face_config(settings.at("face"), "fer_align.json")),
            settings.at("face"));

  // One thread gives the same manifest and images as two.
  auto o1 = o;
  o1.threads = 1;
  o1.out = t_.str("one");
  align_folder(o1);
  EXPECT_EQ(slurp(fs::path(o1.out) / "manifest.csv"), slurp(out / "manifest.csv"));
  for (const char* f : {"a/tom.png", "a/group.png", "b/bald.png", "b/kids, park.png"}) {
    EXPECT_EQ(slurp(fs::path(o1.out) / f), slurp(out / f)) << f;
  }
}

TEST_F(AlignFolder, SecondRunDoesNothingButRetryErrors) {
  const auto o = options(t_);
  const fs::path out(o.out);
  align_folder(o);
  std::map<std::string, fs::file_time_type> mtimes;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (e.path().extension() == ".png") mtimes[e.path().string()] = fs::last_write_time(e.path());
  }
  ASSERT_EQ(mtimes.size(), 5U);
  const std::string before = slurp(out / "manifest.csv");

  const AlignSummary s = align_folder(o);
  EXPECT_EQ(s.images, data().images);
  EXPECT_EQ(s.done_before, data().images - 1);  // everything but the corrupt file
  EXPECT_EQ(s.aligned, 0U);
  EXPECT_EQ(s.outputs, 0U);
  EXPECT_EQ(s.failed, 1U);   // errors are retried
  EXPECT_EQ(s.no_face, 1U);  // counted over earlier runs' rows too
  for (const auto& [p, t] : mtimes) EXPECT_EQ(fs::last_write_time(p), t) << p;
  EXPECT_EQ(slurp(out / "manifest.csv"), before);

  // A removed output is made again, and only that one; a fixed source is retried and aligned.
  fs::remove(out / "a/tom.png");
  fs::copy_file(t_.path() / "raw/a/tom.jpg", t_.path() / "raw/b/corrupt.jpg",
                fs::copy_options::overwrite_existing);
  const AlignSummary s3 = align_folder(o);
  EXPECT_EQ(s3.aligned, 2U);
  EXPECT_EQ(s3.done_before, data().images - 2);
  EXPECT_EQ(s3.failed, 0U);
  EXPECT_TRUE(s3.failures.empty());
  EXPECT_TRUE(fs::exists(out / "a/tom.png"));
  EXPECT_TRUE(fs::exists(out / "b/corrupt.png"));
  for (const auto& r : manifest(out)) {
    if (r.at("source") == "b/corrupt.jpg") {
      EXPECT_EQ(r.at("status"), "aligned");
    }
  }
}

TEST_F(AlignFolder, AllFacesCenterNoFaceGray) {
  auto o = options(t_);
  o.multi = "all";
  o.no_face = "center";
  o.gray = true;
  const fs::path out(o.out);
  const AlignSummary s = align_folder(o);
  const auto& faces = data().faces();
  size_t total_faces = 0;
  for (const auto& [src, n] : faces) total_faces += static_cast<size_t>(n);
  EXPECT_EQ(s.outputs, total_faces + 1);  // + the centre crop of dogs.jpg
  EXPECT_EQ(s.aligned, 6U);               // every decodable source wrote something
  EXPECT_EQ(s.no_face, 1U);
  EXPECT_EQ(s.failed, 1U);

  const auto rows = manifest(out);
  EXPECT_EQ(rows.size(), total_faces + 1 + 1);  // a row per face, dogs, corrupt
  std::map<std::string, int> next_index;
  for (const auto& r : rows) {
    const std::string& src = r.at("source");
    SCOPED_TRACE(src + " " + r.at("face_index"));
    if (src == "b/corrupt.jpg") continue;
    EXPECT_EQ(std::stoi(r.at("faces_found")), faces.at(src));
    std::string expected_out;
    const std::string stem =
        fs::path(src).parent_path().generic_string() + "/" + fs::path(src).stem().string();
    if (src == "a/dogs.jpg") {
      EXPECT_EQ(r.at("status"), "center");
      EXPECT_EQ(r.at("face_index"), "-1");
      expected_out = stem + ".png";
    } else {
      const int k = next_index[src]++;
      EXPECT_EQ(std::stoi(r.at("face_index")), k);  // 0.. in order, largest first
      expected_out = stem + "_" + std::to_string(k) + ".png";
    }
    EXPECT_EQ(r.at("output"), expected_out);
    const cv::Mat img = cv::imread((out / expected_out).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(img.empty());
    EXPECT_EQ(img.size(), cv::Size(64, 64));
    EXPECT_EQ(img.channels(), 1);
  }
  for (const auto& [src, n] : faces) EXPECT_EQ(next_index[src], src == "a/dogs.jpg" ? 0 : n) << src;
  // Largest first: the boxes' areas do not grow along a source's rows.
  double prev_area = 1e18;
  std::string prev_src;
  for (const auto& r : rows) {
    if (r.at("box_w").empty()) continue;
    if (r.at("source") != prev_src) prev_area = 1e18;
    const double area = std::stod(r.at("box_w")) * std::stod(r.at("box_h"));
    EXPECT_LE(area, prev_area * 1.0001) << r.at("source");
    prev_area = area;
    prev_src = r.at("source");
  }
}

TEST_F(AlignFolder, OtherSettingsOnTheSameOutputAreRefused) {
  auto o = options(t_);
  o.multi = "all";
  align_folder(o);
  ASSERT_TRUE(fs::exists(fs::path(o.out) / "b/bald_1.png"));
  o.gray = true;
  o.multi = "largest";
  o.face.upsample = 0;
  const std::string msg = error_of<UsageError>([&] { align_folder(o); });
  EXPECT_HAS(msg, (fs::path(o.out) / "fer_align.json").string());
  EXPECT_HAS(msg, "gray");
  EXPECT_HAS(msg, "multi");
  EXPECT_HAS(msg, "face.upsample");
  EXPECT_EQ(msg.find("fer_version"), std::string::npos);
  EXPECT_EQ(msg.find("face.detector"), std::string::npos);  // only the keys that differ

  // --force redoes everything with the new settings and removes the crops of the old ones.
  o.force = true;
  const AlignSummary s = align_folder(o);
  EXPECT_EQ(s.done_before, 0U);
  EXPECT_EQ(nlohmann::json::parse(slurp(fs::path(o.out) / "fer_align.json")).at("gray"), true);
  size_t pngs = 0;
  for (const auto& e : fs::recursive_directory_iterator(o.out)) {
    if (e.path().extension() != ".png") continue;
    ++pngs;
    EXPECT_EQ(cv::imread(e.path().string(), cv::IMREAD_UNCHANGED).channels(), 1) << e.path();
  }
  EXPECT_EQ(pngs, s.outputs);  // no bald_1.png left from multi "all"
  o.force = false;
  EXPECT_EQ(align_folder(o).aligned, 0U);  // the new settings are now the folder's
}

TEST_F(AlignFolder, FolderAlignedBeforeDetectMaxSideExistedWasDetectedAtFullSize) {
  auto o = options(t_);
  o.face.detect_max_side = 0;
  align_folder(o);
  // The settings file as a version without face.detect_max_side wrote it.
  const fs::path file = fs::path(o.out) / "fer_align.json";
  auto settings = nlohmann::json::parse(slurp(file));
  settings["face"].erase("detect_max_side");
  std::ofstream(file) << settings.dump(2);
  EXPECT_EQ(align_folder(o).aligned, 0U);  // full-size detection, as that version did: continues
  o.face.detect_max_side = 1024;
  const std::string msg = error_of<UsageError>([&] { align_folder(o); });
  EXPECT_HAS(msg, "face.detect_max_side (now 1024, in the file 0)");
}

TEST_F(AlignFolder, BadFoldersAndModels) {
  auto o = options(t_);
  o.in = t_.str("nope");
  EXPECT_HAS(error_of<UsageError>([&] { align_folder(o); }), t_.str("nope"));
  o.in = t_.str("raw/a/tom.jpg");
  EXPECT_HAS(error_of<UsageError>([&] { align_folder(o); }), "not a folder");
  o = options(t_);
  o.out = t_.str("raw/a/aligned");
  EXPECT_HAS(error_of<UsageError>([&] { align_folder(o); }), "inside --in");
  o.out = t_.str("raw");
  EXPECT_HAS(error_of<UsageError>([&] { align_folder(o); }), "inside --in");
  fs::create_directories(t_.path() / "empty");
  o = options(t_);
  o.in = t_.str("empty");
  EXPECT_HAS(error_of<DataError>([&] { align_folder(o); }), "no images");
  o = options(t_);
  o.multi = "some";
  EXPECT_HAS(error_of<UsageError>([&] { align_folder(o); }), "--multi");

  o = options(t_);
  o.face.landmark_model = t_.str("missing_landmarks.dat");
  const std::string msg = error_of<IoError>([&] { align_folder(o); });
  EXPECT_HAS(msg, "missing_landmarks.dat");
  EXPECT_HAS(msg, "libdlib-data");
  EXPECT_FALSE(fs::exists(fs::path(o.out) / "fer_align.json"));  // nothing done
  EXPECT_FALSE(fs::exists(fs::path(o.out) / "manifest.csv"));
}

TEST_F(AlignFolder, SourcesSharingAStemGetDistinctOutputs) {
  const fs::path in = t_.path() / "small";
  fs::create_directories(in / "c");
  fs::copy_file(t_.path() / "raw/a/tom.jpg", in / "c/x.jpg");
  fs::copy_file(t_.path() / "raw/a/group.png", in / "c/x.png");
  fs::copy_file(t_.path() / "raw/a/tom.jpg", in / "top.jpg");  // files directly in --in work too
  auto o = options(t_);
  o.in = in.string();
  const AlignSummary s = align_folder(o);
  EXPECT_EQ(s.aligned, 3U);
  EXPECT_TRUE(fs::exists(fs::path(o.out) / "c/x_jpg.png"));
  EXPECT_TRUE(fs::exists(fs::path(o.out) / "c/x_png.png"));
  EXPECT_TRUE(fs::exists(fs::path(o.out) / "top.png"));
}

}  // namespace
}  // namespace fer::face
