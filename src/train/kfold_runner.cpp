#include "fer/train/kfold_runner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

#include "fer/config/config.hpp"
#include "fer/core/cpu.hpp"
#include "fer/core/dir_lock.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/core/rng.hpp"
#include "fer/data/prepare.hpp"
#include "fer/data/split.hpp"
#include "fer/eval/kfold.hpp"
#include "fer/models/registry.hpp"
#include "fer/train/precision.hpp"
#include "fer/train/runtime.hpp"

namespace fer::train {
namespace {
namespace fs = std::filesystem;

/// One fold: its next commands, run one after another by one child at a time.
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

/// Starts `exe args...` (argv[0] "fer") with stdout and stderr appended to `log`, after a
/// "$ fer args..." line there.
pid_t spawn(const std::string& exe, const std::vector<std::string>& args, const std::string& log) {
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
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

std::vector<std::string> with_fold(std::vector<std::string> o, int folds, int fold) {
  o.push_back(fmt::format("data.split.folds={}", folds));
  o.push_back(fmt::format("data.split.fold={}", fold));
  return o;
}

/// "test accuracy 81.25%" from a fold's eval_test.json, "" when it cannot be read.
std::string test_accuracy(const std::string& fold_dir) {
  try {
    const auto j = nlohmann::json::parse(read_file((fs::path(fold_dir) / "eval_test.json").string()));
    return fmt::format("test accuracy {:.2f}%", 100 * j.at("accuracy").get<double>());
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

std::string kfold_log(const std::string& dir, int fold) {
  return (fs::path(eval::fold_dir(dir, fold)) / "kfold.log").string();
}

KfoldResult run_kfold(const KfoldOptions& o) {
  FER_CHECK(!o.config_path.empty(), UsageError, "fer kfold: --config is required (or: fer kfold report DIR)");
  FER_CHECK(fs::is_regular_file(o.config_path), UsageError, "--config {}: no such file", o.config_path);
  FER_CHECK(o.folds >= 2, UsageError, "--folds {}: expected at least 2", o.folds);
  FER_CHECK(o.fold == 0 || (o.fold >= 1 && o.fold <= o.folds), UsageError,
            "--fold {}: out of range, expected 1..{} (--folds {})", o.fold, o.folds, o.folds);
  FER_CHECK(o.jobs >= 1, UsageError, "--jobs {}: expected at least 1", o.jobs);
  auto emit = [&](const KfoldEvent& e) {
    if (o.on_event) o.on_event(e);
  };
  auto stopping = [&] { return o.stop && o.stop->load(); };

  // The overrides every child gets; threads are split between the parallel folds. A `threads=N`
  // among the overrides counts as o.threads (the threads= added below would otherwise win).
  int set_threads = -1;
  for (const auto& s : o.overrides) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) continue;
    std::string key = s.substr(0, eq);
    key.erase(0, key.find_first_not_of(" \t"));
    key.erase(key.find_last_not_of(" \t") + 1);
    if (key != "threads") continue;
    try {
      size_t used = 0;
      const int v = std::stoi(s.substr(eq + 1), &used);
      if (v >= 0 && s.find_first_not_of(" \t", eq + 1 + used) == std::string::npos) set_threads = v;
    } catch (const std::exception&) {
      // not a number: the config check below names it
    }
  }
  const int threads = o.threads >= 0 ? o.threads : set_threads >= 0 ? set_threads : std::max(1, cpu_count() / o.jobs);
  std::vector<std::string> child_sets = o.overrides;
  child_sets.push_back(fmt::format("threads={}", threads));

  const config::Config cfg = config::load_config(o.config_path, with_fold(child_sets, o.folds, 1));
  models::check_model_name(cfg.model);  // a misspelt model fails here, not in every fold
  const std::string& scheme = cfg.data.split.scheme;
  FER_CHECK(scheme == "stratified_kfold" || scheme == "ck_plus_folds", ConfigError,
            "{}: data.split.scheme is \"{}\"; fer kfold needs a k-fold scheme (stratified_kfold or "
            "ck_plus_folds; --set data.split.scheme=stratified_kfold)",
            o.config_path, scheme);
  KfoldResult result;
  result.folds = o.folds;
  result.dir = o.out.empty() ? (fs::path("runs") / (cfg.name + "_kfold")).string() : o.out;
  const std::string& dir = result.dir;

  // Everything the config and the dataset can tell is checked here, once, before any fold
  // process starts: a k-fold that cannot run fails now, not once per fold.
  {
    config::Config checked = cfg;
    data::adopt_alignment(checked);
    const data::Dataset ds = data::load_configured(checked.data);
    config::check_class_weights(checked.train, ds.class_names);
    check_precision(checked.train.precision, resolve_device(checked.device), "train.precision");
    data::check_folds(ds, checked.data.split, derive_seed(checked.seed, Stream::kSplit));
  }

  // Before anything runs: every existing fold dir must be a fold of this very k-fold.
  std::map<int, eval::FoldState> state;
  for (int k = 1; k <= o.folds; ++k) {
    const std::string fd = eval::fold_dir(dir, k);
    state[k] = eval::fold_state(fd);
    const fs::path saved = fs::path(fd) / "config.json";
    if (!fs::is_regular_file(saved)) continue;
    config::Config expected = config::load_config(o.config_path, with_fold(child_sets, o.folds, k));
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
    nlohmann::json j = {{"config", fs::absolute(o.config_path).lexically_normal().string()},
                        {"folds", o.folds},
                        {"scheme", scheme},
                        {"seed", cfg.seed},
                        {"overrides", o.overrides},
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
    job.log = kfold_log(dir, k);
    if (state[k] == eval::FoldState::kDone) {
      emit({KfoldEvent::kSkippedDone, k, "", false, job.log, ""});
      continue;
    }
    std::vector<std::string> train = {"train", "--config", o.config_path};
    for (const auto& s : with_fold(child_sets, o.folds, k)) train.insert(train.end(), {"--set", s});
    train.insert(train.end(), {"--out", job.dir, "--no-progress"});
    if (state[k] == eval::FoldState::kResume) train.push_back("--resume");
    job.steps.push_back(train);
    job.steps.push_back({"eval", "--run", job.dir, "--threads", std::to_string(threads)});
    queue.push_back(std::move(job));
  }
  emit({KfoldEvent::kReady, 0, "", false, "", ""});

  std::vector<FoldJob> running;
  bool forwarded = false;
  auto start_step = [&](FoldJob& job) {
    auto args = std::move(job.steps.front());
    job.steps.pop_front();
    job.running = args.front();
    fs::create_directories(job.dir);
    emit({KfoldEvent::kStarted, job.fold, job.running, args.back() == "--resume", job.log, ""});
    job.pid = spawn(o.executable, args, job.log);
  };
  while (!queue.empty() || !running.empty()) {
    if (stopping() && !forwarded) {  // stop the children (train keeps its last.pt), start nothing new
      for (const auto& j : running) kill(j.pid, SIGINT);
      forwarded = true;
    }
    while (!stopping() && static_cast<int>(running.size()) < o.jobs && !queue.empty()) {
      running.push_back(std::move(queue.front()));
      queue.pop_front();
      start_step(running.back());
    }
    if (running.empty()) break;
    // Our own children only: a program linking the library may have others to wait for.
    int status = 0;
    auto it = running.begin();
    for (; it != running.end(); ++it) {
      const pid_t pid = waitpid(it->pid, &status, WNOHANG);
      if (pid == it->pid) break;
      FER_CHECK(pid == 0 || errno == EINTR, IoError, "waitpid: {}", std::strerror(errno));
    }
    if (it == running.end()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) {
      const std::string how = WIFEXITED(status) ? fmt::format("exited with {}", WEXITSTATUS(status))
                                                : fmt::format("killed by signal {}", WTERMSIG(status));
      if (stopping()) {  // the child ends by the forwarded signal once it has kept its files
        const bool by_stop =
            WIFSIGNALED(status) && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM);
        emit({KfoldEvent::kStopped, it->fold, it->running, false, it->log, by_stop ? "interrupted" : how});
      } else {
        emit({KfoldEvent::kFailed, it->fold, it->running, false, it->log, how});
        result.failed.push_back(it->fold);
      }
      running.erase(it);
    } else if (!it->steps.empty() && !stopping()) {
      start_step(*it);
    } else {
      if (it->steps.empty())
        emit({KfoldEvent::kFoldDone, it->fold, "", false, it->log, test_accuracy(it->dir)});
      running.erase(it);
    }
  }

  std::sort(result.failed.begin(), result.failed.end());
  result.done = write_meta(result.failed);
  result.interrupted = stopping();
  return result;
}

}  // namespace fer::train
