// Checkpoint selection: whether an epoch's score on the selection split beats the best so far.
// Header-only and torch-free (the trainer and the unit tests share it).
#pragma once

#include <string>

namespace fer::train {

/// True when an epoch that scored `value` (train.select_metric: accuracy, macro_f1 or loss) with
/// selection loss `loss` replaces the best epoch (`best_value`, `best_loss`). A tie on accuracy
/// or macro F1 keeps the earliest epoch under tiebreak "first" and goes to the lower loss under
/// "loss" (small validation parts tie often, and the earliest of them is the least trained).
inline bool selection_improved(const std::string& metric, const std::string& tiebreak, double value,
                               double loss, double best_value, double best_loss) {
  if (metric == "loss") return value < best_value;
  if (value != best_value) return value > best_value;
  return tiebreak == "loss" && loss < best_loss;
}

}  // namespace fer::train
