#pragma once
// Comparing the evaluations of several runs on one split (`fer eval --run A --run B ...`): one
// row per run rendered as console text, CSV, Markdown or JSON, and the checks that make the rows
// comparable (same classes, same sample ids). No torch.
#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "fer/eval/metrics.hpp"

namespace fer::config {
struct Config;
}

namespace fer::eval {

/// How one run's evaluated sample ids compare with the reference (first) run's, as sets.
struct SplitDiff {
  size_t only_here = 0;       ///< ids this run evaluated that the reference did not
  size_t only_reference = 0;  ///< ids the reference evaluated that this run did not
  bool same() const { return only_here == 0 && only_reference == 0; }
  size_t differing() const { return only_here + only_reference; }
};

/// One evaluated run: a row of the comparison table.
struct CompareRow {
  std::string run;    ///< the run directory's name
  std::string model;  ///< model_label() of the run's config
  std::string split;  ///< the evaluated split (train | val | test)
  Metrics metrics;
  std::vector<std::string> class_names;  ///< one per metrics class
  int epoch = 0;                         ///< epoch of the evaluated checkpoint
  std::string selection;                 ///< the split that selected the checkpoint
  SplitDiff split_diff;                  ///< against the first row's ids (empty diff for the first)
  BootstrapCI ci;                        ///< 95% intervals (resamples 0 = not computed, shown as "-")
};

/// The model column: the registry name, plus the modality when a single-stream model uses one
/// modality of paired data ("resnet18 (visible)"), the feature combination of fusion_feature
/// ("fusion_feature (concat)") and the logit combination of fusion_late ("fusion_late (learned)").
std::string model_label(const config::Config& cfg);

/// Set comparison of two id lists (order and duplicates ignored).
SplitDiff compare_split_ids(const std::vector<std::string>& reference, const std::vector<std::string>& ids);

/// The sample ids of `part` (train | val | test) in a run's split.json. Throws IoError when the
/// file is unreadable, DataError (naming the file) when it is not a split file.
std::vector<std::string> read_split_ids(const std::string& split_json_path, const std::string& part);

/// Throws DataError naming the first run, the first run whose classes differ, and both class
/// lists. `runs` and `classes` are parallel.
void check_same_classes(const std::vector<std::string>& runs, const std::vector<std::vector<std::string>>& classes);

/// Table formats of --table, chosen by the file's extension.
enum class TableFormat { kCsv, kMarkdown, kJson };

/// .csv, .md or .json (case-insensitive); anything else is a UsageError naming the accepted ones.
TableFormat table_format(const std::string& path);

/// Console table: a header and one line per row, columns padded to the widest cell, numbers with
/// 4 decimals, and a "same split" yes/no column.
std::string comparison_text(const std::vector<CompareRow>& rows);

/// CSV: a header and one line per row, numbers at full (round-trip) precision.
std::string comparison_csv(const std::vector<CompareRow>& rows);

/// Markdown table with the console table's columns (numbers right-aligned, 4 decimals).
std::string comparison_markdown(const std::vector<CompareRow>& rows);

/// Array of objects: each row's run fields plus every metric of metrics_to_json (per-class
/// precision / recall / F1 / support and the confusion matrix).
nlohmann::json comparison_json(const std::vector<CompareRow>& rows);

/// The comparison in `format`, as the text of a file.
std::string render_comparison(const std::vector<CompareRow>& rows, TableFormat format);

/// One warning line per row whose split differs from the first row's, naming both runs and the
/// counts; empty when every row evaluated the same ids.
std::vector<std::string> split_warnings(const std::vector<CompareRow>& rows);

/// One-line summary of an evaluated run for the console.
std::string summary_line(const CompareRow& row);

}  // namespace fer::eval
