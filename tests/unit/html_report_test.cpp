#include "fer/eval/html_report.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "test_util.hpp"

namespace {

using fer::eval::base64_encode;
using fer::eval::html_escape;

size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + part.size())) ++n;
  return n;
}

// A page that stands alone: one document, balanced tables and rows, nothing fetched from outside.
void expect_well_formed(const std::string& html) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_HAS(html, "<meta charset=\"utf-8\">");
  EXPECT_EQ(count(html, "<html"), 1u);
  EXPECT_EQ(count(html, "</html>"), 1u);
  EXPECT_EQ(count(html, "<body>"), 1u);
  EXPECT_EQ(count(html, "</body>"), 1u);
  EXPECT_GT(count(html, "<table"), 0u);
  EXPECT_EQ(count(html, "<table"), count(html, "</table>"));
  EXPECT_EQ(count(html, "<tr"), count(html, "</tr>"));
  EXPECT_EQ(count(html, "<figure>"), count(html, "</figure>"));
  EXPECT_EQ(count(html, "<script"), 0u);
  EXPECT_EQ(count(html, "<link"), 0u);
  EXPECT_EQ(count(html, "http://"), 0u);
  EXPECT_EQ(count(html, "https://"), 0u);
}

// Independent RFC 4648 decoder, so the embedded image is checked against the file's bytes.
std::string base64_decode(const std::string& s) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const size_t v = alphabet.find(c);
    if (v == std::string::npos) {
      ADD_FAILURE() << "not base64: '" << c << "'";
      return out;
    }
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// The text of the table row whose header cell is `head` (from "<tr" to "</tr>").
std::string row_of(const std::string& html, const std::string& head) {
  const size_t at = html.find("<th>" + head + "</th>");
  if (at == std::string::npos) return "";
  const size_t begin = html.rfind("<tr", at), end = html.find("</tr>", at);
  if (begin == std::string::npos || end == std::string::npos) return "";
  return html.substr(begin, end - begin);
}

// y_true/y_pred from a confusion matrix [true][pred].
fer::eval::Metrics metrics_of(const std::vector<std::vector<int>>& confusion) {
  std::vector<int> t, p;
  const int n = static_cast<int>(confusion.size());
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b)
      for (int k = 0; k < confusion[a][b]; ++k) t.push_back(a), p.push_back(b);
  return fer::eval::compute_metrics(t, p, n);
}

TEST(HtmlReport, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  // High bytes and NULs are bytes, not chars with a sign.
  EXPECT_EQ(base64_encode(std::string("\xff\x00\xfe", 3)), "/wD+");
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(base64_decode(base64_encode(all)), all);
}

TEST(HtmlReport, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(html_escape("a<b>&\"c'd"), "a&lt;b&gt;&amp;&quot;c&#39;d");
  EXPECT_EQ(html_escape("plain text, ünïcode"), "plain text, ünïcode");
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
  EXPECT_EQ(html_escape(""), "");
}

TEST(HtmlReport, RunReportHasEveryPart) {
  fer::test::TempDir dir;
  cv::Mat img(4, 6, CV_8UC3, cv::Scalar(10, 200, 30));
  img.at<cv::Vec3b>(1, 2) = cv::Vec3b(255, 0, 127);
  const std::string png = dir.str("confusion_test.png");
  ASSERT_TRUE(cv::imwrite(png, img));
  const std::string png_bytes = fer::read_file(png);

  fer::eval::RunReport r;
  r.title = "run <A&B>";
  r.facts = {{"split", "test"}, {"checkpoint chosen on", "test"}, {"dataset", "ck+ \"v2\""}};
  // Row 0: 6 of 7 right (85.7%); row 1: 3 of 4 right (75.0%); row 2: 5 of 5.
  r.metrics = metrics_of({{6, 1, 0}, {1, 3, 0}, {0, 0, 5}});
  r.metrics.loss = 0.5;
  r.class_names = {"happy", "a<b&c", "sad"};
  r.figures = {{"Confusion <test>", png}, {"Training curves", dir.str("absent/curves.png")}};
  r.config_json = "{\n  \"name\": \"<x>\"\n}";
  r.warnings = {"The checkpoint was chosen on the TEST split: numbers are biased."};

  const std::string html = fer::eval::render_run_report(r);
  expect_well_formed(html);

  EXPECT_HAS(html, "<title>run &lt;A&amp;B&gt;</title>");
  EXPECT_HAS(html, "<h1>run &lt;A&amp;B&gt;</h1>");
  EXPECT_EQ(count(html, "a<b&c"), 0u);
  EXPECT_EQ(count(html, "a&lt;b&amp;c"), 3u);  // per-class row and both confusion axes
  EXPECT_HAS(html, "ck+ &quot;v2&quot;");
  EXPECT_HAS(html, "&quot;name&quot;: &quot;&lt;x&gt;&quot;");
  EXPECT_HAS(html, "<pre>");

  // The warning comes first, in the red box.
  const size_t warn = html.find("class=\"warn\"");
  ASSERT_NE(warn, std::string::npos);
  EXPECT_LT(warn, html.find("<table"));
  EXPECT_HAS(html, "The checkpoint was chosen on the TEST split: numbers are biased.");

  // 14 of 16 right; four decimals.
  EXPECT_HAS(row_of(html, "accuracy"), "0.8750");
  EXPECT_HAS(row_of(html, "loss (mean cross-entropy)"), "0.5000");
  EXPECT_HAS(row_of(html, "samples"), "16");
  EXPECT_HAS(row_of(html, "macro F1"), fmt::format("{:.4f}", r.metrics.macro_f1));
  EXPECT_HAS(row_of(html, "a&lt;b&amp;c"), "0.7500");  // precision 3/4 and recall 3/4

  // Counts and row percentages; rows true, columns predicted.
  EXPECT_HAS(html, "true \\ predicted");
  EXPECT_HAS(html, ">6<br><small>85.7%</small></td>");
  EXPECT_HAS(html, ">1<br><small>14.3%</small></td>");
  EXPECT_HAS(html, ">3<br><small>75.0%</small></td>");
  EXPECT_HAS(html, ">5<br><small>100.0%</small></td>");
  const std::string row1 = row_of(html.substr(html.find("<th>total</th>")), "a&lt;b&amp;c");
  EXPECT_LT(row1.find(">1<br><small>25.0%"), row1.find(">3<br><small>75.0%"));

  // The figure is embedded byte for byte; the missing one says so.
  const std::string prefix = "<img src=\"data:image/png;base64,";
  ASSERT_EQ(count(html, prefix), 1u);
  const size_t begin = html.find(prefix) + prefix.size();
  EXPECT_EQ(base64_decode(html.substr(begin, html.find('"', begin) - begin)), png_bytes);
  EXPECT_HAS(html, "<figcaption>Confusion &lt;test&gt;</figcaption>");
  EXPECT_HAS(html, "not found: " + dir.str("absent/curves.png"));
  EXPECT_HAS(html, "max-width: 100%");

  // No interval unless asked for.
  EXPECT_EQ(count(html, "95% CI"), 0u);
  EXPECT_EQ(count(html, " ["), 0u);
}

TEST(HtmlReport, RunReportShowsIntervalsOnlyWhenGiven) {
  fer::eval::RunReport r;
  r.title = "ci";
  r.metrics = metrics_of({{6, 1}, {1, 2}});  // accuracy 0.8
  r.class_names = {"happy", "sad"};
  r.has_ci = true;
  r.acc_lo = 0.781;
  r.acc_hi = 0.842;
  r.f1_lo = 0.70004;
  r.f1_hi = 0.9;
  const std::string html = fer::eval::render_run_report(r);
  expect_well_formed(html);
  EXPECT_HAS(html, "95% CI");
  EXPECT_HAS(row_of(html, "accuracy"), "0.8000 [0.7810, 0.8420]");
  EXPECT_HAS(row_of(html, "macro F1"), fmt::format("{:.4f} [0.7000, 0.9000]", r.metrics.macro_f1));
  EXPECT_EQ(row_of(html, "balanced accuracy").find('['), std::string::npos);
  EXPECT_HAS(row_of(html, "loss (mean cross-entropy)"), "n/a");  // loss not set
  EXPECT_EQ(count(html, "<h2>Configuration</h2>"), 0u);          // no config given
  EXPECT_EQ(count(html, "class=\"warn\""), 0u);                  // no warnings given
}

TEST(HtmlReport, RunReportRejectsMismatchedClassNames) {
  fer::eval::RunReport r;
  r.metrics = metrics_of({{1, 0}, {0, 1}});
  r.class_names = {"only one"};
  EXPECT_HAS(fer::test::error_of<fer::DataError>([&] { fer::eval::render_run_report(r); }),
             "1 class names for 2 classes");
}

// Folds built by hand: accuracy 0.7, 0.9, 0.85 -> mean 0.8167, std 0.1041.
fer::eval::KfoldSummary three_folds(const std::string& fold2_selected_on) {
  const std::vector<std::vector<std::vector<int>>> confusions = {
      {{4, 1}, {2, 3}}, {{5, 0}, {1, 4}}, {{9, 1}, {2, 8}}};
  std::vector<fer::eval::FoldEval> done;
  for (int k = 0; k < 3; ++k) {
    fer::eval::FoldEval f;
    f.fold = k + 1;
    f.path = "fold_" + std::to_string(k + 1) + "/eval_test.json";
    f.metrics = metrics_of(confusions[k]);
    f.class_names = {"happy", "s<d"};
    f.selected_on = k == 1 ? fold2_selected_on : "val";
    f.checkpoint_epoch = 10 + k;
    done.push_back(f);
  }
  return fer::eval::summarize_folds(done, 4);  // fold 4 is missing
}

TEST(HtmlReport, KfoldReportHasFoldsMeanStdAndMissing) {
  fer::test::TempDir dir;
  fer::write_file_atomic(dir.str("kfold_accuracy.png"), std::string("\x89PNG\r\n\x1a\n\0\x01\xff", 11));

  fer::eval::KfoldHtml k;
  k.title = "4-fold <ck>";
  k.summary = three_folds("val");
  k.figures = {{"Accuracy per fold", dir.str("kfold_accuracy.png")},
               {"Summed confusion", dir.str("kfold_confusion.png")}};
  k.config_json = "{\"folds\": 4}";
  const std::string html = fer::eval::render_kfold_report(k);
  expect_well_formed(html);

  EXPECT_HAS(html, "<h1>4-fold &lt;ck&gt;</h1>");
  EXPECT_HAS(html, "3 of 4 folds done");
  EXPECT_HAS(html, "Missing folds: 4");
  EXPECT_HAS(row_of(html, "1"), "0.7000");
  EXPECT_HAS(row_of(html, "2"), "0.9000");
  EXPECT_HAS(row_of(html, "3"), "0.8500");
  EXPECT_HAS(row_of(html, "3"), ">12<");  // checkpoint epoch
  EXPECT_HAS(row_of(html, "mean"), "0.8167");
  EXPECT_HAS(row_of(html, "std"), "0.1041");
  const std::string mean_std = html.substr(html.find("<h2>Mean &plusmn; std"));
  EXPECT_HAS(row_of(mean_std, "accuracy"), "0.8167 &plusmn; 0.1041");
  EXPECT_HAS(row_of(mean_std, "accuracy"), "0.8250");  // pooled: 33 of 40
  for (const char* m : {"balanced accuracy", "macro precision", "macro recall", "macro F1",
                        "weighted precision", "weighted recall", "weighted F1"})
    EXPECT_NE(row_of(mean_std, m), "") << m;
  // Per-class recall of "s<d": 0.6, 0.8, 0.8 -> 0.7333 +- 0.1155.
  EXPECT_HAS(row_of(html, "s&lt;d"), "0.7333 &plusmn; 0.1155");
  EXPECT_EQ(count(html, "s<d"), 0u);
  // Summed confusion [[18, 2], [5, 15]].
  EXPECT_HAS(html, ">18<br><small>90.0%</small></td>");
  EXPECT_HAS(html, ">15<br><small>75.0%</small></td>");

  EXPECT_HAS(html, "<div class=\"note\">" + html_escape(fer::eval::selection_statement(k.summary)));
  EXPECT_EQ(count(html, "BIASED"), 0u);
  EXPECT_HAS(html, "base64," + base64_encode(std::string("\x89PNG\r\n\x1a\n\0\x01\xff", 11)) + "\"");
  EXPECT_HAS(html, "not found: " + dir.str("kfold_confusion.png"));
  EXPECT_HAS(html, "<pre>{&quot;folds&quot;: 4}</pre>");
}

TEST(HtmlReport, KfoldReportIsLoudWhenAFoldSelectedOnTest) {
  fer::eval::KfoldHtml k;
  k.title = "seed protocol";
  k.summary = three_folds("test");
  const std::string html = fer::eval::render_kfold_report(k);
  expect_well_formed(html);
  const std::string statement = fer::eval::selection_statement(k.summary);
  EXPECT_HAS(statement, "BIASED");
  const size_t box = html.find("<div class=\"warn\">\n<p>" + html_escape(statement) + "</p>");
  ASSERT_NE(box, std::string::npos);
  EXPECT_LT(box, html.find("<table"));
  EXPECT_EQ(count(html, "<h2>Configuration</h2>"), 0u);
  EXPECT_EQ(count(html, "<h2>Figures</h2>"), 0u);
}

}  // namespace
