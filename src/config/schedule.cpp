// The learning-rate schedules: each one's rule, its state and the registry train.scheduler names
// (no torch: the trainer sets the lr per epoch and reports validation to observe_schedule).
#include <algorithm>
#include <cmath>

#include "fer/config/config.hpp"

namespace fer::config {
namespace {

Registry<LrSchedule> make_registry() {
  Registry<LrSchedule> r("learning-rate schedule");
  r.add("none", "constant train.lr (after any warm-up)",
        {[](const TrainConfig& t, int, int, const ScheduleState&) { return t.lr; }, {}});
  r.add("cosine", "cosine annealing from train.lr to train.min_lr over the epochs after warm-up",
        {[](const TrainConfig& t, int e, int total, const ScheduleState&) {
           return t.min_lr + (t.lr - t.min_lr) * 0.5 * (1.0 + std::cos(M_PI * e / total));
         },
         {}});
  r.add("step", "train.lr x gamma every step_size epochs, after decay_start epochs at the full lr",
        {[](const TrainConfig& t, int e, int, const ScheduleState&) {
           return t.lr * std::pow(t.gamma, std::max(0, e - t.decay_start) / t.step_size);
         },
         {}});
  r.add("plateau",
        "train.lr x plateau_factor whenever the selection metric has not improved for more than "
        "plateau_patience epochs",
        {[](const TrainConfig& t, int, int, const ScheduleState& s) { return t.lr * s.scale; },
         [](const TrainConfig& t, double value, bool lower_is_better, ScheduleState& s) {
           if (std::isnan(s.best) || (lower_is_better ? value < s.best : value > s.best)) {
             s.best = value;
             s.bad = 0;
             return false;
           }
           if (++s.bad <= t.plateau_patience) return false;
           s.scale *= t.plateau_factor;
           s.bad = 0;
           return true;
         }});
  return r;
}

}  // namespace

const Registry<LrSchedule>& schedule_registry() {
  static const Registry<LrSchedule> registry = make_registry();
  return registry;
}

double scheduled_lr(const TrainConfig& t, int epoch, const ScheduleState& state) {
  if (epoch < t.warmup_epochs) return t.lr * (0.1 + 0.9 * epoch / static_cast<double>(t.warmup_epochs));
  const int total = std::max(1, t.epochs - t.warmup_epochs);
  return schedule_registry()
      .get(t.scheduler, "/train/scheduler")
      .value.lr(t, epoch - t.warmup_epochs, total, state);
}

bool observe_schedule(const TrainConfig& t, int epoch, double value, bool lower_is_better,
                      ScheduleState& state) {
  if (epoch < t.warmup_epochs) return false;
  const auto& observe = schedule_registry().get(t.scheduler, "/train/scheduler").value.observe;
  return observe ? observe(t, value, lower_is_better, state) : false;
}

}  // namespace fer::config
