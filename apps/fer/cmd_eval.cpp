// fer eval: one run's report (fer/infer/evaluate.hpp), or several runs compared
// (fer/infer/compare_runs.hpp); this file maps the flags and prints.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "commands.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/eval/compare.hpp"
#include "fer/infer/compare_runs.hpp"
#include "fer/infer/evaluate.hpp"
#include "fer/train/precision.hpp"

namespace fer::app {
namespace {

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
    const std::vector<eval::CompareRow> rows = {infer::comparison_row(infer::run_names(o.runs).front(), info, std::move(r))};
    write_tables(o, formats, rows);
    for (const auto& t : o.tables) fmt::print("  {}\n", t);
  }
  return 0;
}

// Several runs: one comparison (fer/infer/compare_runs.hpp), printed as it goes and as a table.
// Returns 1 when any run failed.
int eval_many(const EvalOptions& o, const std::vector<eval::TableFormat>& formats) {
  const auto cmp = infer::compare_runs(
      o.req, o.runs,
      [](const infer::RunFailure& f) { std::fprintf(stderr, "error: run %s: %s\n", f.dir.c_str(), f.error.c_str()); },
      [](const eval::CompareRow& row, const std::string& dir, size_t files) {
        fmt::print("{}; {} files written into {}\n", eval::summary_line(row), files, dir);
        std::fflush(stdout);
      });
  if (!cmp.rows.empty()) {
    fmt::print("\n{}", eval::comparison_text(cmp.rows));
    if (!cmp.warnings.empty()) fmt::print("\n");
    for (const auto& w : cmp.warnings) fmt::print("{}\n", w);
  } else {
    fmt::print("\nno run could be evaluated\n");
  }
  if (!cmp.failures.empty()) {
    fmt::print("\nfailed (not in the table):\n");
    for (const auto& f : cmp.failures) fmt::print("  {}: {}\n", f.name, f.error);
  }
  if (!formats.empty() && !cmp.rows.empty()) {
    write_tables(o, formats, cmp.rows);
    fmt::print("\nwritten: {}\n", fmt::join(o.tables, ", "));
  }
  return cmp.failures.empty() ? 0 : 1;
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
