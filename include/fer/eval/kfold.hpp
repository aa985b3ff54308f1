#pragma once
// k-fold cross-validation: the state of each fold's run directory, the check that a fold dir
// belongs to this k-fold, and the report over the folds' eval_test.json (no torch).
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "fer/eval/metrics.hpp"

namespace fer::eval {

/// The test-split evaluation of one fold, as read from <dir>/fold_<i>/eval_test.json.
struct FoldEval {
  int fold = 0;      ///< 1-based
  std::string path;  ///< the eval_test.json it came from
  Metrics metrics;   ///< rebuilt from the JSON (confusion, per-class, summaries)
  std::vector<std::string> class_names;
  std::string selected_on;  ///< checkpoint_selected_on: "val" (honest) or "test" (seed protocol)
  int checkpoint_epoch = 0;
};

/// Parses an eval_test.json written by `fer eval`; throws DataError naming `path` when a field
/// is missing or the confusion matrix is not square over the class list.
FoldEval parse_fold_eval(const nlohmann::json& j, int fold, const std::string& path);

/// Mean and sample standard deviation (n - 1; 0 for one value) of one metric over the folds.
struct MeanStd {
  double mean = 0, std = 0;
};
MeanStd mean_std(const std::vector<double>& v);

/// The aggregate over the done folds.
struct KfoldSummary {
  int folds = 0;               ///< K
  std::vector<FoldEval> done;  ///< sorted by fold
  std::vector<int> missing;    ///< folds in 1..K without eval_test.json
  std::vector<std::string> class_names;
  MeanStd accuracy, balanced_accuracy;
  MeanStd macro_precision, macro_recall, macro_f1;
  MeanStd weighted_precision, weighted_recall, weighted_f1;
  std::vector<MeanStd> per_class_recall;  ///< per class, over folds
  Metrics pooled;                         ///< metrics of the confusion matrix summed over folds
  std::vector<std::string> selection;     ///< distinct checkpoint_selected_on values, sorted
  std::vector<int> selected_on_test;      ///< folds whose checkpoint was chosen on the test split
};

/// One summary metric of the reports: its key (JSON, CSV), its label (HTML), its value in a
/// Metrics and its aggregate in a KfoldSummary. summary_metrics() lists them in report order:
/// accuracy, balanced accuracy, macro and weighted precision, recall and F1.
struct SummaryMetric {
  const char* key;
  const char* label;
  double Metrics::*value;
  MeanStd KfoldSummary::*agg;
};
const std::vector<SummaryMetric>& summary_metrics();

/// Aggregates the done folds of a K-fold run. Requires at least one fold, all with the same
/// class names (else DataError naming the fold files).
KfoldSummary summarize_folds(std::vector<FoldEval> done, int folds);

/// One line saying which split chose the checkpoints; loud (upper case, "BIASED") when any
/// fold chose on the test split.
std::string selection_statement(const KfoldSummary& s);

/// kfold_report.json: every mean/std, per-fold values, summed confusion, pooled accuracy,
/// selection, missing folds.
nlohmann::json kfold_report_json(const KfoldSummary& s);
/// kfold_report.csv: header, one row per done fold, then "mean" and "std" rows.
std::string kfold_report_csv(const KfoldSummary& s);
/// kfold_report.md: the same table in Markdown plus summed confusion and notes.
std::string kfold_report_markdown(const KfoldSummary& s);

/// Reads DIR/fold_*/eval_test.json for folds 1..K (K from DIR/kfold.json when present, else the
/// highest fold_<i> dir) and writes kfold_report.{json,csv,md}, kfold_confusion.png and
/// kfold_accuracy.png and kfold_report.html (all of it on one offline page) into DIR. Throws
/// DataError when no fold is done. `written` gets the paths.
KfoldSummary write_kfold_report(const std::string& dir, std::vector<std::string>* written = nullptr);

/// What a fold's run directory holds.
enum class FoldState {
  kNew,     ///< nothing to keep: train from scratch
  kResume,  ///< last.pt without eval_test.json: continue training with --resume, then eval
  kDone,    ///< eval_test.json exists: skip
};
FoldState fold_state(const std::string& fold_dir);

/// "<dir>/fold_<i>".
std::string fold_dir(const std::string& dir, int fold);

/// JSON pointers where two resolved configs differ, ignoring what may differ between the folds
/// of one k-fold (/data/split/fold, /name, /threads, /device, /data/workers, /data/prefetch)
/// and, when `expected` leaves dataset normalisation to be computed, the per-fold mean/std.
std::vector<std::string> kfold_config_differences(const nlohmann::json& expected,
                                                  const nlohmann::json& actual);

}  // namespace fer::eval
