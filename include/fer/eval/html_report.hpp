#pragma once
// Self-contained one-page HTML reports (no torch, no network): every figure is embedded as a
// data: URI and the style is inline, so the file can be mailed or opened offline as it is.
#include <string>
#include <utility>
#include <vector>

#include "fer/eval/kfold.hpp"
#include "fer/eval/metrics.hpp"

namespace fer::eval {

/// base64 (RFC 4648, with '=' padding) of bytes.
std::string base64_encode(const std::string& bytes);
/// HTML-escapes & < > " ' (safe in text and in quoted attribute values).
std::string html_escape(const std::string& s);

/// One embedded image: read from `path` (PNG) and embedded as a data: URI; a missing file is
/// shown as a line "not found: <path>" instead of failing (a report of a partial run still renders).
struct HtmlFigure {
  std::string title;
  std::string path;
};

/// Per-run report (fer eval writes it as report_<split>.html in the run directory).
struct RunReport {
  std::string title;  ///< e.g. the run name
  /// key/value rows: split, samples, checkpoint epoch, "checkpoint chosen on", tta, fer version,
  /// git commit, libraries, device, seed, dataset ...
  std::vector<std::pair<std::string, std::string>> facts;
  Metrics metrics;
  std::vector<std::string> class_names;  ///< one per class of `metrics`
  /// optional 95% bootstrap intervals of accuracy and macro F1; not shown when has_ci is false
  bool has_ci = false;
  double acc_lo = 0, acc_hi = 0, f1_lo = 0, f1_hi = 0;
  std::vector<HtmlFigure> figures;    ///< curves.png, confusion_<split>.png, per_class_<split>.png
  std::string config_json;            ///< the resolved config, shown in a <pre> block (omitted when empty)
  std::vector<std::string> warnings;  ///< shown in a red box at the top (e.g. checkpoint chosen on TEST)
};
/// The whole HTML5 page. Throws DataError when class_names or the per-class vectors of
/// `metrics` do not have num_classes entries. A loss of 0 (not set) is shown as "n/a".
std::string render_run_report(const RunReport& r);

/// k-fold report (fer kfold report writes it as kfold_report.html).
struct KfoldHtml {
  std::string title;
  KfoldSummary summary;
  std::vector<HtmlFigure> figures;  ///< kfold_confusion.png, kfold_accuracy.png
  std::string config_json;          ///< the k-fold's config (empty: section omitted)
};
/// The whole HTML5 page: selection statement (loud when a fold chose on test), missing folds,
/// per-fold table with mean and std rows, mean ± std of every metric, per-class recall, summed
/// confusion, figures, config. Throws DataError when the summary's per-class data do not
/// match its class names.
std::string render_kfold_report(const KfoldHtml& k);

}  // namespace fer::eval
