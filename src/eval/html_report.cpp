#include "fer/eval/html_report.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"

namespace fer::eval {

namespace {
namespace fs = std::filesystem;

// Inline so the page needs nothing but itself; system fonts only.
constexpr const char* kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1100px; margin: 1.5em auto; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; padding-bottom: .15em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
caption { caption-side: top; text-align: left; color: #555; padding-bottom: .3em; }
th, td { border: 1px solid #bbb; padding: .25em .6em; vertical-align: top; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.agg th, tr.agg td { font-weight: bold; background: #f7f7f7; }
table.confusion td { text-align: center; min-width: 4em; }
table.confusion td.diag { outline: 2px solid #1f77b4; outline-offset: -2px; }
.warn { border: 3px solid #c00; background: #fff0f0; color: #900; padding: .6em 1em; margin: 1em 0;
        font-weight: bold; }
.warn p { margin: .3em 0; }
.note { border-left: 4px solid #1f77b4; background: #f3f8fc; padding: .5em 1em; margin: 1em 0; }
.missing { color: #900; font-family: monospace; }
figure { margin: 1em 0; }
figcaption { color: #555; font-size: .95em; }
img { max-width: 100%; height: auto; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .8em; overflow: auto; font-size: .9em; }
)";

std::string num(double v) { return fmt::format("{:.4f}", v); }
std::string td_num(const std::string& text) { return "<td class=\"num\">" + text + "</td>"; }

/// "<!DOCTYPE html>...<body>" + body + "</body></html>".
std::string page(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n{}</body>\n</html>\n",
      html_escape(title), kStyle, html_escape(title), body);
}

std::string warn_box(const std::vector<std::string>& lines) {
  if (lines.empty()) return "";
  std::string o = "<div class=\"warn\">\n";
  for (const auto& l : lines) o += "<p>" + html_escape(l) + "</p>\n";
  return o + "</div>\n";
}

/// Counts with the share of their row (the true class) in each cell; rows true, columns predicted.
std::string confusion_table(const std::vector<std::vector<int64_t>>& confusion,
                            const std::vector<std::string>& names) {
  const size_t n = names.size();
  FER_CHECK(confusion.size() == n, DataError, "HTML report: confusion matrix has {} rows for {} classes",
            confusion.size(), n);
  std::string o =
      "<table class=\"confusion\">\n<caption>Rows: true class; columns: predicted class. Each cell: count "
      "and share of its row (recall on the diagonal).</caption>\n<tr><th>true \\ predicted</th>";
  for (const auto& c : names) o += "<th>" + html_escape(c) + "</th>";
  o += "<th>total</th></tr>\n";
  for (size_t t = 0; t < n; ++t) {
    FER_CHECK(confusion[t].size() == n, DataError,
              "HTML report: a confusion row has {} columns for {} classes", confusion[t].size(), n);
    int64_t row = 0;
    for (int64_t v : confusion[t]) row += v;
    o += "<tr><th>" + html_escape(names[t]) + "</th>";
    for (size_t p = 0; p < n; ++p) {
      const int64_t v = confusion[t][p];
      const double share = row > 0 ? static_cast<double>(v) / static_cast<double>(row) : 0.0;
      o += fmt::format("<td{} style=\"background: rgba(31, 119, 180, {:.2f})\">{}",
                       t == p ? " class=\"diag\"" : "", 0.6 * share, v);
      o += row > 0 ? fmt::format("<br><small>{:.1f}%</small></td>", 100 * share) : std::string("</td>");
    }
    o += td_num(std::to_string(row)) + "</tr>\n";
  }
  return o + "</table>\n";
}

std::string figure_html(const HtmlFigure& f) {
  std::string o = "<figure>\n";
  std::string bytes;
  bool found = fs::is_regular_file(f.path);
  if (found) {
    try {
      bytes = read_file(f.path);
    } catch (const IoError&) {
      found = false;
    }
  }
  if (found)
    o += fmt::format("<img src=\"data:image/png;base64,{}\" alt=\"{}\">\n", base64_encode(bytes),
                     html_escape(f.title));
  else
    o += "<p class=\"missing\">not found: " + html_escape(f.path) + "</p>\n";
  return o + "<figcaption>" + html_escape(f.title) + "</figcaption>\n</figure>\n";
}

std::string figures_section(const std::vector<HtmlFigure>& figures) {
  if (figures.empty()) return "";
  std::string o = "<h2>Figures</h2>\n";
  for (const auto& f : figures) o += figure_html(f);
  return o;
}

std::string config_section(const std::string& config_json) {
  if (config_json.empty()) return "";
  return "<h2>Configuration</h2>\n<pre>" + html_escape(config_json) + "</pre>\n";
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    const uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string render_run_report(const RunReport& r) {
  const Metrics& m = r.metrics;
  const size_t n = r.class_names.size();
  FER_CHECK(static_cast<int>(n) == m.num_classes, DataError,
            "HTML report '{}': {} class names for {} classes in the metrics", r.title, n, m.num_classes);
  FER_CHECK(m.precision.size() == n && m.recall.size() == n && m.f1.size() == n && m.support.size() == n,
            DataError, "HTML report '{}': per-class metrics do not have {} entries", r.title, n);

  std::string b = warn_box(r.warnings);
  if (!r.facts.empty()) {
    b += "<h2>Run</h2>\n<table>\n";
    for (const auto& [k, v] : r.facts)
      b += "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(v) + "</td></tr>\n";
    b += "</table>\n";
  }

  b += fmt::format("<h2>Summary</h2>\n<table>\n<tr><th>metric</th><th>value{}</th></tr>\n",
                   r.has_ci ? " [95% CI]" : "");
  for (const auto& row : summary_metrics()) {
    std::string cell = num(m.*(row.value));
    if (r.has_ci && row.value == &Metrics::accuracy)
      cell += fmt::format(" [{}, {}]", num(r.acc_lo), num(r.acc_hi));
    if (r.has_ci && row.value == &Metrics::macro_f1)
      cell += fmt::format(" [{}, {}]", num(r.f1_lo), num(r.f1_hi));
    b += fmt::format("<tr><th>{}</th>{}</tr>\n", row.label, td_num(cell));
  }
  b += "<tr><th>loss (mean cross-entropy)</th>" + td_num(m.loss != 0 ? num(m.loss) : "n/a") + "</tr>\n";
  b += "<tr><th>samples</th>" + td_num(std::to_string(m.total)) + "</tr>\n</table>\n";
  if (r.has_ci) b += "<p>[lo, hi]: 95% bootstrap confidence interval over the evaluated samples.</p>\n";

  b += "<h2>Per class</h2>\n<table>\n<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
       "<th>support</th></tr>\n";
  for (size_t c = 0; c < n; ++c)
    b += "<tr><th>" + html_escape(r.class_names[c]) + "</th>" + td_num(num(m.precision[c])) +
         td_num(num(m.recall[c])) + td_num(num(m.f1[c])) + td_num(std::to_string(m.support[c])) + "</tr>\n";
  b += "</table>\n";

  b += "<h2>Confusion matrix</h2>\n" + confusion_table(m.confusion, r.class_names);
  b += figures_section(r.figures);
  b += config_section(r.config_json);
  return page(r.title, b);
}

std::string render_kfold_report(const KfoldHtml& k) {
  const KfoldSummary& s = k.summary;
  const size_t n = s.class_names.size();
  FER_CHECK(s.per_class_recall.size() == n, DataError,
            "HTML k-fold report '{}': per-class recall has {} entries for {} classes", k.title,
            s.per_class_recall.size(), n);
  for (const auto& f : s.done)
    FER_CHECK(f.metrics.recall.size() == n, DataError,
              "HTML k-fold report '{}': fold {} has {} recalls for {} classes", k.title, f.fold,
              f.metrics.recall.size(), n);

  std::string b =
      fmt::format("<p>{}-fold cross-validation: {} of {} folds done.</p>\n", s.folds, s.done.size(), s.folds);
  if (!s.selected_on_test.empty())
    b += warn_box({selection_statement(s)});
  else
    b += "<div class=\"note\">" + html_escape(selection_statement(s)) + "</div>\n";
  if (!s.missing.empty())
    b += warn_box(
        {fmt::format("Missing folds: {} (no eval_test.json); the numbers below cover the done folds only.",
                     fmt::join(s.missing, ", "))});

  b += "<h2>Per fold (test split)</h2>\n<table>\n<tr><th>fold</th><th>samples</th><th>accuracy</th>"
       "<th>balanced acc.</th><th>macro F1</th><th>weighted F1</th><th>checkpoint epoch</th>"
       "<th>selected on</th></tr>\n";
  for (const auto& f : s.done) {
    const Metrics& m = f.metrics;
    b += fmt::format("<tr><th>{}</th>", f.fold) + td_num(std::to_string(m.total)) + td_num(num(m.accuracy)) +
         td_num(num(m.balanced_accuracy)) + td_num(num(m.macro_f1)) + td_num(num(m.weighted_f1)) +
         td_num(std::to_string(f.checkpoint_epoch)) + "<td>" + html_escape(f.selected_on) + "</td></tr>\n";
  }
  for (int agg = 0; agg < 2; ++agg) {
    const auto v = [&](const MeanStd& ms) { return td_num(num(agg == 0 ? ms.mean : ms.std)); };
    b += fmt::format("<tr class=\"agg\"><th>{}</th><td></td>", agg == 0 ? "mean" : "std") + v(s.accuracy) +
         v(s.balanced_accuracy) + v(s.macro_f1) + v(s.weighted_f1) + "<td></td><td></td></tr>\n";
  }
  b += "</table>\n";

  b += fmt::format(
      "<h2>Mean &plusmn; std over folds</h2>\n<table>\n<caption>Sample std (n - 1) over {} folds; pooled: "
      "the metric of the confusion matrix summed over the folds ({} samples).</caption>\n"
      "<tr><th>metric</th><th>mean</th><th>std</th><th>mean &plusmn; std</th><th>pooled</th></tr>\n",
      s.done.size(), s.pooled.total);
  for (const auto& row : summary_metrics()) {
    const MeanStd& ms = s.*(row.agg);
    b += fmt::format("<tr><th>{}</th>", row.label) + td_num(num(ms.mean)) + td_num(num(ms.std)) +
         td_num(num(ms.mean) + " &plusmn; " + num(ms.std)) + td_num(num(s.pooled.*(row.value))) + "</tr>\n";
  }
  b += "</table>\n";

  b += "<h2>Per-class recall</h2>\n<table>\n<tr><th>class</th><th>mean &plusmn; std</th>";
  for (const auto& f : s.done) b += fmt::format("<th>fold {}</th>", f.fold);
  b += "</tr>\n";
  for (size_t c = 0; c < n; ++c) {
    b += "<tr><th>" + html_escape(s.class_names[c]) + "</th>" +
         td_num(num(s.per_class_recall[c].mean) + " &plusmn; " + num(s.per_class_recall[c].std));
    for (const auto& f : s.done) b += td_num(num(f.metrics.recall[c]));
    b += "</tr>\n";
  }
  b += "</table>\n";

  b += "<h2>Confusion matrix summed over folds</h2>\n" + confusion_table(s.pooled.confusion, s.class_names);
  b += figures_section(k.figures);
  b += config_section(k.config_json);
  return page(k.title, b);
}

}  // namespace fer::eval
