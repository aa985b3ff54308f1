#pragma once
// What a training run carries from one epoch to the next: the checkpoint selection, early
// stopping, the learning-rate schedule's state, the time-budget horizon and the history. Saved in
// every checkpoint ("train_state" and "history") and restored as one object on --resume.
// Torch-free.
#include <nlohmann/json.hpp>

#include <limits>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/eval/plots.hpp"

namespace fer::train {

struct TrainState {
  int epoch = 0;  ///< epochs done
  /// train.select_metric of best_epoch (-inf, or +inf for loss, before any epoch).
  double best_value = -std::numeric_limits<double>::infinity();
  double best_loss = std::numeric_limits<double>::infinity();  ///< selection loss of best_epoch
  int best_epoch = 0;                                          ///< 1-based; 0 = none yet
  int bad_epochs = 0;                                          ///< epochs since the best (early stopping)
  config::ScheduleState schedule;                              ///< plateau's reduction so far
  int horizon = 0;              ///< epochs the schedule spans: train.epochs, or fitted to a time budget
  bool horizon_fitted = false;  ///< the budget's horizon is final (fitted on a steady epoch)
  double budget_used_s = 0;     ///< wall seconds of the epochs so far (budget runs)
  std::vector<eval::EpochRecord> history;

  /// A new run's state under `t`.
  static TrainState fresh(const config::TrainConfig& t);

  /// The state from a checkpoint's metadata (its "train_state" and "history"), including states
  /// written before best_loss or the budget keys existed. A budget horizon is kept only when `t`
  /// still has a budget, and never beyond t.epochs. Throws nlohmann::json errors for a malformed
  /// state (the checkpoint reader names the file).
  static TrainState from_meta(const nlohmann::json& meta, const config::TrainConfig& t);

  /// The "train_state" object (+-inf written as null: JSON has no infinity).
  nlohmann::json state_json() const;
  /// The "history" array.
  nlohmann::json history_json() const;

  /// Scores 0-based `epoch` on the selection split (train.select_metric `value`, loss `loss`):
  /// updates the best epoch and the early-stopping count and feeds the schedule. Returns whether
  /// the epoch is the new best; `lr_lowered` says whether the schedule lowered the learning rate.
  bool select(const config::TrainConfig& t, const config::TrainConfig& schedule, int epoch, double value,
              double loss, bool& lr_lowered);

  /// Forgets the best epoch (its weights are lost): the selection starts again.
  void restart_selection(const config::TrainConfig& t);

  /// True when early stopping (train.early_stopping epochs without a new best) ends the run.
  bool early_stop(const config::TrainConfig& t) const;
};

}  // namespace fer::train
