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

/// JSON with every field, per-class entries keyed by class name, and the confusion matrix
/// (counts and row-normalised).
nlohmann::json metrics_to_json(const Metrics& m, const std::vector<std::string>& class_names);

/// CSV: header "true\\pred,<names...>", one row per true class of counts.
std::string confusion_csv(const Metrics& m, const std::vector<std::string>& class_names);

}  // namespace fer::eval
