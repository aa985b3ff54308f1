#pragma once
// `fer eval`: a run's checkpoint on one split of its data, with metrics and plots written into
// the run directory (no torch in this header).
#include <string>
#include <vector>

#include "fer/config/config.hpp"
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

/// A run as its checkpoint's JSON record describes it, read without loading data or weights.
struct RunInfo {
  std::string checkpoint;                ///< the resolved checkpoint path
  std::vector<std::string> class_names;  ///< the model's classes
  config::Config config;                 ///< the run's stored config
};

/// The checkpoint record of the run evaluate_run(req) would evaluate (cheap: no data, no
/// weights), so several runs can be checked against each other before any is evaluated.
/// Throws as evaluate_run does: UsageError for a bad --split/--tta, IoError for a missing run
/// or checkpoint, DataError for an incomplete record.
RunInfo describe_run(const EvalRequest& req);

}  // namespace fer::infer
