#include "fer/eval/compare.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "test_util.hpp"

namespace {

using fer::eval::CompareRow;

constexpr const char* kLongName = "fusion_feature_concat_seed42_a_very_long_run_directory_name";

// Two hand-checked rows over the classes a, b, c.
//   A: true 0 0 0 1 1 2 2 2, pred 0 0 1 1 0 0 1 1 (metrics_test's example): accuracy 3/8,
//      balanced accuracy 7/18, macro P 1/4, macro R 7/18, macro F1 19/63, weighted F1 25/84.
//   B: true 0 1 2 0, pred 0 1 2 1: accuracy 3/4; P 1, 1/2, 1; R 1/2, 1, 1; F1 2/3, 2/3, 1;
//      balanced accuracy 5/6, macro P 5/6, macro R 5/6, macro F1 7/9, weighted F1 3/4.
std::vector<CompareRow> two_rows() {
  CompareRow a;
  a.run = "visible_only";
  a.model = "resnet18 (visible)";
  a.split = "test";
  a.metrics = fer::eval::compute_metrics({0, 0, 0, 1, 1, 2, 2, 2}, {0, 0, 1, 1, 0, 0, 1, 1}, 3);
  a.class_names = {"a", "b", "c"};
  a.epoch = 7;
  a.selection = "val";
  a.ci.resamples = 100;
  a.ci.accuracy_lo = 0.1;
  a.ci.accuracy_hi = 0.6;
  a.ci.macro_f1_lo = 0.125;
  a.ci.macro_f1_hi = 0.5;
  CompareRow b = a;
  b.ci = {};
  b.run = kLongName;
  b.model = "fusion_feature (concat)";
  b.metrics = fer::eval::compute_metrics({0, 1, 2, 0}, {0, 1, 2, 1}, 3);
  b.epoch = 12;
  b.split_diff = {2, 3};  // 5 ids differ from A's
  return {a, b};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Plain comma split (the test rows need no quoting).
std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, ',');) out.push_back(f);
  return out;
}

}  // namespace

TEST(Compare, CsvHasHeaderOneLinePerRunAndFullPrecision) {
  const auto lines = lines_of(fer::eval::comparison_csv(two_rows()));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(
      lines[0],
      "run,model,split,samples,accuracy,accuracy_ci_lo,accuracy_ci_hi,balanced_accuracy,macro_precision,"
      "macro_recall,macro_f1,macro_f1_ci_lo,macro_f1_ci_hi,weighted_f1,checkpoint_epoch,selected_on,same_"
      "split,"
      "ids_differing");
  const auto a = fields_of(lines[1]), b = fields_of(lines[2]);
  ASSERT_EQ(a.size(), 18u);
  ASSERT_EQ(b.size(), 18u);
  EXPECT_EQ(a[0], "visible_only");
  EXPECT_EQ(a[1], "resnet18 (visible)");
  EXPECT_EQ(a[2], "test");
  EXPECT_EQ(a[3], "8");
  // Full precision: the fields read back as the exact doubles.
  EXPECT_EQ(std::stod(a[4]), 3.0 / 8);
  EXPECT_EQ(std::stod(a[5]), 0.1);  // the interval bounds
  EXPECT_EQ(std::stod(a[6]), 0.6);
  EXPECT_DOUBLE_EQ(std::stod(a[7]), 7.0 / 18);
  EXPECT_EQ(std::stod(a[11]), 0.125);
  EXPECT_EQ(std::stod(a[12]), 0.5);
  EXPECT_EQ(b[5], "");  // no interval computed: empty cells
  EXPECT_EQ(b[12], "");
  EXPECT_DOUBLE_EQ(std::stod(a[8]), 1.0 / 4);
  EXPECT_DOUBLE_EQ(std::stod(a[9]), 7.0 / 18);
  EXPECT_DOUBLE_EQ(std::stod(a[10]), 19.0 / 63);
  EXPECT_DOUBLE_EQ(std::stod(a[13]), 25.0 / 84);
  EXPECT_GT(a[10].size(), 10u) << "macro F1 truncated: " << a[10];
  EXPECT_EQ(a[14], "7");
  EXPECT_EQ(a[15], "val");
  EXPECT_EQ(a[16], "yes");
  EXPECT_EQ(a[17], "0");
  EXPECT_EQ(b[0], kLongName);
  EXPECT_EQ(b[3], "4");
  EXPECT_DOUBLE_EQ(std::stod(b[4]), 3.0 / 4);
  EXPECT_DOUBLE_EQ(std::stod(b[7]), 5.0 / 6);
  EXPECT_DOUBLE_EQ(std::stod(b[10]), 7.0 / 9);
  EXPECT_DOUBLE_EQ(std::stod(b[13]), 3.0 / 4);
  EXPECT_EQ(b[14], "12");
  EXPECT_EQ(b[16], "no");
  EXPECT_EQ(b[17], "5");
}

TEST(Compare, CsvQuotesFieldsWithCommas) {
  auto rows = two_rows();
  rows[0].run = "run,\"x\"";
  const auto lines = lines_of(fer::eval::comparison_csv(rows));
  EXPECT_EQ(lines[1].rfind("\"run,\"\"x\"\"\",resnet18 (visible),test,8,", 0), 0u) << lines[1];
}

TEST(Compare, MarkdownTableHasAlignedColumnsAndFourDecimals) {
  const std::string md = fer::eval::comparison_markdown(two_rows());
  const auto lines = lines_of(md);
  ASSERT_EQ(lines.size(), 4u);  // header, alignment row, 2 runs
  for (const auto& line : lines) {
    EXPECT_EQ(std::count(line.begin(), line.end(), '|'), 16) << line;  // 15 columns
    EXPECT_EQ(line.front(), '|');
    EXPECT_EQ(line.back(), '|');
    EXPECT_EQ(line.size(), lines[0].size()) << "columns padded to one width";
  }
  EXPECT_HAS(lines[0], "| run ");
  EXPECT_HAS(lines[0], " macro F1 |");
  EXPECT_HAS(lines[0], " same split |");
  EXPECT_HAS(lines[1], "-: |");  // numbers right-aligned
  for (const char* v : {" 0.3750 |", " 0.3889 |", " 0.2500 |", " 0.3016 |", " 0.2976 |", "| yes "}) {
    EXPECT_HAS(lines[2], v);
  }
  EXPECT_HAS(lines[2], " [0.1000, 0.6000] |");
  EXPECT_HAS(lines[2], " [0.1250, 0.5000] |");
  for (const char* v : {" 0.7500 |", " 0.8333 |", " 0.7778 |", "| no ", " - |"}) EXPECT_HAS(lines[3], v);
  EXPECT_HAS(lines[3], kLongName);
}

TEST(Compare, MarkdownEscapesPipes) {
  auto rows = two_rows();
  rows[0].run = "a|b";
  EXPECT_HAS(fer::eval::comparison_markdown(rows), "a\\|b");
}

TEST(Compare, ConsoleColumnsLineUpWithALongRunName) {
  const auto lines = lines_of(fer::eval::comparison_text(two_rows()));
  ASSERT_EQ(lines.size(), 4u);  // header, rule, 2 runs
  // Right-aligned numeric columns end at the same position as their header on every line.
  const size_t acc_end = lines[0].find("accuracy") + std::string("accuracy").size();
  const size_t f1_end = lines[0].find("macro F1") + std::string("macro F1").size();
  ASSERT_GT(lines[0].find("accuracy"), std::string(kLongName).size()) << lines[0];
  EXPECT_EQ(lines[2].substr(acc_end - 6, 6), "0.3750") << lines[2];
  EXPECT_EQ(lines[3].substr(acc_end - 6, 6), "0.7500") << lines[3];
  EXPECT_EQ(lines[2].substr(f1_end - 6, 6), "0.3016") << lines[2];
  EXPECT_EQ(lines[3].substr(f1_end - 6, 6), "0.7778") << lines[3];
  EXPECT_EQ(lines[2].find("resnet18 (visible)"), lines[0].find("model"));
  EXPECT_EQ(lines[3].find("fusion_feature (concat)"), lines[0].find("model"));
  EXPECT_EQ(lines[1].find_first_not_of("- "), std::string::npos) << "a rule under the header";
}

TEST(Compare, JsonHasEveryMetricAndPerClassValues) {
  const auto j = fer::eval::comparison_json(two_rows());
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["run"], "visible_only");
  EXPECT_EQ(j[0]["model"], "resnet18 (visible)");
  EXPECT_EQ(j[0]["samples"], 8);
  EXPECT_EQ(j[0]["accuracy"].get<double>(), 3.0 / 8);
  EXPECT_DOUBLE_EQ(j[0]["macro"]["f1"].get<double>(), 19.0 / 63);
  EXPECT_DOUBLE_EQ(j[0]["weighted"]["f1"].get<double>(), 25.0 / 84);
  EXPECT_DOUBLE_EQ(j[0]["per_class"]["a"]["precision"].get<double>(), 1.0 / 2);
  EXPECT_DOUBLE_EQ(j[0]["per_class"]["a"]["recall"].get<double>(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(j[0]["per_class"]["b"]["f1"].get<double>(), 1.0 / 3);
  EXPECT_EQ(j[0]["per_class"]["c"]["support"], 3);
  EXPECT_EQ(j[0]["checkpoint_epoch"], 7);
  EXPECT_EQ(j[0]["checkpoint_selected_on"], "val");
  EXPECT_EQ(j[0]["same_split"], true);
  EXPECT_EQ(j[1]["run"], kLongName);
  EXPECT_DOUBLE_EQ(j[1]["balanced_accuracy"].get<double>(), 5.0 / 6);
  EXPECT_DOUBLE_EQ(j[1]["per_class"]["c"]["f1"].get<double>(), 1.0);
  EXPECT_EQ(j[1]["same_split"], false);
  EXPECT_EQ(j[1]["ids_differing"], 5);
  EXPECT_EQ(j[0]["bootstrap"]["accuracy"][1].get<double>(), 0.6);
  EXPECT_EQ(j[0]["bootstrap"]["macro_f1"][0].get<double>(), 0.125);
  EXPECT_FALSE(j[1].contains("bootstrap"));
  // render_comparison writes the same array as parseable text.
  EXPECT_EQ(nlohmann::json::parse(fer::eval::render_comparison(two_rows(), fer::eval::TableFormat::kJson)), j);
}

TEST(Compare, TableFormatFromExtension) {
  using fer::eval::TableFormat;
  EXPECT_EQ(fer::eval::table_format("out/t.csv"), TableFormat::kCsv);
  EXPECT_EQ(fer::eval::table_format("T.MD"), TableFormat::kMarkdown);
  EXPECT_EQ(fer::eval::table_format("t.json"), TableFormat::kJson);
  const std::string msg = fer::test::error_of<fer::UsageError>([] { fer::eval::table_format("t.txt"); });
  EXPECT_HAS(msg, "t.txt");
  EXPECT_HAS(msg, ".csv");
  EXPECT_HAS(msg, ".md");
  EXPECT_HAS(msg, ".json");
  EXPECT_THROW(fer::eval::table_format("table"), fer::UsageError);
}

TEST(Compare, SameIdsInAnotherOrderAreComparable) {
  const auto d = fer::eval::compare_split_ids({"x1", "x2", "x3"}, {"x3", "x1", "x2"});
  EXPECT_TRUE(d.same());
  EXPECT_EQ(d.differing(), 0u);
}

TEST(Compare, DifferentIdsAreCountedBothWays) {
  const auto d = fer::eval::compare_split_ids({"x1", "x2", "x3", "x4"}, {"x1", "x2", "y1"});
  EXPECT_FALSE(d.same());
  EXPECT_EQ(d.only_here, 1u);       // y1
  EXPECT_EQ(d.only_reference, 2u);  // x3, x4
  EXPECT_EQ(d.differing(), 3u);
}

TEST(Compare, SplitWarningsNameTheRunsAndTheCount) {
  auto rows = two_rows();
  const auto w = fer::eval::split_warnings(rows);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_HAS(w[0], "WARNING");
  EXPECT_HAS(w[0], kLongName);
  EXPECT_HAS(w[0], "visible_only");
  EXPECT_HAS(w[0], "5 ids differ");
  rows[1].split_diff = {};
  EXPECT_TRUE(fer::eval::split_warnings(rows).empty());
}

TEST(Compare, ReadSplitIdsOfOnePart) {
  fer::test::TempDir dir;
  const std::string p = dir.str("split.json");
  fer::write_file_atomic(p, R"({"scheme":"ratio","selection":"val","train":["a/1"],"val":["b/2"],"test":["c/3","a/4"]})");
  EXPECT_EQ(fer::eval::read_split_ids(p, "test"), (std::vector<std::string>{"c/3", "a/4"}));
  EXPECT_EQ(fer::eval::read_split_ids(p, "val"), (std::vector<std::string>{"b/2"}));
  fer::write_file_atomic(p, R"({"scheme":"ratio","train":[]})");
  EXPECT_HAS(fer::test::error_of<fer::DataError>([&] { fer::eval::read_split_ids(p, "test"); }), p);
  EXPECT_THROW(fer::eval::read_split_ids(dir.str("missing.json"), "test"), fer::IoError);
}

TEST(Compare, DifferentClassesNameBothRunsAndLists) {
  EXPECT_NO_THROW(fer::eval::check_same_classes({"r1", "r2"}, {{"a", "b"}, {"a", "b"}}));
  const std::string msg = fer::test::error_of<fer::DataError>(
      [] { fer::eval::check_same_classes({"r1", "r2", "r3"}, {{"a", "b"}, {"a", "b"}, {"a", "c"}}); });
  EXPECT_HAS(msg, "r1");
  EXPECT_HAS(msg, "r3");
  EXPECT_HAS(msg, "[a, b]");
  EXPECT_HAS(msg, "[a, c]");
}

TEST(Compare, ModelLabelNamesModalityAndFusion) {
  fer::config::Config cfg;
  cfg.model.name = "resnet18";
  EXPECT_EQ(fer::eval::model_label(cfg), "resnet18");
  cfg.data.paired.use = "infrared";
  EXPECT_EQ(fer::eval::model_label(cfg), "resnet18 (infrared)");
  cfg.data.paired.use = "all";
  cfg.model.name = "fusion_feature";
  cfg.model.fusion_features = "interleave";
  EXPECT_EQ(fer::eval::model_label(cfg), "fusion_feature (interleave)");
  cfg.model.name = "fusion_late";
  cfg.model.late_combine = "learned";
  EXPECT_EQ(fer::eval::model_label(cfg), "fusion_late (learned)");
  cfg.model.name = "fusion_feature";
  cfg.model.fusion_features = "interleave";
  cfg.model.head = "fused";
  cfg.model.feature_gate = true;
  cfg.model.init_streams = {"runs/v", ""};
  EXPECT_EQ(fer::eval::model_label(cfg), "fusion_feature (interleave, fused head, gate, streams initialised)");
  cfg.model.init_streams = {"", ""};
  EXPECT_EQ(fer::eval::model_label(cfg), "fusion_feature (interleave, fused head, gate)");
}

TEST(Compare, SummaryLineHasRunNumbersAndCheckpoint) {
  const std::string s = fer::eval::summary_line(two_rows()[0]);
  EXPECT_HAS(s, "visible_only: test split, 8 samples, accuracy 0.3750");
  EXPECT_HAS(s, "macro F1 0.3016");
  EXPECT_HAS(s, "epoch 7");
  EXPECT_HAS(s, "val split");
}
