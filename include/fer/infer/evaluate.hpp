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
  /// train | val | test of the run's split.json; with `data`: all (default) or a split of that
  /// config's data.split and seed. "" = the default (test, or all with `data`).
  std::string split;
  std::string tta = "config";  ///< config (the run's eval.ten_crop / eval.flip) | none | flip | ten_crop
  std::string device = "auto";
  std::string precision;  ///< fp32 | bf16 | fp16 of the forward passes; "" = the run's train.precision
  int threads = 0;
  /// Another dataset: a fer config file whose data section (and seed, name) is evaluated instead
  /// of the run's own data; the model's classes are mapped onto its classes (eval::ClassMap).
  std::string data;
  std::vector<std::string> class_map;        ///< --class-map values (MODEL=DATASET pairs or a JSON file)
  std::vector<std::string> exclude_classes;  ///< dataset classes whose samples are left out
  int bootstrap = 1000;                      ///< resamples of the 95% intervals (0 = none)
  int64_t bootstrap_seed = -1;               ///< -1 = the run's seed
  bool html = true;                          ///< write report_<tag>.html
  std::vector<std::string> overrides;        ///< --set KEY=VALUE for the `data` config
};

/// Results of an evaluation; files written (tag = the split, or <dataset name>_<split> with
/// EvalRequest::data): eval_<tag>.json, confusion_<tag>.csv, confusion_<tag>.png,
/// per_class_<tag>.png, report_<tag>.html, and curves.png from history.csv.
struct EvalResult {
  eval::Metrics metrics;
  std::vector<std::string> class_names;  ///< the evaluated classes (the dataset's, minus excluded)
  std::string split;                     ///< the evaluated split (train | val | test | all)
  std::string tag;                       ///< the name part of the files written
  std::string dataset;                   ///< "" for the run's own data, else the data config's name
  std::string tta;                       ///< none | flip | ten_crop
  std::string precision;                 ///< of the forward passes: fp32 | bf16 | fp16
  std::string selection;  ///< the split that chose the checkpoint
  int epoch = 0;          ///< epoch of the checkpoint
  eval::BootstrapCI ci;   ///< resamples 0 when not computed
  std::vector<std::string> mapping;  ///< ClassMap::describe() when the classes were mapped, else empty
  std::vector<std::string> ids;      ///< ids of the evaluated samples
  std::vector<std::string> files;
  std::vector<std::string> warnings;  ///< about the checkpoint (also logged), e.g. a stale best.pt
};

/// EvalResult::selection of `--checkpoint last`: nothing chose the last epoch.
inline constexpr const char* kNotSelected = "none (the last epoch)";

EvalResult evaluate_run(const EvalRequest& req);

/// A run as its checkpoint's JSON record describes it, read without loading data or weights.
struct RunInfo {
  std::string checkpoint;                ///< the resolved checkpoint path
  std::vector<std::string> class_names;  ///< the model's classes
  config::Config config;                 ///< the run's stored config
};

/// The checkpoint record of the run evaluate_run(req) would evaluate (cheap: no data, no
/// weights), so several runs can be checked against each other before any is evaluated.
/// Throws as evaluate_run does: UsageError for a bad request, IoError for a missing run
/// or checkpoint, DataError for an incomplete record.
RunInfo describe_run(const EvalRequest& req);

}  // namespace fer::infer
