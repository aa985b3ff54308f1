#pragma once
// fer eval with several runs: every run checked against the others before anything is evaluated
// (classes, split files), each evaluated (a run that fails is reported and the others go on), and
// the rows of one comparison table (fer/eval/compare.hpp renders them). No torch here.
#include <functional>
#include <string>
#include <vector>

#include "fer/eval/compare.hpp"
#include "fer/infer/evaluate.hpp"

namespace fer::infer {

/// Names of runs in a table: each directory's last component ("runs/a/" -> "a"), or the path as
/// given where two names would collide.
std::vector<std::string> run_names(const std::vector<std::string>& dirs);

/// The comparison row of one evaluated run named `name`.
eval::CompareRow comparison_row(const std::string& name, const RunInfo& info, EvalResult r);

/// A run that could not be described or evaluated.
struct RunFailure {
  std::string dir, name;
  std::string error;  ///< the exception's message, without LibTorch's C++ backtrace
};

struct RunComparison {
  std::vector<eval::CompareRow> rows;  ///< the evaluated runs in the order given; split_diff against the first
  std::vector<RunFailure> failures;    ///< runs not in `rows`, in the order given
  std::vector<std::string> warnings;   ///< eval::split_warnings(rows)
};

/// Evaluates every run of `dirs` with `req` (its run_dir is ignored). `req.checkpoint` must be
/// best or last (UsageError). On the runs' own data (no req.data, class map or excluded classes)
/// their class lists must agree (DataError naming the runs); without req.data each run needs its
/// split.json. UsageError from any run ends it all (the command line is wrong for every run);
/// other errors make that run a failure. `on_failure` is called as each failure happens,
/// `on_row` after each run is evaluated, with its directory and the number of files it wrote.
RunComparison compare_runs(const EvalRequest& req, const std::vector<std::string>& dirs,
                           const std::function<void(const RunFailure&)>& on_failure = {},
                           const std::function<void(const eval::CompareRow&, const std::string& dir, size_t files)>& on_row = {});

}  // namespace fer::infer
