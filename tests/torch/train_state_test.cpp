// TrainState: the run state a checkpoint saves and --resume restores as one object.
#include "fer/train/state.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace {

using fer::train::TrainState;

fer::config::TrainConfig train_config(const std::string& metric) {
  fer::config::TrainConfig t;
  t.epochs = 10;
  t.select_metric = metric;
  t.scheduler = "plateau";
  t.plateau_patience = 0;
  t.plateau_factor = 0.5;
  t.early_stopping = 2;
  return t;
}

}  // namespace

TEST(TrainState, FreshStateRoundTripsThroughACheckpointsMetadata) {
  const auto t = train_config("accuracy");
  TrainState s = TrainState::fresh(t);
  EXPECT_EQ(s.horizon, 10);
  EXPECT_EQ(s.best_value, -std::numeric_limits<double>::infinity());
  // Infinities and the schedule's NaN are written as null and read back as the initial values.
  const nlohmann::json meta = nlohmann::json::parse(
      nlohmann::json{{"train_state", s.state_json()}, {"history", s.history_json()}}.dump());
  EXPECT_TRUE(meta["train_state"]["best_value"].is_null());
  EXPECT_TRUE(meta["train_state"]["plateau_best"].is_null());
  const TrainState back = TrainState::from_meta(meta, t);
  EXPECT_EQ(back.best_value, s.best_value);
  EXPECT_EQ(back.best_loss, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(back.schedule.best));
  EXPECT_EQ(back.epoch, 0);
  EXPECT_TRUE(back.history.empty());
}

TEST(TrainState, SelectionEarlyStoppingAndScheduleAdvanceTogetherAndSurviveAResume) {
  const auto t = train_config("accuracy");
  TrainState s = TrainState::fresh(t);
  bool lowered = false;
  EXPECT_TRUE(s.select(t, t, 0, 0.5, 1.0, lowered));
  EXPECT_FALSE(lowered);
  EXPECT_FALSE(s.select(t, t, 1, 0.5, 0.9, lowered));  // a tie keeps the earlier epoch ("first")
  EXPECT_TRUE(lowered);                                // patience 0: plateau halves the lr
  EXPECT_EQ(s.best_epoch, 1);
  EXPECT_EQ(s.bad_epochs, 1);
  EXPECT_FALSE(s.early_stop(t));
  s.epoch = 2;
  s.history.resize(2);
  s.history[0].val_loss = 1.0;
  s.history[1].val_loss = 0.9;

  TrainState r = TrainState::from_meta(
      nlohmann::json::parse(
          nlohmann::json{{"train_state", s.state_json()}, {"history", s.history_json()}}.dump()),
      t);
  EXPECT_EQ(r.epoch, 2);
  EXPECT_EQ(r.best_epoch, 1);
  EXPECT_DOUBLE_EQ(r.best_value, 0.5);
  EXPECT_DOUBLE_EQ(r.best_loss, 1.0);
  EXPECT_DOUBLE_EQ(r.schedule.scale, 0.5);
  EXPECT_EQ(r.history.size(), 2u);
  EXPECT_FALSE(r.select(t, t, 2, 0.4, 0.8, lowered));
  EXPECT_TRUE(r.early_stop(t));  // two epochs without a new best

  // A state written before best_loss existed takes it from the best epoch's history row.
  nlohmann::json old = nlohmann::json::parse(
      nlohmann::json{{"train_state", s.state_json()}, {"history", s.history_json()}}.dump());
  old["train_state"].erase("best_loss");
  EXPECT_DOUBLE_EQ(TrainState::from_meta(old, t).best_loss, 1.0);

  r.restart_selection(t);
  EXPECT_EQ(r.best_epoch, 0);
  EXPECT_TRUE(r.select(t, t, 3, 0.1, 2.0, lowered));  // anything beats a restarted selection
}

TEST(TrainState, BudgetHorizonIsKeptOnlyUnderABudgetAndNeverBeyondTheEpochs) {
  auto t = train_config("loss");
  TrainState s = TrainState::fresh(t);
  EXPECT_EQ(s.best_value, std::numeric_limits<double>::infinity());
  s.horizon = 7;
  s.horizon_fitted = true;
  s.budget_used_s = 42;
  const nlohmann::json meta = nlohmann::json::parse(
      nlohmann::json{{"train_state", s.state_json()}, {"history", s.history_json()}}.dump());
  EXPECT_EQ(TrainState::from_meta(meta, t).horizon, 10);  // no budget now: train.epochs
  t.budget_minutes = 1;
  const TrainState b = TrainState::from_meta(meta, t);
  EXPECT_EQ(b.horizon, 7);
  EXPECT_TRUE(b.horizon_fitted);
  EXPECT_DOUBLE_EQ(b.budget_used_s, 42);
  t.epochs = 5;
  EXPECT_EQ(TrainState::from_meta(meta, t).horizon, 5);
}
