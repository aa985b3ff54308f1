#pragma once
// Training a run: data, split, model, optimisation, checkpoint selection on the validation
// split, resume. Writes the run directory described in DESIGN.md (no torch in this header).
#include <atomic>
#include <string>

#include "fer/config/config.hpp"

namespace fer::train {

/// Options that are about this invocation, not the experiment.
struct RunOptions {
  std::string run_dir;          ///< where config.json, split.json, checkpoints and logs go
  bool resume = false;          ///< continue from run_dir/last.pt
  bool progress = true;         ///< progress bar (only drawn when stderr is a terminal)
  std::atomic<bool>* stop = nullptr;  ///< set to request a clean stop after the current batch
};

/// What a finished (or stopped) training reports.
struct TrainSummary {
  int epochs_run = 0;         ///< epochs completed, in all (resumed ones included)
  int best_epoch = 0;         ///< 1-based epoch of best.pt
  double best_value = 0;      ///< value of the selection metric at best_epoch
  std::string metric;         ///< the selection metric
  std::string selection;      ///< the split that chose the checkpoint ("val" or "test")
  bool early_stopped = false;
  bool interrupted = false;
  bool has_test = true;       ///< the split has a test part (false: data.split.test "")
  // train.budget_minutes > 0 only:
  double budget_minutes = 0;  ///< the budget
  int budget_epochs = 0;      ///< the epochs the schedule was fitted to span
  double budget_used_s = 0;   ///< seconds the epoch loop took, resumed parts included
  bool budget_stopped = false;  ///< stopped before budget_epochs: the next epoch would end past the budget
};

/// The checks that read no data and write nothing, run before a run directory is made: the model
/// name against the model registry (ConfigError naming where it was written) and the launcher's
/// environment (fer/core/launch.hpp: UsageError for bad RANK / WORLD_SIZE / SLURM_* values, and for
/// a multi-process job, until data-parallel training lands). train() runs them first too.
void check_before_run(const config::Config& cfg);

/// Trains as configured. Throws ConfigError for an invalid config or a run directory that
/// belongs to another run, DataError/IoError for data problems.
TrainSummary train(const config::Config& cfg, const RunOptions& opts);

}  // namespace fer::train
