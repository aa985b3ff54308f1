#include "fer/eval/plots.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "fer/core/error.hpp"
#include "test_util.hpp"

namespace {

using fer::eval::EpochRecord;
using fer::eval::Metrics;

const std::vector<std::string> kNames = {"anger", "disgust", "fear", "happy"};

// Row-normalised maximum at [2][1] (9 of 10 "fear" predicted as "disgust"), off the diagonal.
Metrics skewed_metrics() {
  std::vector<int> t, p;
  auto add = [&](int truth, int pred, int k) {
    for (int i = 0; i < k; ++i) t.push_back(truth), p.push_back(pred);
  };
  add(0, 0, 6), add(0, 3, 4);  // 60 %, 40 %
  add(1, 1, 7), add(1, 0, 3);  // 70 %, 30 %
  add(2, 1, 9), add(2, 2, 1);  // 90 %, 10 %
  add(3, 3, 5), add(3, 2, 5);  // 50 %, 50 %
  return fer::eval::compute_metrics(t, p, 4);
}

std::vector<EpochRecord> history(int epochs) {
  std::vector<EpochRecord> h;
  for (int e = 1; e <= epochs; ++e) {
    EpochRecord r;
    r.epoch = e;
    r.lr = 1e-3 * 0.5 * (1 + std::cos(M_PI * (e - 1) / epochs));
    r.train_loss = 2.0 / e;
    r.val_loss = 2.2 / e + 0.1;
    r.train_acc = 1 - 0.8 / e;
    r.val_acc = 0.9 - 0.7 / e;
    r.val_macro_f1 = r.val_acc - 0.05;
    r.seconds = 1.5 * e;
    h.push_back(r);
  }
  return h;
}

cv::Mat read_png(const std::string& path) {
  cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
  EXPECT_FALSE(img.empty()) << path << " is not a decodable image";
  if (!img.empty()) {
    EXPECT_GT(img.cols, 300) << path;
    EXPECT_GT(img.rows, 300) << path;
  }
  return img;
}

void expect_same(const EpochRecord& a, const EpochRecord& b) {
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.lr, b.lr);
  EXPECT_EQ(a.train_loss, b.train_loss);
  EXPECT_EQ(a.train_acc, b.train_acc);
  EXPECT_EQ(a.val_loss, b.val_loss);
  EXPECT_EQ(a.val_acc, b.val_acc);
  EXPECT_EQ(a.val_macro_f1, b.val_macro_f1);
  EXPECT_EQ(a.seconds, b.seconds);
}

std::string parse_error(const std::string& text) {
  try {
    fer::eval::parse_history_csv(text, "run/history.csv");
  } catch (const fer::DataError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Plots, ConfusionDarkestCellIsLargestRowShare) {
  fer::test::TempDir dir;
  const Metrics m = skewed_metrics();
  const std::string path = dir.str("confusion.png");
  fer::eval::plot_confusion_png(path, m, kNames, "Confusion");
  const cv::Mat img = read_png(path);
  ASSERT_FALSE(img.empty());
  int darkest_r = -1, darkest_c = -1, brightest = 0;
  double darkest = 1e9;
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      const auto box = fer::eval::confusion_cell_box(m, kNames, "Confusion", r, c);
      ASSERT_GT(box.size, 20);
      ASSERT_LT(box.x + box.size, img.cols);
      ASSERT_LT(box.y + box.size, img.rows);
      // Near the top-left corner of the cell: clear of the centred text and the separators.
      const cv::Vec3b px = img.at<cv::Vec3b>(box.y + 5, box.x + 5);
      const double lum = 0.114 * px[0] + 0.587 * px[1] + 0.299 * px[2];
      if (lum < darkest) darkest = lum, darkest_r = r, darkest_c = c;
      if (m.confusion[r][c] == 0) brightest = std::max(brightest, static_cast<int>(lum));
    }
  }
  EXPECT_EQ(darkest_r, 2);
  EXPECT_EQ(darkest_c, 1);
  EXPECT_LT(darkest, 100);    // a 90 % cell is dark
  EXPECT_GT(brightest, 235);  // empty cells are near white
}

TEST(Plots, ConfusionHandlesTwoAndTenClassesWithLongNames) {
  fer::test::TempDir dir;
  const Metrics two = fer::eval::compute_metrics({0, 1, 1}, {0, 1, 0}, 2);
  fer::eval::plot_confusion_png(dir.str("two.png"), two, {"neutral", "happy"}, "Two");
  read_png(dir.str("two.png"));
  std::vector<int> y;
  std::vector<std::string> names;
  for (int c = 0; c < 10; ++c) y.push_back(c), names.push_back("long_name_" + std::to_string(c) + "x");
  const Metrics ten = fer::eval::compute_metrics(y, y, 10);
  fer::eval::plot_confusion_png(dir.str("ten.png"), ten, names, "Ten");
  read_png(dir.str("ten.png"));
}

TEST(Plots, ConfusionRejectsWrongNumberOfNames) {
  fer::test::TempDir dir;
  EXPECT_THROW(fer::eval::plot_confusion_png(dir.str("x.png"), skewed_metrics(), {"a", "b"}, "t"),
               fer::DataError);
}

TEST(Plots, CurvesWriteDecodablePng) {
  fer::test::TempDir dir;
  fer::eval::plot_curves_png(dir.str("curves.png"), history(30), "Training");
  read_png(dir.str("curves.png"));
  fer::eval::plot_curves_png(dir.str("one.png"), history(1), "One epoch");
  read_png(dir.str("one.png"));
  EXPECT_THROW(fer::eval::plot_curves_png(dir.str("none.png"), {}, "Empty"), fer::DataError);
}

TEST(Plots, PerClassWritesDecodablePng) {
  fer::test::TempDir dir;
  fer::eval::plot_per_class_png(dir.str("bars.png"), skewed_metrics(), kNames, "Per class");
  read_png(dir.str("bars.png"));
}

TEST(Plots, HistoryCsvRoundTripsExactly) {
  std::vector<EpochRecord> h = history(3);
  h[1].lr = 1.0 / 3;
  h[1].train_loss = 0.1 + 0.2;  // not 0.3: needs all 17 digits
  h[2].seconds = 1e-300;
  const std::string text = fer::eval::history_csv(h);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "epoch,lr,train_loss,train_acc,val_loss,val_acc,val_macro_f1,seconds");
  const std::vector<EpochRecord> back = fer::eval::parse_history_csv(text, "history.csv");
  ASSERT_EQ(back.size(), h.size());
  for (std::size_t i = 0; i < h.size(); ++i) expect_same(back[i], h[i]);
  EXPECT_TRUE(fer::eval::parse_history_csv(fer::eval::history_csv({}), "h.csv").empty());
}

TEST(Plots, HistoryCsvErrorsNameTheLine) {
  const std::string header = "epoch,lr,train_loss,train_acc,val_loss,val_acc,val_macro_f1,seconds\n";
  const std::string row = "1,0.001,1.5,0.4,1.6,0.35,0.3,12\n";
  std::string e = parse_error("epoch,lr,loss\n" + row);
  EXPECT_NE(e.find("run/history.csv:1:"), std::string::npos) << e;
  e = parse_error(header + row + "2,0.001,1.5,0.4,1.6,0.35,0.3\n");
  EXPECT_NE(e.find("run/history.csv:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("expected 8 columns, got 7"), std::string::npos) << e;
  e = parse_error(header + "1,fast,1.5,0.4,1.6,0.35,0.3,12\n");
  EXPECT_NE(e.find("run/history.csv:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("'lr'"), std::string::npos) << e;
  e = parse_error(header + "1.5,0.001,1.5,0.4,1.6,0.35,0.3,12\n");
  EXPECT_NE(e.find("run/history.csv:2:"), std::string::npos) << e;
  e = parse_error("");
  EXPECT_NE(e.find("run/history.csv:1:"), std::string::npos) << e;
}
