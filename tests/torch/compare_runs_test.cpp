// fer eval with several runs, in the library (fer/infer/compare_runs.hpp): names in the table,
// a run that cannot be evaluated reported while the others go on, runs of other classes refused,
// the checkpoint rule. Two tiny runs trained on generated faces.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fer/core/error.hpp"
#include "fer/infer/compare_runs.hpp"
#include "test_util.hpp"
#include "tiny_run.hpp"

namespace {
using fer::test::TempDir;

void train_tiny(const std::string& data, int classes, const std::string& run, uint64_t seed) {
  fer::test::train_tiny_run(data, run, classes, 15, 36, seed);
}

// No bootstrap intervals and no HTML: the tests look at the rows, not the reports.
fer::infer::EvalRequest quick_request() {
  fer::infer::EvalRequest req;
  req.bootstrap = 0;
  req.html = false;
  return req;
}

TEST(CompareRuns, NamesAreLastComponentsUnlessTheyCollide) {
  EXPECT_EQ(fer::infer::run_names({"runs/a/", "runs/b"}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(fer::infer::run_names({"x/a", "y/a", "b"}), (std::vector<std::string>{"x/a", "y/a", "b"}));
  EXPECT_EQ(fer::infer::run_names({"."}), (std::vector<std::string>{"."}));
}

TEST(CompareRuns, FailedRunIsReportedAndTheOthersAreCompared) {
  TempDir t;
  train_tiny(t.str("data"), 3, t.str("a"), 1);
  train_tiny(t.str("data"), 3, t.str("b"), 2);
  fer::infer::EvalRequest req = quick_request();
  std::vector<std::string> failed_now, rows_now;
  const auto cmp = fer::infer::compare_runs(
      req, {t.str("a"), t.str("missing"), t.str("b")},
      [&](const fer::infer::RunFailure& f) { failed_now.push_back(f.dir); },
      [&](const fer::eval::CompareRow& row, const std::string& dir, size_t files) {
        rows_now.push_back(row.run + "@" + dir);
        EXPECT_GT(files, 0u);
      });
  ASSERT_EQ(cmp.rows.size(), 2u);
  EXPECT_EQ(cmp.rows[0].run, "a");
  EXPECT_EQ(cmp.rows[1].run, "b");
  EXPECT_TRUE(cmp.rows[0].split_diff.same()) << "the first run is the reference";
  EXPECT_FALSE(cmp.rows[1].split_diff.same()) << "another seed split the data otherwise";
  EXPECT_FALSE(cmp.warnings.empty()) << "rows over different samples are flagged";
  ASSERT_EQ(cmp.failures.size(), 1u);
  EXPECT_EQ(cmp.failures[0].name, "missing");
  EXPECT_NE(cmp.failures[0].error.find("missing"), std::string::npos) << cmp.failures[0].error;
  EXPECT_EQ(failed_now, std::vector<std::string>{t.str("missing")});
  EXPECT_EQ(rows_now, (std::vector<std::string>{"a@" + t.str("a"), "b@" + t.str("b")}));

  req.checkpoint = "a/best.pt";
  EXPECT_THROW(fer::infer::compare_runs(req, {t.str("a"), t.str("b")}), fer::UsageError);
}

TEST(CompareRuns, RunsOfOtherClassesAreRefusedBeforeAnyEvaluation) {
  TempDir t;
  train_tiny(t.str("data3"), 3, t.str("three"), 1);
  train_tiny(t.str("data4"), 4, t.str("four"), 1);
  fer::infer::EvalRequest req = quick_request();
  int evaluated = 0;
  EXPECT_THROW(fer::infer::compare_runs(req, {t.str("three"), t.str("four")}, {},
                                        [&](const fer::eval::CompareRow&, const std::string&, size_t) { ++evaluated; }),
               fer::DataError);
  EXPECT_EQ(evaluated, 0);
}

}  // namespace
