// TrainState: selection, early stopping, schedule state, budget horizon and history, as one
// object that checkpoints save and --resume restores.
#include "fer/train/state.hpp"

#include <algorithm>
#include <cmath>

#include "fer/train/selection.hpp"

namespace fer::train {
namespace {

double initial_best(const config::TrainConfig& t) {
  return t.select_metric == config::SelectMetric::kLoss ? std::numeric_limits<double>::infinity()
                                                        : -std::numeric_limits<double>::infinity();
}

std::vector<eval::EpochRecord> history_from_json(const nlohmann::json& j) {
  std::vector<eval::EpochRecord> h;
  for (const auto& r : j) {
    eval::EpochRecord e;
    e.epoch = r.at("epoch");
    e.lr = r.at("lr");
    e.train_loss = r.at("train_loss");
    e.train_acc = r.at("train_acc");
    e.val_loss = r.at("val_loss");
    e.val_acc = r.at("val_acc");
    e.val_macro_f1 = r.at("val_macro_f1");
    e.seconds = r.at("seconds");
    h.push_back(e);
  }
  return h;
}

}  // namespace

TrainState TrainState::fresh(const config::TrainConfig& t) {
  TrainState s;
  s.best_value = initial_best(t);
  s.horizon = t.epochs;
  return s;
}

TrainState TrainState::from_meta(const nlohmann::json& meta, const config::TrainConfig& t) {
  TrainState s = fresh(t);
  const auto& st = meta.at("train_state");
  const auto number = [&st](const char* key, double if_null) {
    return st.at(key).is_null() ? if_null : st.at(key).get<double>();
  };
  s.epoch = st.at("epoch");
  s.best_value = number("best_value", s.best_value);
  s.best_epoch = st.at("best_epoch");
  s.bad_epochs = st.at("bad_epochs");
  s.schedule.scale = st.at("plateau_scale");
  s.schedule.best = number("plateau_best", std::nan(""));
  s.schedule.bad = st.at("plateau_bad");
  s.history = history_from_json(meta.at("history"));
  if (st.contains("best_loss")) {
    s.best_loss = number("best_loss", std::numeric_limits<double>::infinity());
  } else if (s.best_epoch >= 1 && s.best_epoch <= static_cast<int>(s.history.size())) {
    s.best_loss = s.history[s.best_epoch - 1].val_loss;  // a state written before the key existed
  }
  if (t.budget_minutes > 0 && st.contains("horizon")) {
    s.horizon = std::min(st.at("horizon").get<int>(), t.epochs);
    s.horizon_fitted = st.at("horizon_fitted");
    s.budget_used_s = st.at("budget_used_s");
  }
  return s;
}

nlohmann::json TrainState::state_json() const {
  // nlohmann writes a non-finite double as null; from_meta reads null back as the initial value.
  return {{"epoch", epoch},
          {"best_value", best_value},
          {"best_loss", best_loss},
          {"best_epoch", best_epoch},
          {"bad_epochs", bad_epochs},
          {"plateau_scale", schedule.scale},
          {"plateau_best", schedule.best},
          {"plateau_bad", schedule.bad},
          {"horizon", horizon},
          {"horizon_fitted", horizon_fitted},
          {"budget_used_s", budget_used_s}};
}

nlohmann::json TrainState::history_json() const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : history) {
    j.push_back({{"epoch", e.epoch},
                 {"lr", e.lr},
                 {"train_loss", e.train_loss},
                 {"train_acc", e.train_acc},
                 {"val_loss", e.val_loss},
                 {"val_acc", e.val_acc},
                 {"val_macro_f1", e.val_macro_f1},
                 {"seconds", e.seconds}});
  }
  return j;
}

bool TrainState::select(const config::TrainConfig& t, const config::TrainConfig& schedule_cfg, int ep,
                        double value, double loss, bool& lr_lowered) {
  const bool improved =
      selection_improved(t.select_metric, t.select_tiebreak, value, loss, best_value, best_loss);
  if (improved) {
    best_value = value;
    best_loss = loss;
    best_epoch = ep + 1;
    bad_epochs = 0;
  } else {
    ++bad_epochs;
  }
  lr_lowered = config::observe_schedule(schedule_cfg, ep, value,
                                        t.select_metric == config::SelectMetric::kLoss, schedule);
  return improved;
}

void TrainState::restart_selection(const config::TrainConfig& t) {
  best_value = initial_best(t);
  best_loss = std::numeric_limits<double>::infinity();
  best_epoch = 0;
}

bool TrainState::early_stop(const config::TrainConfig& t) const {
  return t.early_stopping > 0 && bad_epochs >= t.early_stopping;
}

}  // namespace fer::train
