// train.select_metric / select_tiebreak: which epoch becomes best.pt.
#include "fer/train/selection.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

using fer::train::selection_improved;

// The epoch best.pt ends on, replaying the trainer's loop over (score, loss) per epoch.
int best_epoch(const std::string& metric, const std::string& tiebreak,
               const std::vector<std::pair<double, double>>& epochs) {
  double best = metric == "loss" ? INFINITY : -INFINITY, best_loss = INFINITY;
  int at = 0;
  for (size_t i = 0; i < epochs.size(); ++i) {
    if (selection_improved(metric, tiebreak, epochs[i].first, epochs[i].second, best, best_loss)) {
      best = epochs[i].first;
      best_loss = epochs[i].second;
      at = static_cast<int>(i) + 1;
    }
  }
  return at;
}

// Validation accuracy of a CK+ fold (84 frames) that reaches its top at epoch 2 and stays there
// while its loss keeps falling, as a fine-tuned run does.
const std::vector<std::pair<double, double>> kTies = {
    {0.881, 0.79}, {0.988, 0.30}, {0.988, 0.19}, {0.964, 0.20}, {0.988, 0.13}, {0.988, 0.14}};

}  // namespace

TEST(Selection, FirstKeepsTheEarliestOfTiedEpochs) { EXPECT_EQ(best_epoch("accuracy", "first", kTies), 2); }

TEST(Selection, LossTiebreakTakesTheTiedEpochWithTheLowestLoss) {
  EXPECT_EQ(best_epoch("accuracy", "loss", kTies), 5);
  EXPECT_EQ(best_epoch("macro_f1", "loss", kTies), 5);
}

TEST(Selection, AHigherScoreWinsWhateverItsLoss) {
  EXPECT_TRUE(selection_improved("accuracy", "loss", 0.90, 5.0, 0.89, 0.1));
  EXPECT_FALSE(selection_improved("accuracy", "loss", 0.88, 0.01, 0.89, 0.1));
}

TEST(Selection, LossMetricIgnoresTheTiebreak) {
  EXPECT_TRUE(selection_improved("loss", "first", 0.2, 0.2, 0.3, 0.3));
  EXPECT_FALSE(selection_improved("loss", "loss", 0.3, 0.3, 0.3, 0.4));  // equal loss: the earlier stays
}

TEST(Selection, TheFirstEpochAlwaysImproves) {
  EXPECT_TRUE(selection_improved("accuracy", "first", 0.0, INFINITY, -INFINITY, INFINITY));
  EXPECT_TRUE(selection_improved("loss", "loss", 9.0, 9.0, INFINITY, INFINITY));
}
