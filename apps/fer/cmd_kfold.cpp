// fer kfold: every fold of a k-fold config as its own run directory, trained and evaluated by
// child processes of this same binary (so a fold is exactly `fer train` + `fer eval`, and a
// cluster can run `fer kfold --fold i` as a job array); fer kfold report aggregates them. The
// checks and the scheduling are train::run_kfold's; this file parses the flags and prints.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.hpp"
#include "fer/core/error.hpp"
#include "fer/eval/kfold.hpp"
#include "fer/train/kfold_runner.hpp"
#include "interrupt.hpp"

namespace fer::app {
namespace {
namespace fs = std::filesystem;

std::atomic<bool> g_stop{false};

struct KfoldOptions {
  CommonRunFlags flags;
  int folds = 0;
  int fold = 0;  // 0 = all
  int jobs = 1;
  std::string report_dir;
};

int run_report(const std::string& dir) {
  std::vector<std::string> files;
  const auto s = eval::write_kfold_report(dir, &files);
  fmt::print("{}-fold report over {} done fold(s)\n", s.folds, s.done.size());
  fmt::print(
      "accuracy {:.2f}% +- {:.2f}% (mean +- sample std), balanced accuracy {:.2f}% +- {:.2f}%, macro F1 "
      "{:.4f} +- {:.4f}\n",
      100 * s.accuracy.mean, 100 * s.accuracy.std, 100 * s.balanced_accuracy.mean,
      100 * s.balanced_accuracy.std, s.macro_f1.mean, s.macro_f1.std);
  fmt::print("pooled accuracy of the summed confusion: {:.2f}% over {} samples\n", 100 * s.pooled.accuracy,
             s.pooled.total);
  fmt::print("{}\n", eval::selection_statement(s));
  fmt::print("written:\n");
  for (const auto& f : files) fmt::print("  {}\n", f);
  if (!s.missing.empty()) {
    std::vector<std::string> m;
    for (int k : s.missing) m.push_back(std::to_string(k));
    fmt::print(stderr,
               "error: folds missing (no eval_test.json): {}; the report covers the done folds only\n",
               fmt::join(m, ", "));
    return 1;
  }
  return 0;
}

/// Prints what the scheduler does: one line per fold event, errors on stderr.
void print_event(const train::KfoldEvent& e) {
  using K = train::KfoldEvent;
  switch (e.kind) {
    case K::kSkippedDone:
      fmt::print("fold {}: done\n", e.fold);
      break;
    case K::kReady:  // the folds start now: Ctrl-C stops them instead of this process
      catch_stop_signals(g_stop);
      break;
    case K::kStarted:
      fmt::print("fold {}: {}{} (log: {})\n", e.fold, e.step == "train" ? "training" : "evaluating",
                 e.resuming ? " (resuming from last.pt)" : "", e.log);
      break;
    case K::kStopped:
      fmt::print("fold {}: stopped ({} {}); continue it by running the same command again\n", e.fold, e.step,
                 e.detail);
      break;
    case K::kFailed:
      fmt::print(stderr, "error: fold {}: fer {} {}; see {}\n", e.fold, e.step, e.detail, e.log);
      break;
    case K::kFoldDone:
      fmt::print("fold {}: done{}\n", e.fold, e.detail.empty() ? "" : ": " + e.detail);
      break;
  }
  std::fflush(stdout);
}

int run_kfold(const KfoldOptions& o) {
  const auto& f = o.flags;
  train::KfoldOptions k;
  k.config_path = f.config;
  if (!f.seed.empty()) k.overrides.push_back("seed=" + f.seed);
  if (!f.device.empty()) k.overrides.push_back("device=\"" + f.device + "\"");
  if (!f.precision.empty()) k.overrides.push_back("train.precision=\"" + f.precision + "\"");
  k.overrides.insert(k.overrides.end(), f.sets.begin(), f.sets.end());
  k.threads = f.threads;
  k.folds = o.folds;
  k.fold = o.fold;
  k.jobs = o.jobs;
  k.out = f.out;
  k.stop = &g_stop;
  k.on_event = print_event;
  const train::KfoldResult r = train::run_kfold(k);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  const int done = static_cast<int>(r.done.size());
  if (r.interrupted && done < r.folds) {  // else report below
    fmt::print(stderr,
               "interrupted: {} of {} folds done and kept in {}; run the same command again to continue\n",
               done, r.folds, r.dir);
    return 1;
  }
  int rc = r.failed.empty() ? 0 : 1;
  if (!r.failed.empty()) {
    std::vector<std::string> logs;
    for (int i : r.failed) logs.push_back(fmt::format("fold {} ({})", i, train::kfold_log(r.dir, i)));
    fmt::print(stderr, "error: failed: {}\n", fmt::join(logs, ", "));
  }
  if (done == r.folds) {
    fmt::print("\n");
    rc = std::max(rc, run_report(r.dir));
  } else {
    fmt::print("{} of {} folds done; the report comes when all are (or now: fer kfold report {})\n", done,
               r.folds, r.dir);
  }
  return rc;
}

}  // namespace

Runner add_kfold(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "kfold", "Run every fold of a k-fold config (train + eval per fold, resumable) and report mean +- std");
  auto o = std::make_shared<KfoldOptions>();
  o->flags.add_to(sub, /*need_config=*/false);
  sub->get_option("--out")->description("K-fold directory: DIR/fold_<i>/ per fold (default runs/<name>_kfold)");
  sub->add_option("--folds", o->folds, "Number of folds K (sets data.split.folds)")->check(whole_number(2));
  sub->add_option("--fold", o->fold, "Run only fold i (1..K), e.g. one job of a cluster job array")->check(whole_number(1));
  sub->add_option("-j,--jobs", o->jobs, "Folds run at once; the cores are split between them")
      ->capture_default_str();
  sub->require_subcommand(0, 1);
  auto* report = sub->add_subcommand(
      "report",
      "Aggregate DIR/fold_*/eval_test.json: mean +- std, summed confusion, tables and plots "
      "(exit 1 when folds are missing; the report then covers the done ones)");
  report->add_option("dir", o->report_dir, "The k-fold directory (--out of fer kfold)")->required();
  return [o, report]() {
    if (report->parsed()) {
      FER_CHECK(fs::is_directory(o->report_dir), UsageError, "fer kfold report: {} is not a directory",
                o->report_dir);
      return run_report(o->report_dir);
    }
    FER_CHECK(o->folds != 0, UsageError,
              "fer kfold: --config C --folds K are required (or: fer kfold report DIR)");
    return run_kfold(*o);
  };
}

}  // namespace fer::app
