#include "fer/eval/kfold.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using fer::eval::KfoldSummary;

const std::vector<std::string> kNames = {"happy", "sad"};

// eval_test.json of one fold, as fer eval writes it, from a 2x2 confusion matrix.
nlohmann::json fold_json(const std::vector<std::vector<int>>& confusion,
                         const std::string& selected_on = "val") {
  std::vector<int> t, p;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int k = 0; k < confusion[a][b]; ++k) t.push_back(a), p.push_back(b);
  auto j = fer::eval::metrics_to_json(fer::eval::compute_metrics(t, p, 2), kNames);
  j["split"] = "test";
  j["checkpoint"] = "best.pt";
  j["checkpoint_epoch"] = 1;
  j["checkpoint_selected_on"] = selected_on;
  return j;
}

// Hand-made folds. Accuracy 0.7, 0.9, 0.8; recall(happy) 0.8, 1.0, 0.6; recall(sad) 0.6, 0.8, 1.0.
const std::vector<std::vector<std::vector<int>>> kFolds = {
    {{4, 1}, {2, 3}}, {{5, 0}, {1, 4}}, {{3, 2}, {0, 5}}};

void write_fold(const fer::test::TempDir& dir, int fold, const nlohmann::json& j) {
  const fs::path d = dir.path() / ("fold_" + std::to_string(fold));
  fs::create_directories(d);
  fer::write_file_atomic((d / "eval_test.json").string(), j.dump(2));
}

void write_folds(const fer::test::TempDir& dir, int k_total, const std::string& fold2_selected_on = "val") {
  fer::write_file_atomic(dir.str("kfold.json"), nlohmann::json{{"folds", k_total}}.dump());
  for (int k = 0; k < 3; ++k)
    write_fold(dir, k + 1, fold_json(kFolds[k], k == 1 ? fold2_selected_on : "val"));
}

TEST(Kfold, MeanStdIsTheSampleStd) {
  const auto a = fer::eval::mean_std({0.7, 0.9, 0.8});
  EXPECT_NEAR(a.mean, 0.8, 1e-12);
  EXPECT_NEAR(a.std, 0.1, 1e-12);  // sqrt(0.02 / (3 - 1))
  const auto one = fer::eval::mean_std({0.5});
  EXPECT_DOUBLE_EQ(one.mean, 0.5);
  EXPECT_DOUBLE_EQ(one.std, 0.0);
}

TEST(Kfold, AggregatesHandMadeFolds) {
  fer::test::TempDir dir;
  write_folds(dir, 3);
  std::vector<std::string> files;
  const KfoldSummary s = fer::eval::write_kfold_report(dir.str(), &files);
  ASSERT_EQ(s.done.size(), 3u);
  EXPECT_TRUE(s.missing.empty());
  EXPECT_NEAR(s.accuracy.mean, 0.8, 1e-12);
  EXPECT_NEAR(s.accuracy.std, 0.1, 1e-12);
  // Balanced accuracy = mean recall: 0.7, 0.9, 0.8.
  EXPECT_NEAR(s.balanced_accuracy.mean, 0.8, 1e-12);
  EXPECT_NEAR(s.balanced_accuracy.std, 0.1, 1e-12);
  // Macro precision: (4/6 + 3/4) / 2, (5/6 + 1) / 2, (1 + 5/7) / 2.
  const double mp = ((4.0 / 6 + 0.75) / 2 + (5.0 / 6 + 1) / 2 + (1 + 5.0 / 7) / 2) / 3;
  EXPECT_NEAR(s.macro_precision.mean, mp, 1e-12);
  ASSERT_EQ(s.per_class_recall.size(), 2u);
  EXPECT_NEAR(s.per_class_recall[0].mean, 0.8, 1e-12);  // 0.8, 1.0, 0.6
  EXPECT_NEAR(s.per_class_recall[0].std, 0.2, 1e-12);
  EXPECT_NEAR(s.per_class_recall[1].mean, 0.8, 1e-12);  // 0.6, 0.8, 1.0
  EXPECT_NEAR(s.per_class_recall[1].std, 0.2, 1e-12);
  const std::vector<std::vector<int64_t>> summed = {{12, 3}, {3, 12}};
  EXPECT_EQ(s.pooled.confusion, summed);
  EXPECT_EQ(s.pooled.total, 30);
  EXPECT_NEAR(s.pooled.accuracy, 0.8, 1e-12);
  EXPECT_EQ(s.selection, std::vector<std::string>{"val"});
  EXPECT_TRUE(s.selected_on_test.empty());

  // The JSON on disk carries the same numbers.
  const auto j = nlohmann::json::parse(fer::read_file(dir.str("kfold_report.json")));
  EXPECT_NEAR(j.at("accuracy").at("mean").get<double>(), 0.8, 1e-12);
  EXPECT_NEAR(j.at("accuracy").at("std").get<double>(), 0.1, 1e-12);
  EXPECT_NEAR(j.at("per_class_recall").at("happy").at("std").get<double>(), 0.2, 1e-12);
  EXPECT_EQ(j.at("pooled").at("confusion"), nlohmann::json(summed));
  EXPECT_EQ(j.at("folds_done"), nlohmann::json({1, 2, 3}));
  EXPECT_TRUE(j.at("complete").get<bool>());
  ASSERT_EQ(files.size(), 6u);
  for (const auto& f : files) EXPECT_TRUE(fs::is_regular_file(f)) << f;
  EXPECT_EQ(fs::path(files.back()).filename(), "kfold_report.html");
}

TEST(Kfold, CsvAndMarkdownTables) {
  fer::test::TempDir dir;
  write_folds(dir, 3);
  fer::eval::write_kfold_report(dir.str());
  const std::string csv = fer::read_file(dir.str("kfold_report.csv"));
  std::vector<std::string> lines;
  for (size_t b = 0, e; b < csv.size(); b = e + 1)
    lines.push_back(csv.substr(b, (e = csv.find('\n', b)) - b));
  ASSERT_EQ(lines.size(), 6u) << csv;  // header, 3 folds, mean, std
  EXPECT_EQ(lines[0],
            "fold,samples,selected_on,accuracy,balanced_accuracy,macro_precision,macro_recall,macro_f1,"
            "weighted_precision,weighted_recall,weighted_f1,recall_happy,recall_sad");
  EXPECT_EQ(lines[1].rfind("1,10,val,0.7,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[4].rfind("mean,,,0.8", 0), 0u) << lines[4];
  EXPECT_EQ(lines[5].rfind("std,,,0.1", 0), 0u) << lines[5];

  const std::string md = fer::read_file(dir.str("kfold_report.md"));
  EXPECT_NE(md.find("# 3-fold cross-validation report"), std::string::npos) << md;
  EXPECT_NE(md.find("Folds done: 3 of 3."), std::string::npos) << md;
  EXPECT_NE(md.find("**Accuracy 80.00 ± 10.00 %**"), std::string::npos) << md;
  EXPECT_NE(md.find("| 2 | 10 | val | 90.00 | 90.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **mean** | | | **80.00** | **80.00** |"), std::string::npos) << md;
  EXPECT_NE(md.find("| std | | | 10.00 | 10.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| happy | 80.00 | 20.00 | 80.00 | 100.00 | 60.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| sad | 3 | 12 |"), std::string::npos) << md;
  EXPECT_NE(md.find("validation split"), std::string::npos) << md;
}

TEST(Kfold, MissingFoldsAreNamed) {
  fer::test::TempDir dir;
  write_folds(dir, 5);                            // folds 4 and 5 never ran
  fs::create_directories(dir.path() / "fold_4");  // started, not evaluated
  const auto s = fer::eval::write_kfold_report(dir.str());
  EXPECT_EQ(s.folds, 5);
  EXPECT_EQ(s.missing, (std::vector<int>{4, 5}));
  EXPECT_NEAR(s.accuracy.mean, 0.8, 1e-12);  // over the done folds only
  const auto j = nlohmann::json::parse(fer::read_file(dir.str("kfold_report.json")));
  EXPECT_EQ(j.at("folds_missing"), nlohmann::json({4, 5}));
  EXPECT_FALSE(j.at("complete").get<bool>());
  const std::string md = fer::read_file(dir.str("kfold_report.md"));
  EXPECT_NE(md.find("Folds done: 3 of 5 (**missing: 4, 5**"), std::string::npos) << md;
}

TEST(Kfold, NoDoneFoldIsAnError) {
  fer::test::TempDir dir;
  fs::create_directories(dir.path() / "fold_1");
  const auto msg = fer::test::error_of<fer::DataError>([&] { fer::eval::write_kfold_report(dir.str()); });
  EXPECT_NE(msg.find("no "), std::string::npos) << msg;
}

TEST(Kfold, SelectionOnTestIsLoud) {
  fer::test::TempDir dir;
  write_folds(dir, 3, "test");
  const auto s = fer::eval::write_kfold_report(dir.str());
  EXPECT_EQ(s.selected_on_test, std::vector<int>{2});
  const std::string st = fer::eval::selection_statement(s);
  EXPECT_NE(st.find("CHOSEN ON THE TEST SPLIT in fold(s) 2"), std::string::npos) << st;
  EXPECT_NE(st.find("BIASED"), std::string::npos) << st;
  EXPECT_NE(fer::read_file(dir.str("kfold_report.md")).find("**WARNING"), std::string::npos);
}

TEST(Kfold, DifferentClassesAreRefused) {
  fer::test::TempDir dir;
  write_folds(dir, 3);
  auto j = fer::eval::metrics_to_json(fer::eval::compute_metrics({0, 1}, {0, 1}, 2), {"angry", "sad"});
  write_fold(dir, 3, j);
  const auto msg = fer::test::error_of<fer::DataError>([&] { fer::eval::write_kfold_report(dir.str()); });
  EXPECT_NE(msg.find("fold_3"), std::string::npos) << msg;
}

TEST(Kfold, PngsDecode) {
  fer::test::TempDir dir;
  write_folds(dir, 3);
  fer::eval::write_kfold_report(dir.str());
  const cv::Mat conf = cv::imread(dir.str("kfold_confusion.png"));
  ASSERT_FALSE(conf.empty());
  EXPECT_GT(conf.cols, 300);
  EXPECT_GT(conf.rows, 300);
  const cv::Mat acc = cv::imread(dir.str("kfold_accuracy.png"));
  ASSERT_FALSE(acc.empty());
  EXPECT_GE(acc.cols, 480);
  EXPECT_GT(acc.rows, 360);
  EXPECT_LT(acc.cols, 4000);
}

TEST(Kfold, ConfigDifferencesIgnoreWhatFoldsMayChange) {
  const nlohmann::json expected = {
      {"name", "a"},
      {"threads", 4},
      {"data", {{"split", {{"fold", 1}, {"folds", 3}}}}},
      {"preprocess", {{"normalize", "dataset"}, {"mean", nlohmann::json::array()}}},
      {"train", {{"lr", 0.01}}}};
  nlohmann::json same = expected;
  same["name"] = "b";
  same["threads"] = 1;
  same["data"]["split"]["fold"] = 3;
  same["preprocess"]["mean"] = {0.5};
  EXPECT_TRUE(fer::eval::kfold_config_differences(expected, same).empty());
  nlohmann::json other = same;
  other["train"]["lr"] = 0.1;
  other["data"]["split"]["folds"] = 5;
  EXPECT_EQ(fer::eval::kfold_config_differences(expected, other),
            (std::vector<std::string>{"/data/split/folds", "/train/lr"}));
}

TEST(Kfold, FoldState) {
  fer::test::TempDir dir;
  const std::string d = fer::eval::fold_dir(dir.str(), 2);
  EXPECT_EQ(d, (dir.path() / "fold_2").string());
  EXPECT_EQ(fer::eval::fold_state(d), fer::eval::FoldState::kNew);
  fs::create_directories(d);
  fer::write_file_atomic(d + "/last.pt", "x");
  EXPECT_EQ(fer::eval::fold_state(d), fer::eval::FoldState::kResume);
  fer::write_file_atomic(d + "/eval_test.json", "{}");
  EXPECT_EQ(fer::eval::fold_state(d), fer::eval::FoldState::kDone);
}

}  // namespace
