#pragma once
// `fer eval`: a run's checkpoint on one split of its data, with metrics and plots written into
// the run directory (no torch in this header).
#include <string>
#include <vector>

#include "fer/eval/metrics.hpp"

namespace fer::infer {

/// What to evaluate.
struct EvalRequest {
  std::string run_dir;
  std::string checkpoint = "best";  ///< best | last | a .pt path
  std::string split = "test";       ///< train | val | test
  std::string tta = "config";       ///< config (the run's eval.ten_crop) | none | ten_crop
  std::string device = "auto";
  int threads = 0;
};

/// Results of an evaluation; files written: eval_<split>.json, confusion_<split>.csv,
/// confusion_<split>.png, per_class_<split>.png, and curves.png from history.csv.
struct EvalResult {
  eval::Metrics metrics;
  std::vector<std::string> class_names;
  std::string selection;  ///< the split that chose the checkpoint
  int epoch = 0;          ///< epoch of the checkpoint
  std::vector<std::string> files;
};

EvalResult evaluate_run(const EvalRequest& req);

}  // namespace fer::infer
