// The config's face section and its adoption from a folder written by `fer align`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/data/prepare.hpp"
#include "test_util.hpp"

namespace fer {
namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(FaceConfig, DefaultsAreHogWithEyeAlignment) {
  const config::Config c = config::parse_config(R"({"data": {"path": "d"}})", "<string>");
  EXPECT_EQ(c.face.detector, "hog");
  EXPECT_EQ(c.face.align, "eyes");
  EXPECT_DOUBLE_EQ(c.face.eye_x, 0.35);
  EXPECT_EQ(config::to_json(c).at("face").at("detector"), "hog");
}

TEST(FaceConfig, LoadFromFileTakesFaceKeysOrAFaceSection) {
  test::TempDir t;
  write(t.str("plain.json"), R"({"detector": "haar", "size": 64})");
  write(t.str("section.json"), R"({"name": "x", "face": {"align": "box", "size": 48}})");
  write(t.str("bad.json"), "{\"detector\": ");
  write(t.str("typo.json"), R"({"detecter": "haar"})");
  EXPECT_EQ(config::load_face_config(t.str("plain.json")).detector, "haar");
  EXPECT_EQ(config::load_face_config(t.str("plain.json")).size, 64);
  EXPECT_EQ(config::load_face_config(t.str("section.json")).align, "box");
  EXPECT_EQ(config::load_face_config(t.str("section.json")).size, 48);
  std::string msg = test::error_of<ConfigError>([&] { config::load_face_config(t.str("bad.json")); });
  EXPECT_NE(msg.find(t.str("bad.json") + ": not valid JSON"), std::string::npos) << msg;
  msg = test::error_of<ConfigError>([&] { config::load_face_config(t.str("typo.json")); });
  EXPECT_NE(msg.find("detecter"), std::string::npos) << msg;
  EXPECT_THROW(config::load_face_config(t.str("missing.json")), Error);
}

TEST(FaceConfig, TypoAndBadValuesNameFileLineAndPath) {
  std::string msg = test::error_of<ConfigError>(
      [] { config::parse_config("{\"data\": {\"path\": \"d\"},\n \"face\": {\n  \"detecter\": \"hog\"\n }\n}", "x.json"); });
  EXPECT_HAS(msg, "x.json:3: /face/detecter: unknown key");
  EXPECT_HAS(msg, "detector");  // the suggestion
  msg = test::error_of<ConfigError>([] { config::parse_config(R"({"data": {"path": "d"}, "face": {"eye_x": 0.7}})", "x.json"); });
  EXPECT_HAS(msg, "/face/eye_x");
  msg = test::error_of<ConfigError>([] { config::parse_config(R"({"data": {"path": "d"}, "face": {"detector": "mmod"}})", "x.json"); });
  EXPECT_HAS(msg, "/face/mmod_model");
  msg = test::error_of<ConfigError>([] { config::parse_config(R"({"data": {"path": "d"}, "face": {"detector": "yolo"}})", "x.json"); });
  EXPECT_HAS(msg, "hog");
}

TEST(FaceConfig, RoundTripsThroughJson) {
  config::FaceConfig f;
  f.detector = "haar";
  f.align = "box";
  f.size = 112;
  f.eye_y = 0.4;
  f.box_padding = 0.25;
  const config::FaceConfig back = config::parse_face_config(config::face_to_json(f), "<test>");
  EXPECT_EQ(config::face_to_json(back), config::face_to_json(f));
}

TEST(FaceConfig, ShippedFaceConfigsParse) {
  const auto dir = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "configs" / "face";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " not found";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    SCOPED_TRACE(e.path().string());
    std::ifstream in(e.path());
    const nlohmann::json j = nlohmann::json::parse(in);
    EXPECT_NO_THROW(config::parse_face_config(j, e.path().string()));
    ++n;
  }
  EXPECT_GE(n, 2);
}

TEST(AdoptAlignment, TakesTheFaceSectionOfAnAlignedFolder) {
  test::TempDir dir;
  config::Config cfg;
  cfg.data.format = "image_folder";
  cfg.data.path = dir.str();
  EXPECT_EQ(data::adopt_alignment(cfg), "");  // no fer_align.json: nothing changes
  EXPECT_EQ(cfg.face.align, "eyes");

  config::FaceConfig aligned;
  aligned.detector = "haar";
  aligned.size = 96;
  aligned.eye_x = 0.3;
  write(dir.str("fer_align.json"), nlohmann::json{{"face", config::face_to_json(aligned)}, {"gray", true}}.dump());
  EXPECT_EQ(data::adopt_alignment(cfg), dir.str("fer_align.json"));
  EXPECT_EQ(config::face_to_json(cfg.face), config::face_to_json(aligned));

  cfg.data.format = "fer2013_csv";  // other formats never adopt
  cfg.face = config::FaceConfig();
  EXPECT_EQ(data::adopt_alignment(cfg), "");
  EXPECT_EQ(cfg.face.detector, "hog");
}

TEST(AdoptAlignment, BrokenFileIsADataErrorNamingIt) {
  test::TempDir dir;
  config::Config cfg;
  cfg.data.path = dir.str();
  write(dir.str("fer_align.json"), "{\"face\": ");
  EXPECT_HAS(test::error_of<DataError>([&] { data::adopt_alignment(cfg); }), "fer_align.json");
  write(dir.str("fer_align.json"), R"({"data": {"path": "d"}, "face": {"eye_x": 2}})");
  EXPECT_HAS(test::error_of<ConfigError>([&] { data::adopt_alignment(cfg); }), "eye_x");
  write(dir.str("fer_align.json"), R"({"gray": true})");
  EXPECT_HAS(test::error_of<DataError>([&] { data::adopt_alignment(cfg); }), "\"face\"");
}

}  // namespace
}  // namespace fer
