// fer infer's session in the library (fer/infer/session.hpp): inputs found and typed, images and
// video frames analysed in order, failures of one source not stopping the others, side outputs
// (JSON lines, crops, annotated copies), max_frames and the stop flag. A tiny model trained on
// generated faces; detector "none", so every image or frame is one face crop.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/data/synth.hpp"
#include "fer/infer/analyzer.hpp"
#include "fer/infer/output.hpp"
#include "fer/infer/predictor.hpp"
#include "fer/infer/session.hpp"
#include "test_util.hpp"
#include "tiny_run.hpp"

namespace {
namespace fs = std::filesystem;
using fer::test::TempDir;

// One tiny run for the whole suite (training it takes a few seconds).
class Session : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // Detector "none": every image or frame is one face crop.
    fer::test::train_tiny_run(dir_->str("data"), dir_->str("run"), 3, 20, 40, 1, "none");
  }
  static void TearDownTestSuite() { delete dir_; }

  // A photo-like input: a generated face of class `cls`, 40 px, gray.
  static std::string write_face(const std::string& path, int cls, uint64_t seed) {
    fs::create_directories(fs::path(path).parent_path());
    EXPECT_TRUE(cv::imwrite(path, fer::data::render_synthetic_face(cls, 40, seed)));
    return path;
  }
  // An MJPG AVI of `frames` generated faces (BGR, as cameras deliver).
  static std::string write_video(const std::string& path, int frames) {
    cv::VideoWriter w(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, cv::Size(40, 40));
    EXPECT_TRUE(w.isOpened());
    for (int i = 0; i < frames; ++i) w.write(fer::data::render_synthetic_face(i % 3, 40, 100 + i, /*gray=*/false));
    return path;
  }
  static std::vector<nlohmann::json> json_lines(const std::string& path) {
    std::vector<nlohmann::json> rows;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
    return rows;
  }

  static TempDir* dir_;
};
TempDir* Session::dir_ = nullptr;

TEST_F(Session, CollectSourcesTypesFilesAndExpandsFoldersInOrder) {
  TempDir t;
  write_face(t.str("in/b/2.png"), 0, 1);
  write_face(t.str("in/a/1.png"), 1, 2);
  write_video(t.str("in/clip.avi"), 2);
  std::ofstream(t.str("in/notes.txt")) << "not a face";  // unknown extension, not an image: ignored in folders
  fs::copy_file(t.str("in/a/1.png"), t.str("renamed.dat"));  // an image under an unknown extension
  std::ofstream(t.str("garbage.dat")) << "neither an image nor a video";
  fs::create_directories(t.str("empty"));

  std::vector<std::string> failures;
  const auto s = fer::infer::collect_sources(
      {t.str("in"), t.str("renamed.dat"), t.str("garbage.dat"), t.str("missing.png"), t.str("empty")}, failures);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].name, t.str("in/a/1.png"));  // sorted, recursive
  EXPECT_EQ(s[1].name, t.str("in/b/2.png"));
  EXPECT_EQ(s[2].name, t.str("in/clip.avi"));
  EXPECT_FALSE(s[0].video);
  EXPECT_TRUE(s[2].video);
  EXPECT_FALSE(s[3].video) << "a PNG named .dat is an image";
  EXPECT_TRUE(s[4].video) << "an undecodable file of unknown type is tried as a video";
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0], t.str("missing.png") + ": no such file or folder");
  EXPECT_EQ(failures[1], t.str("empty") + ": folder holds no images or videos");
  const auto cam = fer::infer::camera_source(2);
  EXPECT_EQ(cam.name, "camera:2");
  EXPECT_TRUE(cam.video);
  EXPECT_EQ(cam.camera, 2);
}

TEST_F(Session, CheckedFaceConfigRefusesMmodWithoutModelAndBadValues) {
  fer::config::FaceConfig fc;
  fc.detector = "mmod";
  EXPECT_THROW(fer::infer::checked_face_config(fc, "test"), fer::UsageError);
  fc.detector = "hog";
  fc.detect_max_side = -5;
  const auto msg = fer::test::error_of<fer::ConfigError>([&] { fer::infer::checked_face_config(fc, "my options"); });
  EXPECT_NE(msg.find("my options"), std::string::npos) << msg;
  fc.detect_max_side = 800;
  EXPECT_EQ(fer::infer::checked_face_config(fc, "test").detect_max_side, 800);
}

TEST_F(Session, ImagesAndVideoFramesAreAnalysedWrittenAndFailuresListed) {
  TempDir t;
  fer::infer::Predictor model(fer::infer::resolve_checkpoint(dir_->str("run")), "cpu");
  fer::infer::FaceAnalyzer analyzer(model, model.config().face, {});
  std::vector<fer::infer::Source> sources = {
      {write_face(t.str("a.png"), 0, 7), false, -1},
      {t.str("missing.png"), false, -1},  // unreadable: a failure, the others go on
      {write_video(t.str("clip.avi"), 6), true, -1},
      {write_face(t.str("sub/a.png"), 2, 8), false, -1},  // same stem: its outputs get other names
  };
  fer::infer::FaceWriter out(model.class_names(), false, false);
  out.open_json(t.str("faces.jsonl"));
  fer::infer::SessionOptions o;
  o.every = 2;
  o.crops_dir = t.str("crops");
  o.annotate_dir = t.str("annotated");
  const auto s = fer::infer::run_session(analyzer, sources, o, out);

  EXPECT_EQ(s.images, 2u);
  EXPECT_EQ(s.videos, 1u);
  EXPECT_EQ(s.frames, 3u) << "6 frames, every 2nd";
  EXPECT_EQ(s.faces, 5u) << "one crop per image and per analysed frame (detector none)";
  EXPECT_EQ(s.faceless_frames, 0u);
  EXPECT_FALSE(s.stopped);
  ASSERT_EQ(s.failures.size(), 1u);
  EXPECT_EQ(s.failures[0].rfind(t.str("missing.png"), 0), 0u) << s.failures[0];

  const auto rows = json_lines(t.str("faces.jsonl"));
  ASSERT_EQ(rows.size(), 5u) << "the .partial file was renamed into place and holds every face";
  EXPECT_FALSE(fs::exists(t.str("faces.jsonl.partial")));
  EXPECT_EQ(rows[0]["source"], t.str("a.png"));
  EXPECT_FALSE(rows[0].contains("frame"));
  EXPECT_EQ(rows[1]["source"], t.str("clip.avi"));
  EXPECT_EQ(rows[1]["frame"], 0);
  EXPECT_EQ(rows[2]["frame"], 2);
  EXPECT_EQ(rows[3]["frame"], 4);
  EXPECT_NEAR(rows[2]["time"].get<double>(), 0.2, 1e-3) << "frame 2 at 10 fps";
  EXPECT_EQ(rows[1]["id"], rows[3]["id"]) << "one face tracked through the video";
  for (const auto& r : rows) {
    double sum = 0;
    for (const auto& [k, v] : r["probs"].items()) sum += v.get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-4);
    EXPECT_TRUE(fs::exists(r["crop"].get<std::string>())) << r.dump();
  }
  EXPECT_TRUE(fs::exists(t.str("annotated/a.png")));
  EXPECT_TRUE(fs::exists(t.str("annotated/a_2.png"))) << "the second a.png does not overwrite the first";
  EXPECT_TRUE(fs::exists(t.str("annotated/clip.avi")));
  EXPECT_EQ(std::distance(fs::directory_iterator(t.str("crops")), fs::directory_iterator()), 5);
}

TEST_F(Session, MaxFramesAndTheStopFlagEndEarly) {
  TempDir t;
  fer::infer::Predictor model(fer::infer::resolve_checkpoint(dir_->str("run")), "cpu");
  fer::infer::FaceAnalyzer analyzer(model, model.config().face, {});
  const std::vector<fer::infer::Source> sources = {{write_video(t.str("clip.avi"), 8), true, -1},
                                                   {write_face(t.str("a.png"), 1, 9), false, -1}};
  {
    fer::infer::FaceWriter out(model.class_names(), false, false);
    fer::infer::SessionOptions o;
    o.max_frames = 3;
    const auto s = fer::infer::run_session(analyzer, sources, o, out);
    EXPECT_EQ(s.frames, 3u);
    EXPECT_EQ(s.images, 1u) << "max_frames limits each video, not the session";
  }
  std::atomic<bool> stop{true};
  fer::infer::FaceWriter out(model.class_names(), false, false);
  out.open_json(t.str("stopped.jsonl"));
  fer::infer::SessionOptions o;
  o.stop = &stop;
  const auto s = fer::infer::run_session(analyzer, sources, o, out);
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.images + s.frames, 0u);
  EXPECT_TRUE(fs::exists(t.str("stopped.jsonl"))) << "a stopped session still finishes its files";
}

}  // namespace
