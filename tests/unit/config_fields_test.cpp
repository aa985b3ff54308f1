// The config's field declarations (src/config/config.cpp): one per field, and everything that
// follows from them (to_json, the reference table, the resume rules) agrees with them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "fer/config/config.hpp"
#include "test_util.hpp"

namespace fc = fer::config;

namespace {

/// The dotted keys of every leaf of a written config (data.label_map and model.fallback are
/// values: their keys are class and modality names).
void leaves(const nlohmann::json& j, const std::string& prefix, std::multiset<std::string>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = prefix + it.key();
    if (it->is_object() && key != "data.label_map" && key != "model.fallback") {
      leaves(*it, key + ".", out);
    } else {
      out.insert(key);
    }
  }
}

}  // namespace

TEST(ConfigFields, EveryWrittenKeyIsDeclaredOnceAndEveryDeclarationIsWritten) {
  std::multiset<std::string> written;
  leaves(fc::to_json(fc::Config{}), "", written);
  std::multiset<std::string> declared;
  for (const auto& f : fc::field_docs()) declared.insert(f.key);
  for (const auto& k : declared) EXPECT_EQ(declared.count(k), 1u) << k << " is declared twice";
  EXPECT_EQ(written, declared);
  EXPECT_GT(declared.size(), 100u);  // the whole schema, not a section of it
  EXPECT_EQ(declared.count("train.lr"), 1u);
  EXPECT_EQ(declared.count("data.split.fold"), 1u);
}

TEST(ConfigFields, DefaultsAndValuesComeFromTheDeclarations) {
  const auto find = [](const std::string& key) {
    for (const auto& f : fc::field_docs()) {
      if (f.key == key) return f;
    }
    ADD_FAILURE() << key << " not declared";
    return fc::FieldDoc{};
  };
  EXPECT_EQ(find("train.lr").values, "a number > 0");
  EXPECT_EQ(find("train.lr").default_value, "0.001");
  EXPECT_EQ(find("train.optimizer").values, "one of \"sgd\", \"adam\", \"adamw\"");
  EXPECT_EQ(find("train.optimizer").default_value, "\"adam\"");
  EXPECT_EQ(find("augment.hflip").values, "a number in [0, 1]");
  EXPECT_EQ(find("data.split.fold").values, "an integer in [1, folds]");
  // A registry's names, not an enum: the schedule registry's.
  EXPECT_EQ(find("train.scheduler").values, "one of \"none\", \"cosine\", \"step\", \"plateau\"");
}

TEST(ConfigFields, ResumeAndKfoldRulesFollowTheFlags) {
  const auto as_set = [](const std::vector<std::string>& v) {
    return std::set<std::string>(v.begin(), v.end());
  };
  EXPECT_EQ(as_set(fc::runtime_fields()),
            (std::set<std::string>{"/device", "/threads", "/data/workers", "/data/prefetch"}));
  EXPECT_EQ(as_set(fc::resume_free_fields()),
            (std::set<std::string>{"/device", "/threads", "/data/workers", "/data/prefetch", "/train/epochs",
                                   "/train/early_stopping"}));
}

TEST(ConfigFields, ReferenceIsUpToDate) {
  const std::string path = std::string(FER_SOURCE_DIR) + "/docs/config_reference.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const std::string marker = "<!-- table -->\n";
  const size_t at = text.find(marker);
  ASSERT_NE(at, std::string::npos) << path << " lacks the line " << marker;
  EXPECT_EQ(text.substr(at + marker.size()), fc::field_reference_markdown())
      << path << " is out of date: regenerate it as its first lines say (fer list keys)";
}

TEST(Choice, SpellingsRoundTripAndUnknownWordsAreProgrammingErrors) {
  fc::Choice<fc::Optimizer> o = fc::Optimizer::kSgd;
  EXPECT_EQ(o.name(), "sgd");
  EXPECT_TRUE(o == fc::Optimizer::kSgd);
  EXPECT_TRUE(o == "sgd");
  EXPECT_TRUE(o != "adamw");
  o = "adamw";
  EXPECT_EQ(o.value(), fc::Optimizer::kAdamW);
  EXPECT_EQ(fmt::format("{}", o), "adamw");
  EXPECT_EQ(fc::Choice<fc::Optimizer>::names(), (std::vector<std::string>{"sgd", "adam", "adamw"}));
  EXPECT_EQ(fc::Choice<fc::Stem>("3x3").value(), fc::Stem::k3x3);
  // A misspelt word in code is never a silent "not equal": it throws, with the spellings.
  EXPECT_HAS(fer::test::error_of<std::invalid_argument>([&] { (void)(o == "sdg"); }),
             "expected one of \"sgd\", \"adam\", \"adamw\", got \"sdg\" (did you mean \"sgd\"?)");
  EXPECT_THROW(o = "rmsprop", std::invalid_argument);
  EXPECT_EQ(o, fc::Optimizer::kAdamW);  // unchanged by the failed assignment
}

TEST(Choice, ConfigReaderNamesTheFileLineAndSpellings) {
  const auto msg = fer::test::error_of<fer::ConfigError>([] {
    fc::parse_config("{\n \"data\": {\"path\": \"x\"},\n \"train\": {\"optimizer\": \"adamm\"}\n}", "t.json");
  });
  EXPECT_HAS(msg, "t.json:3: /train/optimizer: expected one of \"sgd\", \"adam\", \"adamw\", got \"adamm\"");
  const fc::Config c =
      fc::parse_config(R"({"data": {"path": "x"}, "train": {"optimizer": "sgd"}})", "t.json");
  EXPECT_EQ(c.train.optimizer.value(), fc::Optimizer::kSgd);
}
