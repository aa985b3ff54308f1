#include "fer/config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fer/core/error.hpp"
#include "test_util.hpp"

namespace {

using fer::config::Config;
using fer::config::parse_config;
using fer::config::to_json;

/// The ConfigError message parsing `text` (origin "t.json") gives, or "<no error>".
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(text, "t.json", overrides);
  } catch (const fer::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

::testing::AssertionResult starts_with(const std::string& text, const std::string& prefix) {
  if (text.compare(0, prefix.size(), prefix) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\"\n does not start with\n\"" << prefix << "\"";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const char* kMinimal = R"({"data": {"path": "data/x"}})";

// Every section differs from the defaults.
const char* kFull = R"({
  "name": "full-run_1.0",
  "seed": 18446744073709551615,
  "device": "cuda:1",
  "threads": 2,
  "deterministic": true,
  "data": {
    "format": "ck_plus_h5",
    "path": "x.h5",
    "classes": ["happy", "sad"],
    "label_map": {"anger": "angry", "sadness": "sad"},
    "split": {"scheme": "stratified_kfold", "ratios": [0.8, 0.1, 0.1], "stratified": false,
              "train": "T", "val": "", "test": "P", "folds": 5, "fold": 5,
              "ck_fold_sizes": [1, 2, 3], "val_fraction": 0.2, "select_on_test": true},
    "workers": 3,
    "prefetch": 2
  },
  "preprocess": {"size": 64, "channels": 3, "normalize": "custom", "mean": [0.5, 0.4, 0.3],
                 "std": [0.2, 0.25, 0.3]},
  "augment": {"crop": 56, "hflip": 0.5, "vflip": 0.1, "rotation": 15, "zoom": 0.2, "shear": 5,
              "translate": 0.1, "perspective": 0.05, "brightness": 0.2, "contrast": 0.3,
              "gaussian_noise": 3, "salt_pepper": 0.01},
  "model": {"name": "resnet18", "stem": "7x7", "init": "pytorch", "pool": "avg4", "se": true, "se_reduction": 8,
            "dropout": 0.3, "width": 32},
  "train": {"epochs": 20, "batch_size": 16, "optimizer": "adamw", "lr": 0.0003, "momentum": 0.8,
            "nesterov": true, "weight_decay": 0.01, "beta1": 0.8, "beta2": 0.99, "scheduler": "plateau",
            "warmup_epochs": 2, "step_size": 4, "gamma": 0.5, "plateau_patience": 5, "plateau_factor": 0.3,
            "min_lr": 1e-6, "label_smoothing": 0.1, "class_weights": [1, 2.5, 0.5], "grad_clip": 5,
            "grad_clip_value": 0.25,
            "select_metric": "macro_f1", "select_tiebreak": "loss", "early_stopping": 7, "budget_minutes": 12.5},
  "eval": {"ten_crop": true, "batch_size": 64}
})";

}  // namespace

TEST(Config, DefaultsFillEverythingButThePath) {
  const Config c = parse_config(kMinimal, "<string>");
  Config expected;
  expected.data.path = "data/x";
  EXPECT_EQ(to_json(c), to_json(expected));
  EXPECT_EQ(c.name, "run");
  EXPECT_EQ(c.seed, 42u);
  EXPECT_EQ(c.train.optimizer, "adam");
  EXPECT_EQ(c.data.split.ratios, (std::vector<double>{0.7, 0.15, 0.15}));
  EXPECT_EQ(c.train.class_weights, "none");
}

TEST(Config, FullConfigFillsEveryField) {
  const Config c = parse_config(kFull, "<string>");
  EXPECT_EQ(c.name, "full-run_1.0");
  EXPECT_EQ(c.seed, 18446744073709551615ull);
  EXPECT_EQ(c.device, "cuda:1");
  EXPECT_EQ(c.threads, 2);
  EXPECT_TRUE(c.deterministic);
  EXPECT_EQ(c.data.format, "ck_plus_h5");
  EXPECT_EQ(c.data.classes, (std::vector<std::string>{"happy", "sad"}));
  EXPECT_EQ(c.data.split.scheme, "stratified_kfold");
  EXPECT_FALSE(c.data.split.stratified);
  EXPECT_EQ(c.data.split.val, "");
  EXPECT_EQ(c.data.split.folds, 5);
  EXPECT_EQ(c.data.split.fold, 5);
  EXPECT_EQ(c.data.split.ck_fold_sizes, (std::vector<int>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(c.data.split.val_fraction, 0.2);
  EXPECT_TRUE(c.data.split.select_on_test);
  EXPECT_EQ(c.data.workers, 3);
  EXPECT_EQ(c.data.prefetch, 2);
  EXPECT_EQ(c.preprocess.size, 64);
  EXPECT_EQ(c.preprocess.normalize, "custom");
  EXPECT_EQ(c.preprocess.std, (std::vector<double>{0.2, 0.25, 0.3}));
  EXPECT_EQ(c.augment.crop, 56);
  EXPECT_DOUBLE_EQ(c.augment.salt_pepper, 0.01);
  EXPECT_DOUBLE_EQ(c.augment.gaussian_noise, 3.0);
  EXPECT_EQ(c.model.stem, "7x7");
  EXPECT_EQ(c.model.init, "pytorch");
  EXPECT_EQ(c.model.pool, "avg4");
  EXPECT_TRUE(c.model.se);
  EXPECT_EQ(c.model.se_reduction, 8);
  EXPECT_EQ(c.model.width, 32);
  EXPECT_EQ(c.train.optimizer, "adamw");
  EXPECT_DOUBLE_EQ(c.train.lr, 3e-4);
  EXPECT_TRUE(c.train.nesterov);
  EXPECT_EQ(c.train.scheduler, "plateau");
  EXPECT_EQ(c.train.warmup_epochs, 2);
  EXPECT_DOUBLE_EQ(c.train.min_lr, 1e-6);
  EXPECT_EQ(c.train.select_metric, "macro_f1");
  EXPECT_EQ(c.train.select_tiebreak, "loss");
  EXPECT_EQ(c.train.early_stopping, 7);
  EXPECT_DOUBLE_EQ(c.train.budget_minutes, 12.5);
  EXPECT_DOUBLE_EQ(c.train.grad_clip_value, 0.25);
  EXPECT_TRUE(c.eval.ten_crop);
  EXPECT_EQ(c.eval.batch_size, 64);
}

TEST(Config, RoundTripThroughToJson) {
  const char* seed_recipe =
      R"({"data": {"path": "x"}, "train": {"epochs": 60, "scheduler": "step", "step_size": 1,
      "gamma": 0.8, "decay_start": 20, "grad_clip_value": 0.1}})";
  for (const char* text : {kMinimal, kFull, seed_recipe}) {
    const Config a = parse_config(text, "<string>");
    const nlohmann::json ja = to_json(a);
    const Config b = parse_config(ja.dump(2), "resolved.json");
    EXPECT_EQ(to_json(b), ja);
    EXPECT_EQ(b.train.class_weights, a.train.class_weights);
    EXPECT_EQ(b.train.class_weight_values, a.train.class_weight_values);
    EXPECT_EQ(b.data.label_map, a.data.label_map);
    EXPECT_EQ(b.seed, a.seed);
    EXPECT_EQ(b.train.decay_start, a.train.decay_start);
  }
  // to_json writes every field, defaults included.
  const nlohmann::json j = to_json(Config{});
  EXPECT_TRUE(j.contains("deterministic"));
  EXPECT_TRUE(j["data"]["split"].contains("ck_fold_sizes"));
  EXPECT_TRUE(j["data"]["label_map"].is_object());
  EXPECT_EQ(j["train"]["class_weights"], "none");
  EXPECT_EQ(j["augment"].size(), 12u);
  EXPECT_EQ(j["train"].size(), 29u);  // the three rank_* keys, decay_start, grad_clip_value, budget_minutes, select_tiebreak and precision included
}

// The checks that need the dataset's class names name the file and line the names and weights
// came from (issue 20, item 13), as the parse-time checks do.
TEST(Config, RecordsWhereClassesAndWeightsWereWritten) {
  const Config c = parse_config(R"({"data": {"path": "x",
    "classes": ["happy",
                "sad"],
    "label_map": {"joy": "happy"}},
  "train": {
    "class_weights": [1, 2, 3]}})", "t.json");
  EXPECT_EQ(c.data.classes_at, (std::vector<std::string>{"t.json:2: /data/classes/0", "t.json:3: /data/classes/1"}));
  EXPECT_EQ(c.data.label_map_at.at("joy"), "t.json:4: /data/label_map/joy");
  EXPECT_EQ(c.train.class_weights_at, "t.json:6: /train/class_weights");
  EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] { fer::config::check_class_weights(c.train, {"happy", "sad"}); }),
             "t.json:6: /train/class_weights: expected one weight per class, got 3 weights for 2 classes (happy, sad)");
  fer::config::check_class_weights(c.train, {"a", "b", "c"});  // three classes: no error

  const Config o = parse_config(R"({"data": {"path": "x"}})", "t.json", {R"(data.classes=["a"])",
                                                                          "train.class_weights=custom",
                                                                          "train.class_weight_values=[1,2]"});
  EXPECT_EQ(o.data.classes_at, (std::vector<std::string>{"--set data.classes=[\"a\"]: /data/classes/0"}));
  EXPECT_EQ(o.train.class_weights_at, "--set train.class_weight_values=[1,2]: /train/class_weight_values");
  EXPECT_FALSE(to_json(c)["data"].contains("classes_at"));
  EXPECT_FALSE(to_json(c)["train"].contains("class_weights_at"));
}

TEST(Config, ClassWeightsAcceptBothForms) {
  Config c = parse_config(R"({"data": {"path": "x"}, "train": {"class_weights": "balanced"}})", "<string>");
  EXPECT_EQ(c.train.class_weights, "balanced");
  EXPECT_TRUE(c.train.class_weight_values.empty());
  EXPECT_EQ(to_json(c)["train"]["class_weights"], "balanced");

  c = parse_config(R"({"data": {"path": "x"}, "train": {"class_weights": [1, 2.5, 0]}})", "<string>");
  EXPECT_EQ(c.train.class_weights, "custom");
  EXPECT_EQ(c.train.class_weight_values, (std::vector<double>{1, 2.5, 0}));
  EXPECT_EQ(to_json(c)["train"]["class_weights"], nlohmann::json::parse("[1.0, 2.5, 0.0]"));

  c = parse_config(R"({"data": {"path": "x"},
    "train": {"class_weights": "custom", "class_weight_values": [3, 1]}})", "<string>");
  EXPECT_EQ(c.train.class_weights, "custom");
  EXPECT_EQ(c.train.class_weight_values, (std::vector<double>{3, 1}));

  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"},
    "train": {"class_weights": "custom"}})"),
                          "t.json:2: /train/class_weight_values: required key missing"));
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"},
    "train": {"class_weights": "auto"}})"),
                          "t.json:2: /train/class_weights: expected one of \"none\", \"balanced\", \"custom\" "
                          "or an array of weights, got \"auto\""));
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"}, "train": {
    "class_weights": [1,
      -2]}})"),
                          "t.json:3: /train/class_weights/1: expected a number >= 0, got -2"));
}

TEST(Config, LabelMapAndClasses) {
  const Config c = parse_config(R"({"data": {"path": "x", "classes": ["happy", "neutral"],
    "label_map": {"happiness": "happy", "contempt": "neutral", "a/b~c": "neutral"}}})", "<string>");
  EXPECT_EQ(c.data.label_map.size(), 3u);
  EXPECT_EQ(c.data.label_map.at("happiness"), "happy");
  EXPECT_EQ(c.data.label_map.at("a/b~c"), "neutral");
  EXPECT_EQ(c.data.classes, (std::vector<std::string>{"happy", "neutral"}));

  // Keys with escapes map to the right pointer and line.
  EXPECT_EQ(error_of(R"({"data": {"path": "x", "label_map": {
    "happiness": "happy",
    "a/b~c\"d\u00e9": 3}}})"),
            "t.json:3: /data/label_map/a~1b~0c\"d\xC3\xA9: expected a non-empty string, got 3");
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x",
  "label_map": ["happy"]}})"),
                          "t.json:2: /data/label_map: expected an object"));
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x",
  "classes": ["happy", "sad", "happy"]}})"),
                          "t.json:2: /data/classes/2: expected distinct class names, got \"happy\" twice"));
}

TEST(Config, UnknownNestedKeyNamesLineAndSuggests) {
  const std::string text = R"({
  "data": {
    "path": "x",
    "split": {
      "scheme": "ratio",
      "shceme": "ratio"
    }
  }
})";
  const std::string msg = error_of(text);
  EXPECT_TRUE(starts_with(msg, "t.json:6: /data/split/shceme: unknown key (did you mean \"scheme\"?); known keys: "
                               "scheme, ratios, stratified,"));
}

TEST(Config, UnknownKeySuggestsByAlias) {
  const std::string text = R"({
  "data": {"path": "x"},
  "train": {
    "epochs": 3,
    "lerning_rate": 0.1
  }
})";
  EXPECT_TRUE(starts_with(error_of(text), "t.json:5: /train/lerning_rate: unknown key (did you mean \"lr\"?); "
                                          "known keys: epochs, batch_size, optimizer, lr,"));
  // No close key: no suggestion, but the list.
  const std::string msg = error_of(R"({"data": {"path": "x"},
  "zzzzzz": 1})");
  EXPECT_TRUE(starts_with(msg, "t.json:2: /zzzzzz: unknown key; known keys: name, seed, device, threads,")) << msg;
}

TEST(Config, WrongTypes) {
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "train": {
    "lr": "fast"}})"),
            "t.json:3: /train/lr: expected a number > 0, got \"fast\"");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"}, "train": {
    "epochs": 1.5}})"),
            "t.json:2: /train/epochs: expected an integer >= 1, got 1.5");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"}, "train": {
    "epochs": 3.0}})"),
            "t.json:2: /train/epochs: expected an integer >= 1, got 3.0");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "deterministic": "yes"})"),
            "t.json:2: /deterministic: expected true or false, got \"yes\"");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "seed": -1})"),
            "t.json:2: /seed: expected a non-negative integer, got -1");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "model": {"name": 18}})"),
            "t.json:2: /model/name: expected a non-empty string, got 18");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "train": [1]})"),
            "t.json:2: /train: expected an object, got [1]");
  EXPECT_EQ(error_of("[1, 2]"), "t.json:1: /: expected an object, got [1,2]");
  EXPECT_EQ(error_of(R"({"data": {"path": "x", "split": {
    "ratios": [0.7,
               0.15,
               "0.15"]}}})"),
            "t.json:4: /data/split/ratios/2: expected a number >= 0, got \"0.15\"");
}

TEST(Config, OutOfRange) {
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "model": {
    "dropout": 1}})"),
            "t.json:3: /model/dropout: expected a number in [0, 1), got 1");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"}, "preprocess": {"size": 4}})"),
            "t.json:1: /preprocess/size: expected an integer in [8, 1024], got 4");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "preprocess": {"size": 48},
  "augment": {"crop": 50}})"),
            "t.json:3: /augment/crop: expected an integer in [0, 48], got 50");
  EXPECT_EQ(error_of(R"({"data": {"path": "x", "split": {"folds": 5,
    "fold": 6}}})"),
            "t.json:2: /data/split/fold: expected an integer in [1, 5] (1 <= fold <= folds), got 6");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"}, "train": {"epochs": 2,
    "warmup_epochs": 2}})"),
            "t.json:2: /train/warmup_epochs: expected an integer in [0, 2) (below epochs), got 2");
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"}, "train": {"epochs": 10, "scheduler": "step",
    "decay_start": -1}})"),
                          "t.json:2: /train/decay_start: expected an integer >= 0"));
  EXPECT_EQ(
      error_of(R"({"data": {"path": "x"}, "train": {"epochs": 10, "scheduler": "cosine",
    "decay_start": 3}})"),
      "t.json:2: /train/decay_start: expected 0 unless scheduler is \"step\" (the decays it delays are the "
      "step schedule's), got 3 with scheduler \"cosine\"");
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"}, "train": {"grad_clip_value": -1}})"),
                          "t.json:1: /train/grad_clip_value: expected a number >= 0"));
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x", "split": {
    "ratios": [0.5, 0.2, 0.2]}}})"),
                          "t.json:2: /data/split/ratios: expected fractions summing to 1, got [0.5,0.2,0.2]"));
  EXPECT_EQ(error_of(R"({"data": {"path": "x", "split": {
    "ratios": [0.9, 0.1, 0]}}})"),
            "t.json:2: /data/split/ratios/2: expected a test fraction > 0, got 0");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "preprocess": {"channels": 2}})"),
            "t.json:2: /preprocess/channels: expected 1 or 3, got 2");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "augment": {"hflip": 1.5}})"),
            "t.json:2: /augment/hflip: expected a number in [0, 1], got 1.5");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "train": {"gamma": 0}})"),
            "t.json:2: /train/gamma: expected a number in (0, 1], got 0");
}

TEST(Config, EnumsListTheAllowedValues) {
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "train": {"optimizer": "Adam"}})"),
            "t.json:2: /train/optimizer: expected one of \"sgd\", \"adam\", \"adamw\", got \"Adam\" "
            "(did you mean \"adam\"?)");
  EXPECT_EQ(error_of(R"({"data": {"path": "x", "split": {"scheme": "kfold"}}})"),
            "t.json:1: /data/split/scheme: expected one of \"ratio\", \"predefined\", \"ck_plus_folds\", "
            "\"stratified_kfold\", got \"kfold\"");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "device": "gpu"})"),
            "t.json:2: /device: expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\", got \"gpu\"");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "model": {"init": "kaiming"}})"),
            "t.json:2: /model/init: expected one of \"model\", \"pytorch\", got \"kaiming\"");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"}, "model": {"pool": "avg"}})"),
            "t.json:1: /model/pool: expected one of \"global\", \"avg4\", got \"avg\" (did you mean \"avg4\"?)");
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"},
  "name": "my run"})"),
                          "t.json:2: /name: expected a run name of letters, digits"));
}

TEST(Config, CrossFieldRules) {
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"},
  "eval": {
    "ten_crop": true}})"),
                          "t.json:3: /eval/ten_crop: expected false while augment.crop is 0"));
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"},
  "preprocess": {"channels": 1,
    "normalize": "imagenet"}})"),
                          "t.json:3: /preprocess/normalize: expected channels 3 for \"imagenet\""));
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "preprocess": {"normalize": "custom", "channels": 1,
    "mean": [0.5]}})"),
            "t.json:2: /preprocess/std: required key missing (normalize \"custom\" needs mean and std)");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "preprocess": {"normalize": "custom", "channels": 3, "mean": [0.5, 0.5, 0.5],
    "std": [0.5, 0.5]}})"),
            "t.json:3: /preprocess/std: expected 3 numbers (one per channel), got [0.5,0.5]");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"},
  "preprocess": {"normalize": "custom", "channels": 1, "mean": [0.5],
    "std": [0]}})"),
            "t.json:3: /preprocess/std/0: expected a number > 0, got 0");
  const Config c = parse_config(R"({"data": {"path": "x"}, "augment": {"crop": 44}, "eval": {"ten_crop": true}})",
                                "<string>");
  EXPECT_TRUE(c.eval.ten_crop);
  EXPECT_FALSE(c.eval.flip);
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"}, "augment": {"crop": 44},
  "eval": {"ten_crop": true,
    "flip": true}})"),
                          "t.json:3: /eval/flip: expected false while ten_crop is true"));
  const Config f = parse_config(R"({"data": {"path": "x"}, "eval": {"flip": true}})", "<string>");
  EXPECT_TRUE(f.eval.flip);  // flip needs no crop
  EXPECT_TRUE(fer::config::to_json(f)["eval"]["flip"].get<bool>());
}

TEST(Config, MissingPathReportsParentLine) {
  EXPECT_EQ(error_of(R"({
  "name": "a",
  "data": {
    "format": "image_folder"
  }
})"),
            "t.json:3: /data/path: required key missing (the dataset file or folder)");
  EXPECT_EQ(error_of("{}"), "t.json:1: /data/path: required key missing (the dataset file or folder)");
  EXPECT_EQ(error_of(R"({"data": {"path": ""}})"), "t.json:1: /data/path: expected a non-empty string, got \"\"");
}

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  const std::string msg = error_of(R"({
  "name": "x",
  "data": {"path": "p"}
  "train": {}
})");
  // nlohmann reports the position of the last character it read: the end of "train".
  EXPECT_TRUE(starts_with(msg, "t.json:4:9: invalid JSON: syntax error")) << msg;
  EXPECT_FALSE(contains(msg, "[json.exception"));
  EXPECT_TRUE(starts_with(error_of(""), "t.json:1:1: invalid JSON: "));
  EXPECT_TRUE(starts_with(error_of("{\n  \"a\": 1,\n}"), "t.json:3:1: invalid JSON: "));
}

TEST(Config, DeepNestingAndHugeFilesAreRefusedBeforeParsing) {
  // 40,000 levels overflowed the parser's stack (a segmentation fault) before the depth check.
  const std::string deep = std::string(40000, '[') + std::string(40000, ']');
  EXPECT_EQ(error_of(deep), "t.json:1: objects and arrays nested more than 256 levels deep; a config needs a few");
  // Brackets inside strings do not count.
  const std::string in_string = R"({"data": {"path": ")" + std::string(1000, '[') + R"("}})";
  EXPECT_EQ(error_of(in_string), "<no error>");
  EXPECT_TRUE(contains(error_of(std::string(17u << 20, ' ')), "a config may hold at most 16 MiB"));
}

TEST(Config, SetOverridesWinOverTheFile) {
  const std::string text = R"({"data": {"path": "x"}, "train": {"lr": 0.1, "epochs": 5}})";
  Config c = parse_config(text, "t.json", {"train.lr=0.5", "train.optimizer=sgd", "data.split.fold=3"});
  EXPECT_DOUBLE_EQ(c.train.lr, 0.5);
  EXPECT_EQ(c.train.optimizer, "sgd");
  EXPECT_EQ(c.data.split.fold, 3);
  EXPECT_EQ(c.train.epochs, 5);
  // The last of repeated overrides wins; JSON arrays and objects parse.
  c = parse_config(text, "t.json",
                   {"train.lr=0.5", "train.lr=0.25", "data.split.ratios=[0.8,0.1,0.1]",
                    "data.label_map={\"a\":\"b\"}", "data.label_map.c=d"});
  EXPECT_DOUBLE_EQ(c.train.lr, 0.25);
  EXPECT_EQ(c.data.split.ratios, (std::vector<double>{0.8, 0.1, 0.1}));
  EXPECT_EQ(c.data.label_map, (std::map<std::string, std::string>{{"a", "b"}, {"c", "d"}}));
  // A key the file lacks is created.
  c = parse_config(R"({"data": {"path": "x"}})", "t.json", {"augment.crop=40", "eval.ten_crop=true"});
  EXPECT_EQ(c.augment.crop, 40);
  EXPECT_TRUE(c.eval.ten_crop);
}

TEST(Config, SetValueIsJsonWhenItParsesElseAString) {
  const std::string text = R"({"data": {"path": "x"}})";
  // "0.5" parses as a number; "fast" does not, so it stays a string and fails validation.
  EXPECT_DOUBLE_EQ(parse_config(text, "t.json", {"train.lr=5e-1"}).train.lr, 0.5);
  EXPECT_EQ(error_of(text, {"train.lr=fast"}), "--set train.lr=fast: /train/lr: expected a number > 0, got \"fast\"");
  EXPECT_EQ(error_of(text, {"train.epochs=\"3\""}),
            "--set train.epochs=\"3\": /train/epochs: expected an integer >= 1, got \"3\"");
  // A number given for a string key keeps its text.
  EXPECT_EQ(parse_config(text, "t.json", {"name=2024"}).name, "2024");
  EXPECT_EQ(parse_config(text, "t.json", {"device=cuda:0"}).device, "cuda:0");
  EXPECT_EQ(parse_config(text, "t.json", {"data.path=true"}).data.path, "true");
  EXPECT_TRUE(parse_config(text, "t.json", {"deterministic=true"}).deterministic);
  EXPECT_EQ(parse_config(text, "t.json", {"data.split.val="}).data.split.val, "");
  EXPECT_TRUE(starts_with(error_of(text, {"train.lr=1e999"}), "--set train.lr=1e999: /train/lr: expected a number > 0"));
}

TEST(Config, SetOfUnknownKeyIsAnError) {
  const std::string text = R"({"data": {"path": "x"}})";
  EXPECT_TRUE(starts_with(error_of(text, {"train.lerning_rate=0.1"}),
                          "--set train.lerning_rate=0.1: /train/lerning_rate: unknown key (did you mean \"lr\"?); "
                          "known keys: epochs, batch_size,"));
  EXPECT_TRUE(starts_with(error_of(text, {"trian.lr=0.1"}),
                          "--set trian.lr=0.1: /trian: unknown key (did you mean \"train\"?)"));
  EXPECT_EQ(error_of(text, {"train.lr.x=1"}), "--set train.lr.x=1: /train/lr/x: unknown key (/train/lr is a value, "
                                              "not an object)");
  EXPECT_TRUE(starts_with(error_of(text, {"train.lr"}), "--set train.lr: expected key=value"));
  EXPECT_TRUE(starts_with(error_of(text, {"train..lr=1"}), "--set train..lr=1: empty name"));
  // The --set is reported even when the file has errors further on.
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"}, "train": {"lr": "slow"}})", {"model.nam=x"}),
                          "--set model.nam=x: /model/nam: unknown key (did you mean \"name\"?)"));
}

TEST(Config, LoadConfigUsesThePathAsOrigin) {
  fer::test::TempDir dir;
  const std::string path = dir.str("c.json");
  std::ofstream(path) << "{\n  \"data\": {\"path\": \"x\"},\n  \"train\": {\"epochs\": 0}\n}\n";
  try {
    fer::config::load_config(path);
    FAIL() << "expected ConfigError";
  } catch (const fer::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":3: /train/epochs: expected an integer >= 1, got 0");
  }
  EXPECT_EQ(fer::config::load_config(path, {"train.epochs=2"}).train.epochs, 2);
  try {
    fer::config::load_config(dir.str("missing.json"));
    FAIL() << "expected IoError";
  } catch (const fer::IoError& e) {
    EXPECT_TRUE(contains(e.what(), dir.str("missing.json")));
  }
}

TEST(Config, ShippedConfigsParse) {
  const auto configs = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "configs";
  if (!std::filesystem::is_directory(configs)) GTEST_SKIP() << configs << " not found";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(configs)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) GTEST_SKIP() << "no configs/*.json";
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_NO_THROW({
      const Config c = fer::config::load_config(f.string());
      EXPECT_EQ(to_json(parse_config(to_json(c).dump(2), "resolved")), to_json(c));
    });
  }
}

TEST(Config, ShippedConfigsHoldTheProtocols) {
  const auto configs = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "configs";
  if (!std::filesystem::exists(configs / "ck_plus_resnet18.json")) GTEST_SKIP() << "configs/ not found";
  const Config ck = fer::config::load_config((configs / "ck_plus_resnet18.json").string());
  EXPECT_EQ(ck.data.split.scheme, "ck_plus_folds");
  EXPECT_EQ(ck.augment.crop, 44);
  EXPECT_TRUE(ck.eval.ten_crop);
  EXPECT_EQ(ck.train.optimizer, "sgd");
  EXPECT_EQ(ck.model.init, "pytorch");  // the seed's initialisation: 10+ points on CK+ fold 1 (docs/seed_parity.md)
  const Config demo = fer::config::load_config((configs / "demo.json").string());
  EXPECT_EQ(demo.name, "demo");
  EXPECT_EQ(demo.preprocess.channels, 1);
  EXPECT_EQ(demo.model.width, 16);
}

// ---- model.init_streams and model.fallback (fused visible + infrared models) ----

namespace {
const char* kPairedData = R"("data": {"format": "paired_folder", "path": "x"})";
}  // namespace

TEST(Config, InitStreamsAndFallbackParseAndRoundTrip) {
  const std::string text = std::string("{") + kPairedData + R"(,
  "model": {"name": "fusion_feature", "init_streams": ["runs/v", ""],
            "fallback": {"visible": "runs/v", "infrared": "runs/i/best.pt"}}})";
  const Config c = parse_config(text, "t.json");
  EXPECT_EQ(c.model.init_streams, (std::vector<std::string>{"runs/v", ""}));
  EXPECT_EQ(c.model.fallback,
            (std::map<std::string, std::string>{{"visible", "runs/v"}, {"infrared", "runs/i/best.pt"}}));
  const nlohmann::json j = to_json(c);
  EXPECT_EQ(j["model"]["init_streams"], nlohmann::json::parse(R"(["runs/v", ""])"));
  EXPECT_EQ(j["model"]["fallback"]["infrared"], "runs/i/best.pt");
  EXPECT_EQ(to_json(parse_config(j.dump(2), "resolved.json")), j);
  // Defaults: nothing to load, written as [] and {}.
  const nlohmann::json d = to_json(parse_config(kMinimal, "t.json"));
  EXPECT_EQ(d["model"]["init_streams"], nlohmann::json::array());
  EXPECT_EQ(d["model"]["fallback"], nlohmann::json::object());
  // fusion_late takes init_streams too; --set reaches both keys, fallback by modality name.
  const Config late = parse_config(std::string("{") + kPairedData + "}", "t.json",
                                   {"model.name=fusion_late", "model.init_streams=[\"\",\"runs/i\"]",
                                    "model.fallback.infrared=runs/i"});
  EXPECT_EQ(late.model.init_streams, (std::vector<std::string>{"", "runs/i"}));
  EXPECT_EQ(late.model.fallback.at("infrared"), "runs/i");
}

TEST(Config, InitStreamsErrors) {
  // Not a two-stream model: the key and the model are named.
  EXPECT_EQ(error_of(std::string("{") + kPairedData + R"(,
  "model": {"name": "fusion_early",
    "init_streams": ["runs/v", "runs/i"]}})"),
            "t.json:3: /model/init_streams: expected [] for model \"fusion_early\" (init_streams initialises the two "
            "streams of \"fusion_feature\" and \"fusion_late\"), got [\"runs/v\",\"runs/i\"]");
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"}, "model": {"init_streams": ["a", "b"]}})"),
                          "t.json:1: /model/init_streams: expected [] for model \"resnet18\""));
  // Wrong length and types.
  EXPECT_EQ(error_of(std::string("{") + kPairedData + R"(, "model": {"name": "fusion_late",
    "init_streams": ["runs/v"]}})"),
            "t.json:2: /model/init_streams: expected [] or 2 checkpoints or run directories (one per stream, in "
            "data.paired.modalities order; \"\" = random), got [\"runs/v\"]");
  EXPECT_TRUE(starts_with(error_of(std::string("{") + kPairedData + R"(, "model": {"name": "fusion_late",
    "init_streams": "runs/v"}})"),
                          "t.json:2: /model/init_streams: expected [] or 2 checkpoints"));
  EXPECT_EQ(error_of(std::string("{") + kPairedData + R"(, "model": {"name": "fusion_feature", "init_streams": [
    "runs/v",
    3]}})"),
            "t.json:3: /model/init_streams/1: expected a string, got 3");
  EXPECT_TRUE(starts_with(error_of(std::string("{") + kPairedData + "}", {"model.init_streams=[\"a\",\"b\"]"}),
                          "--set model.init_streams=[\"a\",\"b\"]: /model/init_streams: expected [] for model "
                          "\"resnet18\""));
}

TEST(Config, FallbackErrors) {
  // An unknown modality is named, with the known ones and a suggestion.
  EXPECT_EQ(error_of(R"({"data": {"format": "paired_folder", "path": "x",
    "paired": {"modalities": ["Vis", "IR"]}}, "model": {"name": "fusion_feature", "fallback": {
    "vis": "runs/v"}}})"),
            "t.json:3: /model/fallback/vis: unknown modality \"vis\"; expected one of data.paired.modalities \"Vis\", "
            "\"IR\" (did you mean \"Vis\"?)");
  EXPECT_TRUE(starts_with(error_of(std::string("{") + kPairedData + "}", {"model.fallback.thermal=runs/t"}),
                          "--set model.fallback.thermal=runs/t: /model/fallback/thermal: unknown modality \"thermal\""));
  EXPECT_EQ(error_of(std::string("{") + kPairedData + R"(, "model": {"fallback": {"visible": ""}}})"),
            "t.json:1: /model/fallback/visible: expected a non-empty string, got \"\"");
  EXPECT_TRUE(starts_with(error_of(std::string("{") + kPairedData + R"(, "model": {"fallback": ["runs/v"]}})"),
                          "t.json:1: /model/fallback: expected an object of modality name -> run directory"));
  // Only fused models (paired data with use "all") have a missing modality to fall back from.
  EXPECT_TRUE(starts_with(error_of(R"({"data": {"path": "x"},
    "model": {"fallback": {"visible": "runs/v"}}})"),
                          "t.json:2: /model/fallback: expected {}: a fallback is only used by fused models (a paired "
                          "data.format with data.paired.use \"all\"; here format \"image_folder\", use \"all\")"));
  EXPECT_TRUE(contains(error_of(R"({"data": {"format": "paired_folder", "path": "x", "paired": {"use": "visible"}},
    "model": {"fallback": {"visible": "runs/v"}}})"),
                       "use \"visible\""));
}

TEST(ConfigSubjectPattern, PresetsRegexesAndFormatsWithoutFileNames) {
  Config c = parse_config(R"({"data": {"path": "x", "subject_pattern": "ck_plus"}})", "t.json");
  EXPECT_EQ(c.data.subject_pattern, "ck_plus");  // kept as written; resolved where it is used
  EXPECT_EQ(to_json(c)["data"]["subject_pattern"], "ck_plus");
  EXPECT_EQ(fer::config::subject_regex("ck_plus"), R"(^(S\d+)_\d+_\d+)");
  EXPECT_EQ(fer::config::subject_regex("jaffe"), R"(^([A-Za-z]{2})\.[A-Za-z]{2}\d*\.\d+)");
  EXPECT_EQ(parse_config(kMinimal, "t.json", {"data.subject_pattern=jaffe"}).data.subject_pattern, "jaffe");
  EXPECT_EQ(parse_config(R"({"data": {"path": "x", "subject_pattern": "^(p\\d+)_"}})", "t.json").data.subject_pattern,
            "^(p\\d+)_");

  EXPECT_EQ(error_of(R"({"data": {"path": "x", "subject_pattern": "ckplus"}})"),
            "t.json:1: /data/subject_pattern: expected a preset (\"ck_plus\", \"jaffe\") or a regular expression "
            "with a capture group (...) for the subject, got \"ckplus\"");
  EXPECT_TRUE(contains(error_of(R"({"data": {"path": "x", "subject_pattern": "(S\\d+"}})"),
                       "/data/subject_pattern: expected a preset"));
  EXPECT_EQ(error_of(R"({"data": {"format": "ck_plus_h5", "path": "x.h5",
    "subject_pattern": "ck_plus"}})"),
            "t.json:2: /data/subject_pattern: format \"ck_plus_h5\" has no file names to read subjects from; "
            "subject_pattern needs image_folder or a paired format, got \"ck_plus\"");
  EXPECT_TRUE(contains(error_of(R"({"data": {"format": "fer2013_csv", "path": "x.csv"}})",
                                {"data.subject_pattern=jaffe"}),
                       "format \"fer2013_csv\" has no file names"));
}

// ---- model.vit_* (vit, vit_se) ----

TEST(Config, VitKeysDefaultToViTB16AndRoundTrip) {
  const Config d = parse_config(kMinimal, "t.json");
  EXPECT_EQ(d.model.vit_patch, 16);
  EXPECT_EQ(d.model.vit_dim, 768);
  EXPECT_EQ(d.model.vit_depth, 12);
  EXPECT_EQ(d.model.vit_heads, 12);
  EXPECT_EQ(d.model.vit_mlp_dim, 3072);
  EXPECT_EQ(to_json(d)["model"]["vit_dim"], 768);
  const Config c = parse_config(R"({"data": {"path": "x"}, "model": {"name": "vit_se", "vit_patch": 8,
    "vit_dim": 96, "vit_depth": 6, "vit_heads": 4, "vit_mlp_dim": 192}})",
                                "t.json");
  EXPECT_EQ(c.model.vit_patch, 8);
  EXPECT_EQ(c.model.vit_dim, 96);
  EXPECT_EQ(c.model.vit_depth, 6);
  EXPECT_EQ(c.model.vit_heads, 4);
  EXPECT_EQ(c.model.vit_mlp_dim, 192);
  EXPECT_EQ(to_json(parse_config(to_json(c).dump(2), "resolved")), to_json(c));
  EXPECT_EQ(parse_config(kMinimal, "t.json", {"model.name=vit", "model.vit_depth=2"}).model.vit_depth, 2);
}

TEST(Config, VitKeyErrors) {
  EXPECT_EQ(error_of(R"({"data": {"path": "x"}, "model": {"name": "vit",
    "vit_patch": 0}})"),
            "t.json:2: /model/vit_patch: expected an integer >= 1, got 0");
  EXPECT_EQ(error_of(R"({"data": {"path": "x"}, "model": {"name": "vit_se", "vit_dim": 96,
    "vit_heads": 5}})"),
            "t.json:2: /model/vit_heads: expected an integer >= 1 that divides vit_dim 96, got 5");
  // Only vit_dim given: the default 12 heads do not divide it, and vit_dim is the key at fault.
  EXPECT_EQ(error_of(R"({"data": {"path": "x"}, "model": {"name": "vit_se",
    "vit_dim": 100}})"),
            "t.json:2: /model/vit_dim: expected a multiple of vit_heads 12, got 100");
  EXPECT_EQ(error_of(kMinimal, {"model.name=vit", "model.vit_depth=2.5"}),
            "--set model.vit_depth=2.5: /model/vit_depth: expected an integer >= 1, got 2.5");
  // Other models have no use for the keys: a non-default value is a mistake.
  EXPECT_EQ(
      error_of(R"({"data": {"path": "x"}, "model": {
    "vit_depth": 4}})"),
      "t.json:2: /model/vit_depth: expected 12 for model \"resnet18\" (the vit_* keys shape \"vit\" and "
      "\"vit_se\"), got 4");
}

TEST(Config, AttentionIsOneKeyAndTheOlderKeysMustAgree) {
  auto model = [](const std::string& m) {
    return parse_config(R"({"data": {"path": "x"}, "model": )" + m + "}", "<string>").model;
  };
  const auto cg = model(R"({"attention": "cbam+gate"})");
  EXPECT_TRUE(cg.cbam && cg.feature_gate && !cg.se);
  EXPECT_EQ(fer::config::attention_name(cg), "cbam+gate");
  const auto legacy = model(R"({"se": true, "feature_gate": true})");  // the older spelling
  EXPECT_EQ(fer::config::attention_name(legacy), "se+gate");
  EXPECT_EQ(fer::config::attention_name(model("{}")), "none");
  // written back as "attention" only, and read back the same
  Config c = parse_config(R"({"data": {"path": "x"}, "model": {"attention": "se"}})", "<string>");
  const auto j = to_json(c);
  EXPECT_EQ(j["model"]["attention"], "se");
  EXPECT_FALSE(j["model"].contains("se"));
  EXPECT_TRUE(parse_config(j.dump(), "<string>").model.se);
  // one key is enough for an ablation
  EXPECT_TRUE(parse_config(R"({"data": {"path": "x"}})", "<string>", {"model.attention=cbam"}).model.cbam);

  EXPECT_TRUE(starts_with(
      error_of(R"({"data": {"path": "x"}, "model": {"attention": "cbma"}})"),
      "t.json:1: /model/attention: expected one of \"none\", \"gate\", \"se\", \"se+gate\", \"cbam\", "
      "\"cbam+gate\", got \"cbma\" (did you mean \"cbam\"?)"))
      << error_of(R"({"data": {"path": "x"}, "model": {"attention": "cbma"}})");
  EXPECT_TRUE(contains(error_of(R"({"data": {"path": "x"}, "model": {"attention": "cbam", "se": true}})"),
                       "/model/se: expected false (or no se key) with attention \"cbam\", got true"));
  EXPECT_TRUE(
      contains(error_of(R"({"data": {"path": "x"}, "model": {"attention": "se", "feature_gate": true}})"),
               "/model/feature_gate: expected false (or no feature_gate key) with attention \"se\""));
}

TEST(Config, SelfCureKeysNeedImportanceWeighting) {
  const Config c = parse_config(
      R"({"data": {"path": "x"}, "model": {"importance_weighting": true, "pretrained": "w.pt"},
          "train": {"rank_margin": 0.2, "rank_high_fraction": 0.6, "rank_weight": 0.5}})",
      "<string>");
  EXPECT_TRUE(c.model.importance_weighting);
  EXPECT_EQ(c.model.pretrained, "w.pt");
  EXPECT_DOUBLE_EQ(c.train.rank_margin, 0.2);
  EXPECT_DOUBLE_EQ(c.train.rank_high_fraction, 0.6);
  EXPECT_DOUBLE_EQ(c.train.rank_weight, 0.5);
  EXPECT_EQ(to_json(c)["train"]["rank_weight"], 0.5);
  const Config d =
      parse_config(R"({"data": {"path": "x"}, "model": {"importance_weighting": true}})", "<string>");
  EXPECT_DOUBLE_EQ(d.train.rank_margin, 0.15);
  EXPECT_DOUBLE_EQ(d.train.rank_high_fraction, 0.7);
  // written with their defaults (so --set can reach them) and read back without importance weighting
  const auto plain = to_json(parse_config(kMinimal, "<string>"));
  EXPECT_EQ(plain["train"]["rank_margin"], 0.15);
  EXPECT_NO_THROW(parse_config(plain.dump(), "<string>"));
  EXPECT_EQ(parse_config(kMinimal, "<string>", {"model.importance_weighting=true", "train.rank_weight=0.5"})
                .train.rank_weight,
            0.5);
  EXPECT_TRUE(contains(error_of(R"({"data": {"path": "x"}, "train": {"rank_margin": 0.2}})"),
                       "/train/rank_margin: expected 0.15 while model.importance_weighting is false"));
  EXPECT_TRUE(contains(
      error_of(
          R"({"data": {"path": "x"}, "model": {"importance_weighting": true}, "train": {"rank_high_fraction": 1}})"),
      "/train/rank_high_fraction: expected"));
}

// The seed code's CK+ recipe: lr 0.01 for epochs 0-20, then x0.8 every epoch (epoch 21: 0.008).
TEST(Schedule, StepWithDecayStartMatchesTheSeedRecipe) {
  fer::config::TrainConfig t;
  t.epochs = 60;
  t.lr = 0.01;
  t.scheduler = "step";
  t.step_size = 1;
  t.gamma = 0.8;
  t.decay_start = 20;
  for (int e = 0; e <= 20; ++e) EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, e), 0.01) << e;
  for (int e = 21; e < 60; ++e)
    EXPECT_NEAR(fer::config::scheduled_lr(t, e), 0.01 * std::pow(0.8, e - 20), 1e-15) << e;
  t.decay_start = 0;  // the plain step schedule
  t.step_size = 5;
  EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, 4), 0.01);
  EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, 5), 0.008);
  t.warmup_epochs = 2;  // warm-up first; the schedule counts after it
  t.decay_start = 3;
  EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, 0), 0.001);
  EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, 9), 0.01);
  EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, 10), 0.008);
}

TEST(Schedule, CosineAndPlateau) {
  fer::config::TrainConfig t;
  t.epochs = 10;
  t.lr = 0.1;
  t.min_lr = 0.0;
  t.scheduler = "cosine";
  EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, 0), 0.1);
  EXPECT_NEAR(fer::config::scheduled_lr(t, 5), 0.05, 1e-12);
  t.scheduler = "plateau";
  fer::config::ScheduleState st;
  st.scale = 0.01;
  EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, 7, st), 0.001);
  t.scheduler = "none";
  EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, 7), 0.1);
}

// Plateau's state lives with the schedule: patience 1 lowers the lr on the second epoch in a row
// without a new best, ignores the warm-up, and follows the metric's direction.
TEST(Schedule, PlateauLowersTheLrAfterPatienceEpochsWithoutImprovement) {
  fer::config::TrainConfig t;
  t.epochs = 20;
  t.lr = 0.1;
  t.scheduler = "plateau";
  t.plateau_patience = 1;
  t.plateau_factor = 0.5;
  t.warmup_epochs = 1;
  fer::config::ScheduleState st;
  EXPECT_FALSE(fer::config::observe_schedule(t, 0, 0.9, false, st));  // warm-up: not observed
  EXPECT_TRUE(std::isnan(st.best));
  const double acc[] = {0.5, 0.6, 0.6, 0.55, 0.7, 0.7, 0.7};
  const bool lowered[] = {false, false, false, true, false, false, true};
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(fer::config::observe_schedule(t, i + 1, acc[i], false, st), lowered[i]) << i;
  EXPECT_DOUBLE_EQ(st.scale, 0.25);
  EXPECT_DOUBLE_EQ(st.best, 0.7);
  EXPECT_DOUBLE_EQ(fer::config::scheduled_lr(t, 9, st), 0.025);
  fer::config::ScheduleState loss;  // lower is better
  EXPECT_FALSE(fer::config::observe_schedule(t, 1, 1.0, true, loss));
  EXPECT_FALSE(fer::config::observe_schedule(t, 2, 0.8, true, loss));
  EXPECT_FALSE(fer::config::observe_schedule(t, 3, 0.9, true, loss));
  EXPECT_TRUE(fer::config::observe_schedule(t, 4, 0.85, true, loss));
  t.scheduler = "cosine";  // schedules that ignore validation keep no state
  fer::config::ScheduleState none;
  EXPECT_FALSE(fer::config::observe_schedule(t, 5, 0.1, false, none));
  EXPECT_DOUBLE_EQ(none.scale, 1.0);
  EXPECT_EQ(fer::config::schedule_registry().names(),
            (std::vector<std::string>{"none", "cosine", "step", "plateau"}));
}

TEST(Config, UnknownFormatGivesFileAndLineAndModelNameKeepsWhereItWasWritten) {
  const std::string text = R"({
  "data": {"format": "fer2014_h5", "path": "x.h5"},
  "model": {"name": "resnet18"}
})";
  const std::string msg =
      fer::test::error_of<fer::ConfigError>([&] { fer::config::parse_config(text, "c.json"); });
  EXPECT_HAS(msg, "c.json:2:");
  EXPECT_HAS(msg, "did you mean \"fer2013_h5\"");
  // model.name is checked against the model registry a layer up (ModelZoo.UnknownName...); the
  // reader records where it came from for that message.
  const auto cfg =
      fer::config::parse_config(text, "c.json", {"data.format=ck_plus_h5", "model.name=resnet19"});
  EXPECT_EQ(cfg.model.name, "resnet19");
  EXPECT_EQ(cfg.model.name_at, "--set model.name=resnet19: /model/name");
  EXPECT_EQ(fer::config::parse_config(text, "c.json", {"data.format=ck_plus_h5"}).model.name_at,
            "c.json:3: /model/name");
}
