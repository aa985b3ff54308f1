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
  flags->add_to(sub, /*need_config=*/true);
  sub->add_flag("--resume", *resume, "Continue the run in --out from its last.pt");
  sub->add_flag("--no-progress", *no_progress, "No progress bar");
  return [flags, resume, no_progress]() {
    const config::Config cfg = config::load_config(flags->config, flags->overrides());
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
    spdlog::info("evaluate it once on the test split: fer eval --run {}", opts.run_dir);
    return 0;
  };
}

}  // namespace fer::app
