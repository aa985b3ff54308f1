#include "fer/infer/compare_runs.hpp"

#include <filesystem>
#include <map>

#include "fer/core/error.hpp"

namespace fer::infer {
namespace fs = std::filesystem;

namespace {

// "runs/a/" -> "a"; the path as given when it has no usable last component.
std::string dir_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const std::string n = p.filename().string();
  return n.empty() || n == "." || n == ".." ? dir : n;
}

// An exception's message without LibTorch's C++ backtrace.
std::string message_of(const std::exception& e) {
  std::string what = e.what();
  const auto nl = what.find("\nException raised from");
  if (nl != std::string::npos) what.resize(nl);
  return what;
}

}  // namespace

std::vector<std::string> run_names(const std::vector<std::string>& dirs) {
  std::map<std::string, int> count;
  for (const auto& d : dirs) ++count[dir_name(d)];
  std::vector<std::string> out;
  for (const auto& d : dirs) out.push_back(count[dir_name(d)] > 1 ? d : dir_name(d));
  return out;
}

eval::CompareRow comparison_row(const std::string& name, const RunInfo& info, EvalResult r) {
  eval::CompareRow row;
  row.run = name;
  row.model = eval::model_label(info.config);
  row.split = r.dataset.empty() ? r.split : r.dataset + ":" + r.split;
  row.ci = r.ci;
  row.metrics = std::move(r.metrics);
  row.class_names = std::move(r.class_names);
  row.epoch = r.epoch;
  row.selection = r.selection;
  return row;
}

RunComparison compare_runs(const EvalRequest& req, const std::vector<std::string>& dirs,
                           const std::function<void(const RunFailure&)>& on_failure,
                           const std::function<void(const eval::CompareRow&, const std::string& dir, size_t files)>& on_row) {
  FER_CHECK(req.checkpoint == "best" || req.checkpoint == "last", UsageError,
            "--checkpoint {}: with several --run, expected best or last (each run's own checkpoint)",
            req.checkpoint);
  struct Entry {
    std::string dir, name;
    RunInfo info;
    std::vector<std::string> ids;  // sample ids it evaluated
    std::string error;             // why it could not be evaluated; "" = fine
  };
  std::vector<Entry> entries;
  const auto names = run_names(dirs);
  for (size_t k = 0; k < dirs.size(); ++k) entries.push_back({dirs[k], names[k], {}, {}, {}});
  RunComparison out;
  auto fail = [&](Entry& e, const std::exception& ex) {
    e.error = message_of(ex);
    if (on_failure) on_failure({e.dir, e.name, e.error});
  };
  // On the runs' own data the classes must agree; on another dataset each run's classes are
  // mapped onto that dataset's, so the rows share its classes.
  const bool own_classes = req.data.empty() && req.class_map.empty() && req.exclude_classes.empty();

  // Before anything is evaluated: every run's classes and split ids.
  std::vector<std::string> described;
  std::vector<std::vector<std::string>> classes;
  for (auto& e : entries) {
    EvalRequest r = req;
    r.run_dir = e.dir;
    try {
      e.info = describe_run(r);
      if (req.data.empty()) FER_CHECK(fs::exists(fs::path(e.dir) / "split.json"), IoError, "{}: no split.json", e.dir);
      described.push_back(e.dir);
      classes.push_back(e.info.class_names);
    } catch (const UsageError&) {
      throw;  // the command line is wrong for every run
    } catch (const std::exception& ex) {
      fail(e, ex);
    }
  }
  if (own_classes) eval::check_same_classes(described, classes);

  const std::vector<std::string>* reference_ids = nullptr;
  for (auto& e : entries) {
    if (!e.error.empty()) continue;
    EvalRequest r = req;
    r.run_dir = e.dir;
    try {
      auto result = evaluate_run(r);
      const size_t files = result.files.size();
      e.ids = result.ids;
      out.rows.push_back(comparison_row(e.name, e.info, std::move(result)));
      if (!reference_ids) reference_ids = &e.ids;
      out.rows.back().split_diff = eval::compare_split_ids(*reference_ids, e.ids);
      if (on_row) on_row(out.rows.back(), e.dir, files);
    } catch (const std::exception& ex) {
      fail(e, ex);
    }
  }
  for (const auto& e : entries)
    if (!e.error.empty()) out.failures.push_back({e.dir, e.name, e.error});
  out.warnings = eval::split_warnings(out.rows);
  return out;
}

}  // namespace fer::infer
