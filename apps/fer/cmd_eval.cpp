#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "commands.hpp"
#include "fer/train/precision.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/eval/compare.hpp"
#include "fer/infer/evaluate.hpp"

namespace fer::app {
namespace {
namespace fs = std::filesystem;

struct EvalOptions {
  infer::EvalRequest req;   // run_dir is filled per run
  std::vector<std::string> runs;
  std::vector<std::string> tables;  // --table FILE, repeatable (none = no file)
};

// The per-class report of one run (the output of `fer eval` with one --run).
void print_report(const infer::EvalRequest& req, const infer::EvalResult& r) {
  const auto& m = r.metrics;
  size_t w = 9;
  for (const auto& n : r.class_names) w = std::max(w, n.size());
  if (!r.dataset.empty()) fmt::print("dataset {} ({}), ", r.dataset, req.data);
  const std::string what = r.split == "all" ? fmt::format("all {} samples", m.total)
                                            : fmt::format("{} split, {} samples", r.split, m.total);
  const std::string chosen = r.selection == infer::kNotSelected ? std::string("the last epoch, not selected")
                                                                 : "selected on the " + r.selection + " split";
  fmt::print("{}, checkpoint of epoch {} ({}), test-time augmentation {}\n", what, r.epoch, chosen, r.tta);
  for (const auto& line : r.mapping) fmt::print("  classes: {}\n", line);
  fmt::print("\n");
  fmt::print("{:<{}}  precision  recall     f1  support\n", "class", w);
  for (size_t c = 0; c < r.class_names.size(); ++c) {
    fmt::print("{:<{}}  {:9.4f} {:7.4f} {:6.4f} {:8}\n", r.class_names[c], w, m.precision[c], m.recall[c], m.f1[c],
               m.support[c]);
  }
  fmt::print("{:<{}}  {:9.4f} {:7.4f} {:6.4f} {:8}\n", "macro", w, m.macro_precision, m.macro_recall, m.macro_f1,
             m.total);
  fmt::print("{:<{}}  {:9.4f} {:7.4f} {:6.4f} {:8}\n\n", "weighted", w, m.weighted_precision, m.weighted_recall,
             m.weighted_f1, m.total);
  fmt::print("accuracy {:.4f}  balanced accuracy {:.4f}  loss {:.4f}\n", m.accuracy, m.balanced_accuracy,
             m.loss);
  if (r.ci.resamples > 0) {
    fmt::print(
        "95% bootstrap intervals ({} stratified resamples, seed {}): accuracy [{:.4f}, {:.4f}]  macro F1 "
        "[{:.4f}, {:.4f}]\n",
        r.ci.resamples, r.ci.seed, r.ci.accuracy_lo, r.ci.accuracy_hi, r.ci.macro_f1_lo, r.ci.macro_f1_hi);
  }
  fmt::print("\n");
  fmt::print("confusion (rows true, columns predicted)\n{:<{}}", "", w);
  for (size_t c = 0; c < r.class_names.size(); ++c) fmt::print(" {:>6.6}", r.class_names[c]);
  fmt::print("\n");
  for (size_t t = 0; t < r.class_names.size(); ++t) {
    fmt::print("{:<{}}", r.class_names[t], w);
    for (size_t p = 0; p < r.class_names.size(); ++p) fmt::print(" {:>6}", m.confusion[t][p]);
    fmt::print("\n");
  }
}

// "runs/a/" -> "a"; the path as given when it has no usable last component.
std::string dir_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const std::string n = p.filename().string();
  return n.empty() || n == "." || n == ".." ? dir : n;
}

// Table names of the runs: directory names, or the paths as given where two names collide.
std::vector<std::string> run_names(const std::vector<std::string>& dirs) {
  std::map<std::string, int> count;
  for (const auto& d : dirs) ++count[dir_name(d)];
  std::vector<std::string> out;
  for (const auto& d : dirs) out.push_back(count[dir_name(d)] > 1 ? d : dir_name(d));
  return out;
}

// An exception's message without LibTorch's C++ backtrace.
std::string message_of(const std::exception& e) {
  std::string what = e.what();
  const auto nl = what.find("\nException raised from");
  if (nl != std::string::npos) what.resize(nl);
  return what;
}

eval::CompareRow make_row(const std::string& name, const infer::EvalRequest& req, const infer::RunInfo& info,
                          infer::EvalResult r) {
  eval::CompareRow row;
  row.run = name;
  row.model = eval::model_label(info.config);
  (void)req;
  row.split = r.dataset.empty() ? r.split : r.dataset + ":" + r.split;
  row.ci = r.ci;
  row.metrics = std::move(r.metrics);
  row.class_names = std::move(r.class_names);
  row.epoch = r.epoch;
  row.selection = r.selection;
  return row;
}

// Writes the comparison table into every --table file, in the format of its extension.
void write_tables(const EvalOptions& o, const std::vector<eval::TableFormat>& formats,
                  const std::vector<eval::CompareRow>& rows) {
  for (size_t i = 0; i < o.tables.size(); ++i) write_file_atomic(o.tables[i], eval::render_comparison(rows, formats[i]));
}

int eval_one(const EvalOptions& o, const std::vector<eval::TableFormat>& formats) {
  infer::EvalRequest req = o.req;
  req.run_dir = o.runs.front();
  auto r = infer::evaluate_run(req);
  print_report(req, r);
  fmt::print("\nwritten:\n");
  for (const auto& f : r.files) fmt::print("  {}\n", f);
  if (!formats.empty()) {
    const auto info = infer::describe_run(req);
    const std::vector<eval::CompareRow> rows = {make_row(run_names(o.runs).front(), req, info, std::move(r))};
    write_tables(o, formats, rows);
    for (const auto& t : o.tables) fmt::print("  {}\n", t);
  }
  return 0;
}

// Several runs: check them against each other, evaluate each (a failure is reported and the
// others go on), then print and write one comparison table. Returns 1 when any run failed.
int eval_many(const EvalOptions& o, const std::vector<eval::TableFormat>& formats) {
  FER_CHECK(o.req.checkpoint == "best" || o.req.checkpoint == "last", UsageError,
            "--checkpoint {}: with several --run, expected best or last (each run's own checkpoint)",
            o.req.checkpoint);
  struct Entry {
    std::string dir, name;
    infer::RunInfo info;
    std::vector<std::string> ids;  // sample ids it evaluated
    std::string error;             // why it could not be evaluated; "" = fine
  };
  std::vector<Entry> entries;
  const auto names = run_names(o.runs);
  for (size_t k = 0; k < o.runs.size(); ++k) entries.push_back({o.runs[k], names[k], {}, {}, {}});
  // On the runs' own data the classes must agree; on another dataset each run's classes are
  // mapped onto that dataset's, so the rows share its classes.
  const bool own_classes = o.req.data.empty() && o.req.class_map.empty() && o.req.exclude_classes.empty();
  auto fail = [](Entry& e, const std::exception& ex) {
    e.error = message_of(ex);
    std::fprintf(stderr, "error: run %s: %s\n", e.dir.c_str(), e.error.c_str());
  };

  // Before anything is evaluated: every run's classes and split ids.
  std::vector<std::string> described;
  std::vector<std::vector<std::string>> classes;
  for (auto& e : entries) {
    infer::EvalRequest req = o.req;
    req.run_dir = e.dir;
    try {
      e.info = infer::describe_run(req);
      if (o.req.data.empty())
        FER_CHECK(fs::exists(fs::path(e.dir) / "split.json"), IoError, "{}: no split.json", e.dir);
      described.push_back(e.dir);
      classes.push_back(e.info.class_names);
    } catch (const UsageError&) {
      throw;  // the command line is wrong for every run
    } catch (const std::exception& ex) {
      fail(e, ex);
    }
  }
  if (own_classes) eval::check_same_classes(described, classes);

  std::vector<eval::CompareRow> rows;
  const std::vector<std::string>* reference_ids = nullptr;
  for (auto& e : entries) {
    if (!e.error.empty()) continue;
    infer::EvalRequest req = o.req;
    req.run_dir = e.dir;
    try {
      auto r = infer::evaluate_run(req);
      const size_t files = r.files.size();
      e.ids = r.ids;
      rows.push_back(make_row(e.name, req, e.info, std::move(r)));
      if (!reference_ids) reference_ids = &e.ids;
      rows.back().split_diff = eval::compare_split_ids(*reference_ids, e.ids);
      fmt::print("{}; {} files written into {}\n", eval::summary_line(rows.back()), files, e.dir);
      std::fflush(stdout);
    } catch (const std::exception& ex) {
      fail(e, ex);
    }
  }

  if (!rows.empty()) {
    fmt::print("\n{}", eval::comparison_text(rows));
    const auto warnings = eval::split_warnings(rows);
    if (!warnings.empty()) fmt::print("\n");
    for (const auto& w : warnings) fmt::print("{}\n", w);
  } else {
    fmt::print("\nno run could be evaluated\n");
  }
  const bool any_failed = rows.size() < entries.size();
  if (any_failed) {
    fmt::print("\nfailed (not in the table):\n");
    for (const auto& e : entries) {
      if (!e.error.empty()) fmt::print("  {}: {}\n", e.name, e.error);
    }
  }
  if (!formats.empty() && !rows.empty()) {
    write_tables(o, formats, rows);
    fmt::print("\nwritten: {}\n", fmt::join(o.tables, ", "));
  }
  return any_failed ? 1 : 0;
}

}  // namespace

Runner add_eval(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "eval", "Evaluate run checkpoints: accuracy, P/R/F1, confusion matrix; several --run give a comparison table");
  auto o = std::make_shared<EvalOptions>();
  sub->add_option("-r,--run", o->runs, "Run directory of fer train (repeat to compare runs on the same split)")
      ->required();
  sub->add_option("--split", o->req.split,
                  "train | val | test of the run's split (default test); with --data: all (default) "
                  "or a split of that config");
  sub->add_option("--checkpoint", o->req.checkpoint, "best | last | path of a .pt (one run only)")
      ->capture_default_str();
  sub->add_option("--tta", o->req.tta,
                  "config | none | flip | ten_crop (test-time augmentation; config = the run's eval "
                  "section)")
      ->capture_default_str();
  sub->add_option(
      "--data", o->req.data,
      "Evaluate on another dataset: a fer config file whose data section (and seed) is used; the model's "
      "classes are matched to its classes by name and synonyms (angry = anger, ...)");
  sub->add_option("--set", o->req.overrides, "KEY=VALUE override of the --data config (repeatable)");
  sub->add_option(
      "--class-map", o->req.class_map,
      "MODEL_CLASS=DATASET_CLASS[,...] or a JSON file {\"model class\": \"dataset class\" or null}; "
      "several model classes may go to one dataset class (their probabilities are summed), =- leaves "
      "one out (repeatable)");
  sub->add_option("--exclude-class", o->req.exclude_classes,
                  "Leave the samples of this dataset class out (repeatable)");
  sub->add_option("--bootstrap", o->req.bootstrap,
                  "Resamples of the 95% bootstrap intervals of accuracy and macro F1 (0 = none)")
      ->capture_default_str();
  sub->add_option("--bootstrap-seed", o->req.bootstrap_seed,
                  "Seed of the resampling (default: the run's seed)");
  sub->add_flag("!--no-html", o->req.html, "Do not write report_<split>.html");
  sub->add_option("--device", o->req.device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  sub->add_option("--precision", o->req.precision, "fp32 | bf16 | fp16 for the model (default: the run's train.precision)")
      ->check(CLI::IsMember(train::precision_names()));
  sub->add_option("--threads", o->req.threads, "Intra-op threads (0 = all cores)")->check(whole_number(0));
  sub->add_option("--table", o->tables, "Write the comparison table to FILE (.csv, .md or .json; repeatable)");
  return [o]() {
    FER_CHECK(o->req.overrides.empty() || !o->req.data.empty(), UsageError,
              "--set: overrides the --data config; the run's own config is not changed by fer eval");
    std::vector<eval::TableFormat> formats;  // a bad extension fails before any work
    for (const auto& t : o->tables) formats.push_back(eval::table_format(t));
    return o->runs.size() == 1 ? eval_one(*o, formats) : eval_many(*o, formats);
  };
}

}  // namespace fer::app
