#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>

#include "commands.hpp"
#include "fer/config/config.hpp"
#include "fer/train/trainer.hpp"
#include "interrupt.hpp"

namespace fer::app {
namespace {
std::atomic<bool> g_stop{false};
}  // namespace

Runner add_train(CLI::App& app) {
  auto* sub = app.add_subcommand("train", "Train a model from a JSON config");
  auto flags = std::make_shared<CommonRunFlags>();
  auto resume = std::make_shared<bool>(false);
  auto no_progress = std::make_shared<bool>(false);
  auto budget = std::make_shared<double>(-1);
  flags->add_to(sub, /*need_config=*/true);
  sub->add_option("--budget-minutes", *budget,
                  "Time budget: fit the schedule's epochs to this many minutes of training (train.budget_minutes)")
      ->check(CLI::Range(0.0, 525600.0));
  sub->add_flag("--resume", *resume, "Continue the run in --out from its last.pt");
  sub->add_flag("--no-progress", *no_progress, "No progress bar");
  return [flags, resume, no_progress, budget]() {
    auto overrides = flags->overrides();
    if (*budget >= 0) overrides.push_back(fmt::format("train.budget_minutes={}", *budget));
    const config::Config cfg = config::load_config(flags->config, overrides);
    train::check_before_run(cfg);  // before the run directory is made
    train::RunOptions opts;
    opts.run_dir = flags->out.empty() ? (std::filesystem::path("runs") / cfg.name).string() : flags->out;
    opts.resume = *resume;
    opts.progress = !*no_progress;
    opts.stop = &g_stop;
    std::filesystem::create_directories(opts.run_dir);
    add_log_file((std::filesystem::path(opts.run_dir) / "train.log").string());
    catch_stop_signals(g_stop);
    spdlog::info("run directory: {}", opts.run_dir);
    const auto s = train::train(cfg, opts);
    if (s.interrupted) return 1;  // main() then ends the process by the signal
    spdlog::info("done: {} epochs{}; best.pt = epoch {} ({} {} {:.4f})", s.epochs_run,
                 s.early_stopped ? " (early stop)" : "", s.best_epoch, s.selection, s.metric, s.best_value);
    if (s.budget_minutes > 0) {
      spdlog::info("time budget {:g} min: {:.1f} min used, {} of {} fitted epochs{}", s.budget_minutes,
                   s.budget_used_s / 60, s.epochs_run, s.budget_epochs,
                   s.budget_stopped ? " (stopped: the next epoch would have ended past the budget)" : "");
    }
    if (s.has_test) {
      spdlog::info("evaluate it once on the test split: fer eval --run {}", opts.run_dir);
    } else {
      spdlog::info("this data has no test split; score the run on one: fer eval --run {} --data OTHER.json --split all",
                   opts.run_dir);
    }
    return 0;
  };
}

}  // namespace fer::app
