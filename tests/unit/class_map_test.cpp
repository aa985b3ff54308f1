#include "fer/eval/class_map.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fer/core/error.hpp"

namespace {

using fer::eval::build_class_map;
using fer::eval::ClassMap;

const std::vector<std::string> kFer = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
const std::vector<std::string> kCk = {"anger", "disgust", "fear", "happy", "sadness", "surprise", "contempt"};

std::string message_of(const std::vector<std::string>& model, const std::vector<std::string>& data,
                       const std::vector<std::string>& entries, const std::vector<std::string>& exclude) {
  try {
    build_class_map(model, data, entries, exclude);
  } catch (const fer::UsageError& e) {
    return e.what();
  }
  return "no error";
}

#define EXPECT_HAS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

}  // namespace

TEST(ClassMap, SameClassesAreTheIdentity) {
  const ClassMap m = build_class_map(kFer, kFer, {}, {});
  EXPECT_TRUE(m.identity());
  EXPECT_EQ(m.dataset_classes, kFer);
  EXPECT_EQ(m.target, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(ClassMap, SynonymsMatchFer2013ModelOnCkPlusAndContemptMustBeHandled) {
  // CK+ contempt receives no FER2013 class: an error naming both ways out.
  const std::string msg = message_of(kFer, kCk, {}, {});
  EXPECT_HAS(msg, "dataset class contempt receives no class of the model");
  EXPECT_HAS(msg, "--class-map MODEL_CLASS=contempt");
  EXPECT_HAS(msg, "--exclude-class contempt");
  const ClassMap m = build_class_map(kFer, kCk, {}, {"contempt"});
  EXPECT_FALSE(m.identity());
  EXPECT_EQ(m.dataset_classes,
            (std::vector<std::string>{"anger", "disgust", "fear", "happy", "sadness", "surprise"}));
  // angry->anger, sad->sadness by synonym; neutral has no CK+ class and is left out.
  EXPECT_EQ(m.target, (std::vector<int>{0, 1, 2, 3, 4, 5, -1}));
  EXPECT_EQ(m.label_map, (std::vector<int>{0, 1, 2, 3, 4, 5, -1}));
  const auto lines = m.describe();
  EXPECT_EQ(lines.front(), "angry -> anger");
  EXPECT_EQ(lines[lines.size() - 2], "left out (model classes): neutral");
  EXPECT_EQ(lines.back(), "excluded (dataset classes): contempt");
}

TEST(ClassMap, SevenClassModelOnAThreeClassDatasetSumsProbabilities) {
  const std::vector<std::string> three = {"negative", "neutral", "positive"};
  // Without a map only neutral matches.
  EXPECT_HAS(message_of(kFer, three, {}, {}), "dataset class negative receives no class");
  const auto entries = fer::eval::read_class_map_entries(
      {"angry=negative,disgust=negative,fear=negative,sad=negative", "happy=positive,surprise=-"});
  ASSERT_EQ(entries.size(), 6u);
  const ClassMap m = build_class_map(kFer, three, entries, {});
  EXPECT_EQ(m.target, (std::vector<int>{0, 0, 0, 2, 0, -1, 1}));
  //                     angry disgust fear happy sad surprise neutral
  const std::vector<float> probs = {0.1f, 0.1f, 0.1f, 0.2f, 0.1f, 0.2f, 0.2f};
  const auto s = fer::eval::map_probabilities(m, probs);
  ASSERT_EQ(s.size(), 3u);
  // surprise (0.2) is left out, the rest renormalised over 0.8.
  EXPECT_NEAR(s[0], 0.4 / 0.8, 1e-6);
  EXPECT_NEAR(s[1], 0.2 / 0.8, 1e-6);
  EXPECT_NEAR(s[2], 0.2 / 0.8, 1e-6);
}

TEST(ClassMap, ExplicitEntriesWinAndBadNamesAreNamed) {
  const ClassMap m = build_class_map({"a", "b"}, {"a", "b"}, {"a=b", "b=a"}, {});
  EXPECT_FALSE(m.identity());
  EXPECT_EQ(m.target, (std::vector<int>{1, 0}));
  EXPECT_HAS(message_of({"a", "b"}, {"a", "b"}, {"x=a"}, {}),
             "--class-map x=a: x is not a class of the model (its classes: a, b)");
  EXPECT_HAS(message_of({"a", "b"}, {"a", "b"}, {"a=y"}, {}),
             "--class-map a=y: y is not a class of the dataset");
  EXPECT_HAS(message_of({"a", "b"}, {"a", "b"}, {"ab"}, {}),
             "--class-map ab: expected MODEL_CLASS=DATASET_CLASS");
  EXPECT_HAS(message_of({"a", "b"}, {"a", "b"}, {}, {"z"}), "--exclude-class z: not a class of the dataset");
  EXPECT_HAS(message_of({"a", "b"}, {"a", "b"}, {}, {"a", "b"}), "every class of the dataset is excluded");
  // A model class going to an excluded class is left out.
  const ClassMap e = build_class_map({"a", "b"}, {"a", "b"}, {}, {"b"});
  EXPECT_EQ(e.target, (std::vector<int>{0, -1}));
}

TEST(ClassMap, ReadsAJsonFileAndNamesItWhenBroken) {
  const auto dir = std::filesystem::temp_directory_path() / "fer_class_map_test";
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "map.json").string(), bad = (dir / "bad.json").string();
  std::ofstream(good) << R"({"angry": "negative", "surprise": null})";
  std::ofstream(bad) << R"({"angry": 3})";
  EXPECT_EQ(fer::eval::read_class_map_entries({good}),
            (std::vector<std::string>{"angry=negative", "surprise=-"}));
  try {
    fer::eval::read_class_map_entries({bad});
    FAIL() << "no error";
  } catch (const fer::DataError& e) {
    EXPECT_HAS(e.what(), bad + ": /angry: expected the name of a dataset class or null, got 3");
  }
  EXPECT_THROW(fer::eval::read_class_map_entries({(dir / "missing.json").string()}), fer::UsageError);
  std::filesystem::remove_all(dir);
}
