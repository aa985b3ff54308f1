#pragma once
// `fer kfold`: every fold of a k-fold config as its own run directory, trained and evaluated by
// child processes of the fer binary (so a fold is exactly `fer train` + `fer eval`, and a
// cluster can run `fer kfold --fold i` as a job array). eval/kfold.hpp reports over the folds
// (no torch in this header).
#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace fer::train {

/// Something the scheduler did, in the order it happened (from the calling thread).
struct KfoldEvent {
  enum Kind {
    kSkippedDone,  ///< the fold has eval_test.json already: not run again
    /// All checked, kfold.json written, done folds reported: fold processes may start from now
    /// on (the fer CLI installs its Ctrl-C handler here, so Ctrl-C during the checks ends it).
    kReady,
    kStarted,   ///< a step (`step`) of the fold started; `resuming`: train --resume
    kStopped,   ///< a step ended after `stop` was set; `detail`: "interrupted" or how it ended
    kFailed,    ///< a step failed; `detail`: "exited with 3" or "killed by signal 9"
    kFoldDone,  ///< eval finished; `detail`: "test accuracy 81.25%" ("" when unreadable)
  };
  Kind kind = kReady;
  int fold = 0;      ///< 1-based; 0 for kReady
  std::string step;  ///< "train" or "eval" (kStarted, kStopped, kFailed)
  bool resuming = false;
  std::string log;  ///< the fold's kfold.log
  std::string detail;
};

struct KfoldOptions {
  std::string config_path;
  /// Config overrides (the `--set` syntax: "train.lr=0.1") every fold gets, e.g. the CLI's
  /// --seed, --device, --precision and --set; threads and the fold are added by run_kfold.
  std::vector<std::string> overrides;
  int threads = -1;  ///< per fold process; -1 = the cores split between the jobs (at least 1)
  int folds = 0;     ///< K, at least 2 (sets data.split.folds)
  int fold = 0;      ///< run only this fold (1..K); 0 = all
  int jobs = 1;      ///< fold processes at once
  std::string out;   ///< the k-fold directory; "" = runs/<name>_kfold
  /// The fer binary the folds run (`EXE train ...`, `EXE eval ...`); the default is this very
  /// process's binary, right for the fer CLI; a program linking the library gives bin/fer.
  std::string executable = "/proc/self/exe";
  /// Set (e.g. by a signal handler) to stop: SIGINT goes to the running fold processes (train
  /// keeps its last.pt) and nothing new starts. Read, never written.
  const std::atomic<bool>* stop = nullptr;
  /// Called on the calling thread for each event, before the step it announces starts; may be
  /// empty.
  std::function<void(const KfoldEvent&)> on_event;
};

struct KfoldResult {
  std::string dir;           ///< the k-fold directory
  int folds = 0;             ///< K
  std::vector<int> done;     ///< folds with eval_test.json at the end (all of 1..K, not only those run)
  std::vector<int> failed;   ///< folds whose train or eval failed in this call, sorted
  bool interrupted = false;  ///< `stop` was set
};

/// Runs the folds not yet done of DIR = options.out: each in DIR/fold_<i>/ by `EXE train` (with
/// --resume when the fold has last.pt), then `EXE eval`, at most `jobs` folds at once, each
/// child's output appended to DIR/fold_<i>/kfold.log. A failed fold is reported and the others
/// go on. Writes DIR/kfold.json (settings, folds done and failed) before and after, holding the
/// DirLock of DIR meanwhile.
///
/// Before anything runs, it checks the options (UsageError naming the CLI flag: --config,
/// --folds, --fold, --jobs), the config (ConfigError; a scheme other than stratified_kfold or
/// ck_plus_folds included), that the dataset loads and splits into every fold (DataError,
/// IoError, ConfigError), and that every existing DIR/fold_<i>/config.json is a fold of this
/// k-fold (ConfigError naming the fold dir and the differing keys; DataError for unreadable
/// JSON). UsageError when another process holds DIR; IoError when a child cannot be started
/// (fold processes already running are then left to finish on their own).
KfoldResult run_kfold(const KfoldOptions& options);

/// "<dir>/fold_<i>/kfold.log": where run_kfold writes fold i's commands and their output.
std::string kfold_log(const std::string& dir, int fold);

}  // namespace fer::train
