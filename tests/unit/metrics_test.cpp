#include "fer/eval/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "fer/core/error.hpp"

namespace {

using fer::eval::compute_metrics;
using fer::eval::Metrics;

constexpr double kEps = 1e-12;

// 3 classes, 8 samples; class 2 is never predicted.
//   true: 0 0 0 1 1 2 2 2
//   pred: 0 0 1 1 0 0 1 1
// confusion [true][pred] = [[2,1,0],[1,1,0],[1,2,0]]; support 3,2,3; predicted 4,4,0.
Metrics example() { return compute_metrics({0, 0, 0, 1, 1, 2, 2, 2}, {0, 0, 1, 1, 0, 0, 1, 1}, 3); }

}  // namespace

TEST(Metrics, HandComputedThreeClassExample) {
  const Metrics m = example();
  EXPECT_EQ(m.num_classes, 3);
  EXPECT_EQ(m.total, 8);
  const std::vector<std::vector<int64_t>> confusion = {{2, 1, 0}, {1, 1, 0}, {1, 2, 0}};
  EXPECT_EQ(m.confusion, confusion);
  EXPECT_EQ(m.support, (std::vector<int64_t>{3, 2, 3}));
  EXPECT_NEAR(m.accuracy, 3.0 / 8, kEps);  // diagonal 2+1+0
  // precision = tp / predicted: 2/4, 1/4, and 0 for the never-predicted class (zero_division=0)
  EXPECT_NEAR(m.precision[0], 1.0 / 2, kEps);
  EXPECT_NEAR(m.precision[1], 1.0 / 4, kEps);
  EXPECT_EQ(m.precision[2], 0.0);
  // recall = tp / support: 2/3, 1/2, 0/3
  EXPECT_NEAR(m.recall[0], 2.0 / 3, kEps);
  EXPECT_NEAR(m.recall[1], 1.0 / 2, kEps);
  EXPECT_EQ(m.recall[2], 0.0);
  // f1_0 = 2*(1/2)(2/3)/(1/2+2/3) = (2/3)/(7/6) = 4/7; f1_1 = 2*(1/4)(1/2)/(3/4) = 1/3; f1_2 = 0
  EXPECT_NEAR(m.f1[0], 4.0 / 7, kEps);
  EXPECT_NEAR(m.f1[1], 1.0 / 3, kEps);
  EXPECT_EQ(m.f1[2], 0.0);
  // every class has support: balanced accuracy = (2/3 + 1/2 + 0)/3 = 7/18
  EXPECT_NEAR(m.balanced_accuracy, 7.0 / 18, kEps);
  // macro: P = (1/2+1/4+0)/3 = 1/4; R = 7/18; F1 = (4/7+1/3)/3 = 19/63
  EXPECT_NEAR(m.macro_precision, 1.0 / 4, kEps);
  EXPECT_NEAR(m.macro_recall, 7.0 / 18, kEps);
  EXPECT_NEAR(m.macro_f1, 19.0 / 63, kEps);
  // weighted by support 3,2,3 over 8: P = (3/2+2/4)/8 = 1/4; R = (2+1)/8 = 3/8; F1 = (12/7+2/3)/8 = 25/84
  EXPECT_NEAR(m.weighted_precision, 1.0 / 4, kEps);
  EXPECT_NEAR(m.weighted_recall, 3.0 / 8, kEps);
  EXPECT_NEAR(m.weighted_f1, 25.0 / 84, kEps);
  EXPECT_EQ(m.loss, 0.0);
}

TEST(Metrics, ZeroSupportClassCountsInMacroButNotInBalancedAccuracy) {
  //   true: 0 0 2 2     pred: 0 1 2 2     class 1 never occurs but is predicted once.
  // confusion [[1,1,0],[0,0,0],[0,0,2]]; support 2,0,2; predicted 1,1,2.
  const Metrics m = compute_metrics({0, 0, 2, 2}, {0, 1, 2, 2}, 3);
  EXPECT_EQ(m.support, (std::vector<int64_t>{2, 0, 2}));
  // precision 1/1, 0/1, 2/2; recall 1/2, 0 (no support), 2/2; F1 2/3, 0, 1
  EXPECT_NEAR(m.precision[0], 1.0, kEps);
  EXPECT_EQ(m.precision[1], 0.0);
  EXPECT_NEAR(m.precision[2], 1.0, kEps);
  EXPECT_NEAR(m.recall[0], 1.0 / 2, kEps);
  EXPECT_EQ(m.recall[1], 0.0);
  EXPECT_NEAR(m.f1[0], 2.0 / 3, kEps);
  EXPECT_EQ(m.f1[1], 0.0);
  EXPECT_NEAR(m.f1[2], 1.0, kEps);
  EXPECT_NEAR(m.accuracy, 3.0 / 4, kEps);
  // balanced accuracy skips the absent class: (1/2 + 1)/2 = 3/4
  EXPECT_NEAR(m.balanced_accuracy, 3.0 / 4, kEps);
  // macro keeps it (sklearn's default): R = (1/2+0+1)/3 = 1/2; P = (1+0+1)/3 = 2/3; F1 = (2/3+0+1)/3 = 5/9
  EXPECT_NEAR(m.macro_recall, 1.0 / 2, kEps);
  EXPECT_NEAR(m.macro_precision, 2.0 / 3, kEps);
  EXPECT_NEAR(m.macro_f1, 5.0 / 9, kEps);
  // weighted (2,0,2 over 4): P = 1; R = 3/4; F1 = (2*2/3 + 2*1)/4 = 5/6
  EXPECT_NEAR(m.weighted_precision, 1.0, kEps);
  EXPECT_NEAR(m.weighted_recall, 3.0 / 4, kEps);
  EXPECT_NEAR(m.weighted_f1, 5.0 / 6, kEps);
}

TEST(Metrics, PerfectPredictions) {
  const std::vector<int> y = {0, 1, 2, 1, 0, 2, 2};
  const Metrics m = compute_metrics(y, y, 3);
  EXPECT_EQ(m.accuracy, 1.0);
  EXPECT_EQ(m.balanced_accuracy, 1.0);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(m.precision[c], 1.0);
    EXPECT_EQ(m.recall[c], 1.0);
    EXPECT_EQ(m.f1[c], 1.0);
  }
  EXPECT_NEAR(m.macro_f1, 1.0, kEps);
  EXPECT_NEAR(m.weighted_f1, 1.0, kEps);
  EXPECT_EQ(m.confusion[2][2], 3);
}

TEST(Metrics, JsonHasEveryFieldWithTheRightValues) {
  Metrics m = example();
  m.loss = 0.5;
  const nlohmann::json j = fer::eval::metrics_to_json(m, {"anger", "disgust", "fear"});
  EXPECT_NEAR(j.at("accuracy").get<double>(), 3.0 / 8, kEps);
  EXPECT_NEAR(j.at("balanced_accuracy").get<double>(), 7.0 / 18, kEps);
  EXPECT_NEAR(j.at("macro").at("precision").get<double>(), 1.0 / 4, kEps);
  EXPECT_NEAR(j.at("macro").at("recall").get<double>(), 7.0 / 18, kEps);
  EXPECT_NEAR(j.at("macro").at("f1").get<double>(), 19.0 / 63, kEps);
  EXPECT_NEAR(j.at("weighted").at("precision").get<double>(), 1.0 / 4, kEps);
  EXPECT_NEAR(j.at("weighted").at("recall").get<double>(), 3.0 / 8, kEps);
  EXPECT_NEAR(j.at("weighted").at("f1").get<double>(), 25.0 / 84, kEps);
  ASSERT_EQ(j.at("per_class").size(), 3u);
  const auto& anger = j.at("per_class").at("anger");
  EXPECT_NEAR(anger.at("precision").get<double>(), 1.0 / 2, kEps);
  EXPECT_NEAR(anger.at("recall").get<double>(), 2.0 / 3, kEps);
  EXPECT_NEAR(anger.at("f1").get<double>(), 4.0 / 7, kEps);
  EXPECT_EQ(anger.at("support").get<int64_t>(), 3);
  EXPECT_EQ(j.at("per_class").at("fear").at("precision").get<double>(), 0.0);
  EXPECT_EQ(j.at("per_class").at("disgust").at("support").get<int64_t>(), 2);
  const auto& cm = j.at("confusion");
  EXPECT_EQ(cm.at("labels"), nlohmann::json({"anger", "disgust", "fear"}));
  EXPECT_EQ(cm.at("counts"), nlohmann::json({{2, 1, 0}, {1, 1, 0}, {1, 2, 0}}));
  // rows divided by their support (3, 2, 3)
  const auto& norm = cm.at("normalized");
  ASSERT_EQ(norm.size(), 3u);
  EXPECT_NEAR(norm[0][0].get<double>(), 2.0 / 3, kEps);
  EXPECT_NEAR(norm[0][1].get<double>(), 1.0 / 3, kEps);
  EXPECT_NEAR(norm[1][0].get<double>(), 1.0 / 2, kEps);
  EXPECT_NEAR(norm[2][1].get<double>(), 2.0 / 3, kEps);
  EXPECT_EQ(norm[2][2].get<double>(), 0.0);
  EXPECT_EQ(j.at("total").get<int64_t>(), 8);
  EXPECT_EQ(j.at("loss").get<double>(), 0.5);
}

TEST(Metrics, JsonNormalizedRowOfAbsentClassIsZero) {
  const Metrics m = compute_metrics({0, 0, 2, 2}, {0, 1, 2, 2}, 3);
  const nlohmann::json j = fer::eval::metrics_to_json(m, {"a", "b", "c"});
  EXPECT_EQ(j.at("confusion").at("normalized")[1], nlohmann::json({0.0, 0.0, 0.0}));
  EXPECT_EQ(j.at("per_class").at("b").at("support").get<int64_t>(), 0);
}

TEST(Metrics, JsonRejectsWrongNumberOfNames) {
  EXPECT_THROW(fer::eval::metrics_to_json(example(), {"a", "b"}), fer::DataError);
}

TEST(Metrics, ConfusionCsvExactText) {
  EXPECT_EQ(fer::eval::confusion_csv(example(), {"anger", "disgust", "fear"}),
            "true\\pred,anger,disgust,fear\n"
            "anger,2,1,0\n"
            "disgust,1,1,0\n"
            "fear,1,2,0\n");
}

TEST(Metrics, ConfusionCsvQuotesNamesThatNeedIt) {
  const Metrics m = compute_metrics({0, 1}, {0, 1}, 2);
  EXPECT_EQ(fer::eval::confusion_csv(m, {"a,b", "say \"hi\""}),
            "true\\pred,\"a,b\",\"say \"\"hi\"\"\"\n"
            "\"a,b\",1,0\n"
            "\"say \"\"hi\"\"\",0,1\n");
}

TEST(Metrics, LengthMismatchIsDataError) {
  try {
    compute_metrics({0, 1, 2}, {0, 1}, 3);
    FAIL() << "expected DataError";
  } catch (const fer::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("3 true labels but 2 predictions"), std::string::npos) << e.what();
  }
}

TEST(Metrics, OutOfRangeLabelNamesTheIndex) {
  try {
    compute_metrics({0, 1, 2}, {0, 3, 1}, 3);
    FAIL() << "expected DataError";
  } catch (const fer::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("index 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("predicted label 3"), std::string::npos) << e.what();
  }
  try {
    compute_metrics({0, 1, -1}, {0, 1, 1}, 3);
    FAIL() << "expected DataError";
  } catch (const fer::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("index 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("true label -1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(compute_metrics({}, {}, 0), fer::DataError);
}

TEST(Metrics, EmptyInputGivesZerosNotNaN) {
  const Metrics m = compute_metrics({}, {}, 2);
  EXPECT_EQ(m.total, 0);
  EXPECT_EQ(m.accuracy, 0.0);
  EXPECT_EQ(m.balanced_accuracy, 0.0);
  EXPECT_EQ(m.macro_f1, 0.0);
  EXPECT_EQ(m.weighted_f1, 0.0);
}

namespace {

// n samples of each of 3 classes; the first `right[c]` of class c are predicted correctly, the
// rest as the next class.
void make_labels(int n, const std::vector<int>& right, std::vector<int>& t, std::vector<int>& p) {
  t.clear();
  p.clear();
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < n; ++i) {
      t.push_back(c);
      p.push_back(i < right[c] ? c : (c + 1) % 3);
    }
  }
}

}  // namespace

TEST(Bootstrap, IntervalContainsThePointEstimateAndNarrowsWithMoreSamples) {
  std::vector<int> t, p;
  make_labels(20, {16, 12, 10}, t, p);
  const Metrics m = compute_metrics(t, p, 3);
  const auto ci = fer::eval::bootstrap_ci(t, p, 3, 2000, 7);
  EXPECT_EQ(ci.resamples, 2000);
  EXPECT_EQ(ci.seed, 7u);
  EXPECT_LT(ci.accuracy_lo, m.accuracy);
  EXPECT_GT(ci.accuracy_hi, m.accuracy);
  EXPECT_LT(ci.macro_f1_lo, m.macro_f1);
  EXPECT_GT(ci.macro_f1_hi, m.macro_f1);
  // Stratified: the class counts are fixed, so accuracy varies only through the per-class
  // correct counts, binomial(20, p_c): sd = sqrt(sum p(1-p)*20)/60 = 0.0598; the 95% interval is
  // about +-1.96 sd (within sampling error of 2000 resamples).
  const double sd = std::sqrt(20 * (0.8 * 0.2 + 0.6 * 0.4 + 0.5 * 0.5)) / 60;
  EXPECT_NEAR(ci.accuracy_hi - ci.accuracy_lo, 2 * 1.96 * sd, 0.02);
  // Four times the samples, same rates: about half the width.
  make_labels(80, {64, 48, 40}, t, p);
  const auto wide = ci;
  const auto narrow = fer::eval::bootstrap_ci(t, p, 3, 2000, 7);
  EXPECT_NEAR((narrow.accuracy_hi - narrow.accuracy_lo) / (wide.accuracy_hi - wide.accuracy_lo), 0.5, 0.1);
}

TEST(Bootstrap, SameSeedSameIntervalOtherSeedOther) {
  std::vector<int> t, p;
  make_labels(15, {10, 9, 5}, t, p);
  const auto a = fer::eval::bootstrap_ci(t, p, 3, 500, 1), b = fer::eval::bootstrap_ci(t, p, 3, 500, 1);
  EXPECT_EQ(a.accuracy_lo, b.accuracy_lo);
  EXPECT_EQ(a.macro_f1_hi, b.macro_f1_hi);
  const auto c = fer::eval::bootstrap_ci(t, p, 3, 500, 2);
  EXPECT_TRUE(c.accuracy_lo != a.accuracy_lo || c.accuracy_hi != a.accuracy_hi ||
              c.macro_f1_lo != a.macro_f1_lo);
}

TEST(Bootstrap, PerfectPredictionsGiveAPointIntervalAndBadInputThrows) {
  const std::vector<int> t = {0, 1, 2, 0, 1, 2};
  const auto ci = fer::eval::bootstrap_ci(t, t, 3, 100, 0);
  EXPECT_EQ(ci.accuracy_lo, 1.0);
  EXPECT_EQ(ci.accuracy_hi, 1.0);
  EXPECT_EQ(ci.macro_f1_lo, 1.0);
  EXPECT_THROW(fer::eval::bootstrap_ci({}, {}, 3, 100, 0), fer::DataError);
  EXPECT_THROW(fer::eval::bootstrap_ci(t, t, 3, 0, 0), fer::DataError);
  EXPECT_THROW(fer::eval::bootstrap_ci(t, {0, 1}, 3, 10, 0), fer::DataError);
  EXPECT_THROW(fer::eval::bootstrap_ci({0, 5}, {0, 1}, 3, 10, 0), fer::DataError);
}
