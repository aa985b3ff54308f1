#pragma once
// Classification metrics from labels and predictions (no torch).
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fer::eval {

/// Metrics of one evaluation. Precision of a never-predicted class is 0 (as sklearn's
/// zero_division=0); F1 is 0 when precision + recall is 0.
struct Metrics {
  int num_classes = 0;
  int64_t total = 0;
  std::vector<std::vector<int64_t>> confusion;  ///< [true][pred] counts
  double accuracy = 0, balanced_accuracy = 0;
  std::vector<double> precision, recall, f1;
  std::vector<int64_t> support;  ///< true count per class
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double weighted_precision = 0, weighted_recall = 0, weighted_f1 = 0;
  double loss = 0;  ///< mean cross-entropy when the caller sets it, else 0
};

/// Computes all metrics; labels outside [0, num_classes) are a DataError.
Metrics compute_metrics(const std::vector<int>& y_true, const std::vector<int>& y_pred, int num_classes);

/// Percentile bootstrap confidence intervals of accuracy and macro F1.
struct BootstrapCI {
  int resamples = 0;  ///< 0 = not computed
  uint64_t seed = 0;
  double level = 0.95;
  double accuracy_lo = 0, accuracy_hi = 0;
  double macro_f1_lo = 0, macro_f1_hi = 0;
};

/// Stratified percentile bootstrap: each resample draws, within every true class, as many
/// samples as the class has (with replacement), so the test set's class composition is kept and
/// a rare class never vanishes from a resample; metrics as compute_metrics. The same seed gives
/// the same interval. resamples >= 1, 0 < level < 1; DataError on empty or mismatched labels.
BootstrapCI bootstrap_ci(const std::vector<int>& y_true, const std::vector<int>& y_pred, int num_classes,
                         int resamples, uint64_t seed, double level = 0.95);

/// JSON with every field, per-class entries keyed by class name, and the confusion matrix
/// (counts and row-normalised).
nlohmann::json metrics_to_json(const Metrics& m, const std::vector<std::string>& class_names);

/// CSV: header "true\\pred,<names...>", one row per true class of counts.
std::string confusion_csv(const Metrics& m, const std::vector<std::string>& class_names);

}  // namespace fer::eval
