// fer kfold: every fold of a k-fold config as its own run directory, trained and evaluated by
// child processes of this same binary (so a fold is exactly `fer train` + `fer eval`, and a
// cluster can run `fer kfold --fold i` as a job array); fer kfold report aggregates them.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.hpp"
#include "fer/config/config.hpp"
#include "fer/core/cpu.hpp"
#include "fer/core/dir_lock.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/core/rng.hpp"
#include "fer/data/prepare.hpp"
#include "fer/data/split.hpp"
#include "fer/eval/kfold.hpp"
#include "fer/train/precision.hpp"
#include "fer/train/runtime.hpp"
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

/// One child: the fold's next commands, run one after another.
struct FoldJob {
  int fold = 0;
  std::string dir, log;
  std::deque<std::vector<std::string>> steps;
  pid_t pid = -1;
  std::string running;  // "train" / "eval"
};

std::string shell_line(const std::vector<std::string>& args) {
  std::string s = "fer";
  for (const auto& a : args) s += " " + (a.find_first_of(" \"'$") == std::string::npos ? a : "'" + a + "'");
  return s;
}

/// Starts `/proc/self/exe args...` with stdout and stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  {
    std::FILE* f = std::fopen(log.c_str(), "a");
    FER_CHECK(f, IoError, "cannot open {}: {}", log, std::strerror(errno));
    std::fprintf(f, "$ %s\n", shell_line(args).c_str());
    std::fclose(f);
  }
  std::vector<std::string> all = {"fer"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  FER_CHECK(pid >= 0, IoError, "fork: {}", std::strerror(errno));
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) _exit(127);
    dup2(fd, 1);
    dup2(fd, 2);
    ::close(fd);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  return pid;
}

std::vector<std::string> with_fold(std::vector<std::string> o, int folds, int fold) {
  o.push_back(fmt::format("data.split.folds={}", folds));
  o.push_back(fmt::format("data.split.fold={}", fold));
  return o;
}

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

int run_kfold(KfoldOptions& o) {
  auto& f = o.flags;
  FER_CHECK(!f.config.empty(), UsageError, "fer kfold: --config is required (or: fer kfold report DIR)");
  FER_CHECK(fs::is_regular_file(f.config), UsageError, "--config {}: no such file", f.config);
  FER_CHECK(o.folds >= 2, UsageError, "--folds {}: expected at least 2", o.folds);
  FER_CHECK(o.fold == 0 || (o.fold >= 1 && o.fold <= o.folds), UsageError,
            "--fold {}: out of range, expected 1..{} (--folds {})", o.fold, o.folds, o.folds);
  FER_CHECK(o.jobs >= 1, UsageError, "--jobs {}: expected at least 1", o.jobs);

  // The overrides every child gets; threads are split between the parallel folds.
  std::vector<std::string> base;
  if (!f.seed.empty()) base.push_back("seed=" + f.seed);
  if (!f.device.empty()) base.push_back("device=\"" + f.device + "\"");
  if (!f.precision.empty()) base.push_back("train.precision=\"" + f.precision + "\"");
  base.insert(base.end(), f.sets.begin(), f.sets.end());
  const int threads = f.threads >= 0 ? f.threads : std::max(1, cpu_count() / o.jobs);
  std::vector<std::string> child_sets = base;
  child_sets.push_back(fmt::format("threads={}", threads));

  const config::Config cfg = config::load_config(f.config, with_fold(child_sets, o.folds, 1));
  const std::string& scheme = cfg.data.split.scheme;
  FER_CHECK(scheme == "stratified_kfold" || scheme == "ck_plus_folds", ConfigError,
            "{}: data.split.scheme is \"{}\"; fer kfold needs a k-fold scheme (stratified_kfold or "
            "ck_plus_folds; --set data.split.scheme=stratified_kfold)",
            f.config, scheme);
  const std::string dir = f.out.empty() ? (fs::path("runs") / (cfg.name + "_kfold")).string() : f.out;

  // Everything the config and the dataset can tell is checked here, once, before any fold
  // process starts: a k-fold that cannot run fails now with exit 2, not once per fold.
  {
    config::Config checked = cfg;
    data::adopt_alignment(checked);
    const data::Dataset ds = data::load_configured(checked.data);
    config::check_class_weights(checked.train, ds.class_names);
    train::check_precision(checked.train.precision, train::resolve_device(checked.device), "train.precision");
    data::check_folds(ds, checked.data.split, derive_seed(checked.seed, Stream::kSplit));
  }

  // Before anything runs: every existing fold dir must be a fold of this very k-fold.
  std::map<int, eval::FoldState> state;
  for (int k = 1; k <= o.folds; ++k) {
    const std::string fd = eval::fold_dir(dir, k);
    state[k] = eval::fold_state(fd);
    const fs::path saved = fs::path(fd) / "config.json";
    if (!fs::is_regular_file(saved)) continue;
    config::Config expected = config::load_config(f.config, with_fold(child_sets, o.folds, k));
    data::adopt_alignment(expected);
    nlohmann::json actual;
    try {
      actual = nlohmann::json::parse(read_file(saved.string()));
    } catch (const nlohmann::json::parse_error& e) {
      throw DataError(fmt::format("{}: {}", saved.string(), e.what()));
    }
    const auto diffs = eval::kfold_config_differences(config::to_json(expected), actual);
    if (!diffs.empty()) {
      std::vector<std::string> first(diffs.begin(), diffs.begin() + std::min<size_t>(diffs.size(), 5));
      throw ConfigError(
          fmt::format("{}: holds a run of another config (differs at {}{}); choose another --out or remove "
                      "that directory",
                      fd, fmt::join(first, ", "), diffs.size() > first.size() ? ", ..." : ""));
    }
  }

  const DirLock dir_lock(dir, "fer kfold");  // one k-fold writer (its fold processes lock their own dirs)
  const std::string meta_path = (fs::path(dir) / "kfold.json").string();
  auto write_meta = [&](const std::vector<int>& failed) {
    std::vector<int> done;
    for (int k = 1; k <= o.folds; ++k)
      if (eval::fold_state(eval::fold_dir(dir, k)) == eval::FoldState::kDone) done.push_back(k);
    nlohmann::json j = {{"config", fs::absolute(f.config).lexically_normal().string()},
                        {"folds", o.folds},
                        {"scheme", scheme},
                        {"seed", cfg.seed},
                        {"overrides", base},
                        {"threads_per_fold", threads},
                        {"jobs", o.jobs},
                        {"folds_done", done},
                        {"folds_failed", failed}};
    write_file_atomic(meta_path, j.dump(2) + "\n");
    return done;
  };
  write_meta({});

  std::deque<FoldJob> queue;
  for (int k = 1; k <= o.folds; ++k) {
    if (o.fold != 0 && k != o.fold) continue;
    FoldJob job;
    job.fold = k;
    job.dir = eval::fold_dir(dir, k);
    job.log = (fs::path(job.dir) / "kfold.log").string();
    if (state[k] == eval::FoldState::kDone) {
      fmt::print("fold {}: done\n", k);
      continue;
    }
    std::vector<std::string> train = {"train", "--config", f.config};
    for (const auto& s : with_fold(child_sets, o.folds, k)) train.insert(train.end(), {"--set", s});
    train.insert(train.end(), {"--out", job.dir, "--no-progress"});
    if (state[k] == eval::FoldState::kResume) train.push_back("--resume");
    job.steps.push_back(train);
    job.steps.push_back({"eval", "--run", job.dir, "--threads", std::to_string(threads)});
    queue.push_back(std::move(job));
  }
  std::fflush(stdout);

  catch_stop_signals(g_stop);

  std::vector<FoldJob> running;
  std::vector<int> failed;
  bool forwarded = false;
  auto start_step = [&](FoldJob& job) {
    auto args = std::move(job.steps.front());
    job.steps.pop_front();
    job.running = args.front();
    fs::create_directories(job.dir);
    fmt::print("fold {}: {}{} (log: {})\n", job.fold, job.running == "train" ? "training" : "evaluating",
               args.back() == "--resume" ? " (resuming from last.pt)" : "", job.log);
    std::fflush(stdout);
    job.pid = spawn(args, job.log);
  };
  while (!queue.empty() || !running.empty()) {
    if (g_stop && !forwarded) {  // Ctrl-C: stop the children (train keeps its last.pt), start nothing new
      for (const auto& j : running) kill(j.pid, SIGINT);
      forwarded = true;
    }
    while (!g_stop && static_cast<int>(running.size()) < o.jobs && !queue.empty()) {
      running.push_back(std::move(queue.front()));
      queue.pop_front();
      start_step(running.back());
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    FER_CHECK(pid > 0, IoError, "waitpid: {}", std::strerror(errno));
    auto it = std::find_if(running.begin(), running.end(), [&](const FoldJob& j) { return j.pid == pid; });
    if (it == running.end()) continue;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) {
      const std::string how = WIFEXITED(status) ? fmt::format("exited with {}", WEXITSTATUS(status))
                                                : fmt::format("killed by signal {}", WTERMSIG(status));
      if (g_stop) {  // the child ends by the forwarded signal once it has kept its files
        fmt::print("fold {}: stopped ({} {}); continue it by running the same command again\n", it->fold,
                   it->running,
                   WIFSIGNALED(status) && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM)
                       ? std::string("interrupted")
                       : how);
      } else {
        fmt::print(stderr, "error: fold {}: fer {} {}; see {}\n", it->fold, it->running, how, it->log);
        failed.push_back(it->fold);
      }
      running.erase(it);
    } else if (!it->steps.empty() && !g_stop) {
      start_step(*it);
    } else {
      if (it->steps.empty()) {
        std::string acc;
        try {
          const auto j = nlohmann::json::parse(read_file((fs::path(it->dir) / "eval_test.json").string()));
          acc = fmt::format(": test accuracy {:.2f}%", 100 * j.at("accuracy").get<double>());
        } catch (const std::exception&) {
        }
        fmt::print("fold {}: done{}\n", it->fold, acc);
      }
      running.erase(it);
    }
    std::fflush(stdout);
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  std::sort(failed.begin(), failed.end());
  const auto done = write_meta(failed);
  if (g_stop && static_cast<int>(done.size()) < o.folds) {  // else report below
    fmt::print(stderr,
               "interrupted: {} of {} folds done and kept in {}; run the same command again to continue\n",
               done.size(), o.folds, dir);
    return 1;
  }
  int rc = failed.empty() ? 0 : 1;
  if (!failed.empty()) {
    std::vector<std::string> logs;
    for (int k : failed)
      logs.push_back(
          fmt::format("fold {} ({})", k, (fs::path(eval::fold_dir(dir, k)) / "kfold.log").string()));
    fmt::print(stderr, "error: failed: {}\n", fmt::join(logs, ", "));
  }
  if (static_cast<int>(done.size()) == o.folds) {
    fmt::print("\n");
    rc = std::max(rc, run_report(dir));
  } else {
    fmt::print("{} of {} folds done; the report comes when all are (or now: fer kfold report {})\n",
               done.size(), o.folds, dir);
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
