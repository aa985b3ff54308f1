#include "fer/eval/kfold.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/eval/html_report.hpp"
#include "fer/eval/plots.hpp"

namespace fer::eval {

namespace {
namespace fs = std::filesystem;

/// The value at `key` of `j` as T, or a DataError naming the file and key.
template <typename T>
T field(const nlohmann::json& j, const std::string& key, const std::string& path) {
  FER_CHECK(j.is_object() && j.contains(key), DataError, "{}: missing field '{}'", path, key);
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: field '{}': {}", path, key, e.what()));
  }
}

std::string pct(double v) { return fmt::format("{:.2f}", 100 * v); }

/// Metrics of a confusion matrix (rows true, columns predicted), through compute_metrics so the
/// definitions are the ones every other report uses.
Metrics metrics_of_confusion(const std::vector<std::vector<int64_t>>& confusion) {
  std::vector<int> y_true, y_pred;
  const int n = static_cast<int>(confusion.size());
  for (int t = 0; t < n; ++t)
    for (int p = 0; p < n; ++p)
      for (int64_t k = 0; k < confusion[t][p]; ++k) y_true.push_back(t), y_pred.push_back(p);
  return compute_metrics(y_true, y_pred, n);
}

nlohmann::json ms_json(const MeanStd& m) { return {{"mean", m.mean}, {"std", m.std}}; }

}  // namespace

const std::vector<SummaryMetric>& summary_metrics() {
  static const std::vector<SummaryMetric> kMetrics = {
      {"accuracy", "accuracy", &Metrics::accuracy, &KfoldSummary::accuracy},
      {"balanced_accuracy", "balanced accuracy", &Metrics::balanced_accuracy,
       &KfoldSummary::balanced_accuracy},
      {"macro_precision", "macro precision", &Metrics::macro_precision, &KfoldSummary::macro_precision},
      {"macro_recall", "macro recall", &Metrics::macro_recall, &KfoldSummary::macro_recall},
      {"macro_f1", "macro F1", &Metrics::macro_f1, &KfoldSummary::macro_f1},
      {"weighted_precision", "weighted precision", &Metrics::weighted_precision,
       &KfoldSummary::weighted_precision},
      {"weighted_recall", "weighted recall", &Metrics::weighted_recall, &KfoldSummary::weighted_recall},
      {"weighted_f1", "weighted F1", &Metrics::weighted_f1, &KfoldSummary::weighted_f1},
  };
  return kMetrics;
}

FoldEval parse_fold_eval(const nlohmann::json& j, int fold, const std::string& path) {
  FoldEval f;
  f.fold = fold;
  f.path = path;
  const auto conf = field<nlohmann::json>(j, "confusion", path);
  f.class_names = field<std::vector<std::string>>(conf, "labels", path + ": confusion");
  const int n = static_cast<int>(f.class_names.size());
  FER_CHECK(n > 0, DataError, "{}: confusion.labels is empty", path);
  Metrics& m = f.metrics;
  m.num_classes = n;
  m.confusion = field<std::vector<std::vector<int64_t>>>(conf, "counts", path + ": confusion");
  FER_CHECK(static_cast<int>(m.confusion.size()) == n, DataError, "{}: confusion has {} rows for {} classes",
            path, m.confusion.size(), n);
  for (const auto& row : m.confusion)
    FER_CHECK(static_cast<int>(row.size()) == n, DataError,
              "{}: a confusion row has {} columns for {} classes", path, row.size(), n);
  m.accuracy = field<double>(j, "accuracy", path);
  m.balanced_accuracy = field<double>(j, "balanced_accuracy", path);
  const auto macro = field<nlohmann::json>(j, "macro", path),
             weighted = field<nlohmann::json>(j, "weighted", path);
  m.macro_precision = field<double>(macro, "precision", path + ": macro");
  m.macro_recall = field<double>(macro, "recall", path + ": macro");
  m.macro_f1 = field<double>(macro, "f1", path + ": macro");
  m.weighted_precision = field<double>(weighted, "precision", path + ": weighted");
  m.weighted_recall = field<double>(weighted, "recall", path + ": weighted");
  m.weighted_f1 = field<double>(weighted, "f1", path + ": weighted");
  const auto per_class = field<nlohmann::json>(j, "per_class", path);
  for (const auto& name : f.class_names) {
    const auto c = field<nlohmann::json>(per_class, name, path + ": per_class");
    const std::string where = fmt::format("{}: per_class.{}", path, name);
    m.precision.push_back(field<double>(c, "precision", where));
    m.recall.push_back(field<double>(c, "recall", where));
    m.f1.push_back(field<double>(c, "f1", where));
    m.support.push_back(field<int64_t>(c, "support", where));
  }
  m.total = j.value("total", int64_t{0});
  m.loss = j.value("loss", 0.0);
  f.selected_on = j.value("checkpoint_selected_on", std::string("unknown"));
  f.checkpoint_epoch = j.value("checkpoint_epoch", 0);
  return f;
}

MeanStd mean_std(const std::vector<double>& v) {
  MeanStd r;
  if (v.empty()) return r;
  for (double x : v) r.mean += x;
  r.mean /= static_cast<double>(v.size());
  if (v.size() < 2) return r;
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  r.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  return r;
}

KfoldSummary summarize_folds(std::vector<FoldEval> done, int folds) {
  FER_CHECK(!done.empty(), DataError, "k-fold report: no fold has an eval_test.json yet");
  std::sort(done.begin(), done.end(), [](const FoldEval& a, const FoldEval& b) { return a.fold < b.fold; });
  KfoldSummary s;
  s.folds = std::max(folds, done.back().fold);
  s.class_names = done.front().class_names;
  for (const auto& f : done)
    FER_CHECK(f.class_names == s.class_names, DataError,
              "k-fold report: {} has classes [{}] but {} has [{}]: not folds of one k-fold", f.path,
              fmt::join(f.class_names, ", "), done.front().path, fmt::join(s.class_names, ", "));
  std::set<int> have;
  for (const auto& f : done) have.insert(f.fold);
  for (int k = 1; k <= s.folds; ++k)
    if (!have.count(k)) s.missing.push_back(k);

  for (const auto& c : summary_metrics()) {
    std::vector<double> v;
    for (const auto& f : done) v.push_back(f.metrics.*(c.value));
    s.*(c.agg) = mean_std(v);
  }
  const int n = static_cast<int>(s.class_names.size());
  std::vector<std::vector<int64_t>> sum(n, std::vector<int64_t>(n, 0));
  for (int c = 0; c < n; ++c) {
    std::vector<double> v;
    for (const auto& f : done) v.push_back(f.metrics.recall[c]);
    s.per_class_recall.push_back(mean_std(v));
  }
  std::set<std::string> sel;
  for (const auto& f : done) {
    for (int t = 0; t < n; ++t)
      for (int p = 0; p < n; ++p) sum[t][p] += f.metrics.confusion[t][p];
    sel.insert(f.selected_on);
    if (f.selected_on == "test") s.selected_on_test.push_back(f.fold);
  }
  s.selection.assign(sel.begin(), sel.end());
  s.pooled = metrics_of_confusion(sum);
  s.done = std::move(done);
  return s;
}

std::string selection_statement(const KfoldSummary& s) {
  if (!s.selected_on_test.empty())
    return fmt::format(
        "WARNING: THE CHECKPOINT WAS CHOSEN ON THE TEST SPLIT in fold(s) {} (data.split.select_on_test, the "
        "seed's protocol): these test numbers are BIASED upwards and are not a held-out estimate.",
        fmt::join(s.selected_on_test, ", "));
  if (s.selection.size() == 1 && s.selection.front() == "val")
    return "Checkpoints were chosen on a validation split carved from each fold's training folds; each test "
           "fold was evaluated once.";
  return fmt::format("Checkpoints were chosen on: {}.", fmt::join(s.selection, ", "));
}

nlohmann::json kfold_report_json(const KfoldSummary& s) {
  nlohmann::json j;
  j["folds"] = s.folds;
  std::vector<int> done;
  for (const auto& f : s.done) done.push_back(f.fold);
  j["folds_done"] = done;
  j["folds_missing"] = s.missing;
  j["complete"] = s.missing.empty();
  j["class_names"] = s.class_names;
  for (const auto& c : summary_metrics()) j[c.key] = ms_json(s.*(c.agg));
  nlohmann::json pcr = nlohmann::json::object();
  for (size_t c = 0; c < s.class_names.size(); ++c) pcr[s.class_names[c]] = ms_json(s.per_class_recall[c]);
  j["per_class_recall"] = std::move(pcr);
  j["pooled"] = {{"accuracy", s.pooled.accuracy},
                 {"balanced_accuracy", s.pooled.balanced_accuracy},
                 {"macro_f1", s.pooled.macro_f1},
                 {"total", s.pooled.total},
                 {"confusion", s.pooled.confusion}};
  j["checkpoint_selected_on"] = s.selection;
  j["selected_on_test_folds"] = s.selected_on_test;
  j["selection_note"] = selection_statement(s);
  nlohmann::json per_fold = nlohmann::json::array();
  for (const auto& f : s.done) {
    nlohmann::json r = {{"fold", f.fold},
                        {"eval", f.path},
                        {"samples", f.metrics.total},
                        {"checkpoint_epoch", f.checkpoint_epoch},
                        {"checkpoint_selected_on", f.selected_on}};
    for (const auto& c : summary_metrics()) r[c.key] = f.metrics.*(c.value);
    nlohmann::json rec = nlohmann::json::object();
    for (size_t c = 0; c < s.class_names.size(); ++c) rec[s.class_names[c]] = f.metrics.recall[c];
    r["per_class_recall"] = std::move(rec);
    per_fold.push_back(std::move(r));
  }
  j["per_fold"] = std::move(per_fold);
  return j;
}

std::string kfold_report_csv(const KfoldSummary& s) {
  std::string out = "fold,samples,selected_on";
  for (const auto& c : summary_metrics()) out += std::string(",") + c.key;
  for (const auto& n : s.class_names) out += "," + csv_field("recall_" + n);
  out += "\n";
  for (const auto& f : s.done) {
    out += fmt::format("{},{},{}", f.fold, f.metrics.total, f.selected_on);
    for (const auto& c : summary_metrics()) out += fmt::format(",{}", f.metrics.*(c.value));
    for (double r : f.metrics.recall) out += fmt::format(",{}", r);
    out += "\n";
  }
  for (int row = 0; row < 2; ++row) {
    out += row == 0 ? "mean,," : "std,,";
    for (const auto& c : summary_metrics())
      out += fmt::format(",{}", row == 0 ? (s.*(c.agg)).mean : (s.*(c.agg)).std);
    for (const auto& r : s.per_class_recall) out += fmt::format(",{}", row == 0 ? r.mean : r.std);
    out += "\n";
  }
  return out;
}

std::string kfold_report_markdown(const KfoldSummary& s) {
  std::string o = fmt::format("# {}-fold cross-validation report\n\n", s.folds);
  o += fmt::format("Folds done: {} of {}", s.done.size(), s.folds);
  if (!s.missing.empty())
    o += fmt::format(" (**missing: {}**; the numbers below cover the done folds only)", fmt::join(s.missing, ", "));
  o += ".\n\n";
  o += (s.selected_on_test.empty() ? "" : "**") + selection_statement(s) +
       (s.selected_on_test.empty() ? "" : "**");
  o += "\n\n";
  o += fmt::format(
      "**Accuracy {} ± {} %** (mean ± sample std over folds); pooled accuracy of the summed "
      "confusion {} % over {} samples.\n\n",
      pct(s.accuracy.mean), pct(s.accuracy.std), pct(s.pooled.accuracy), s.pooled.total);
  o += "All values in %.\n\n| fold | samples | selected on | accuracy | balanced acc. | macro P | macro R | "
       "macro F1 "
       "| weighted P | weighted R | weighted F1 |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& f : s.done) {
    o += fmt::format("| {} | {} | {} |", f.fold, f.metrics.total, f.selected_on);
    for (const auto& c : summary_metrics()) o += " " + pct(f.metrics.*(c.value)) + " |";
    o += "\n";
  }
  o += "| **mean** | | |";
  for (const auto& c : summary_metrics()) o += " **" + pct((s.*(c.agg)).mean) + "** |";
  o += "\n| std | | |";
  for (const auto& c : summary_metrics()) o += " " + pct((s.*(c.agg)).std) + " |";
  o += "\n\n## Per-class recall (%)\n\n| class | mean | std |";
  for (const auto& f : s.done) o += fmt::format(" fold {} |", f.fold);
  o += "\n|---|---:|---:|";
  for (size_t k = 0; k < s.done.size(); ++k) o += "---:|";
  o += "\n";
  for (size_t c = 0; c < s.class_names.size(); ++c) {
    o += fmt::format("| {} | {} | {} |", s.class_names[c], pct(s.per_class_recall[c].mean),
                     pct(s.per_class_recall[c].std));
    for (const auto& f : s.done) o += " " + pct(f.metrics.recall[c]) + " |";
    o += "\n";
  }
  o += "\n## Confusion matrix summed over folds (rows true, columns predicted)\n\n| true \\ pred |";
  for (const auto& n : s.class_names) o += " " + n + " |";
  o += "\n|---|";
  for (size_t c = 0; c < s.class_names.size(); ++c) o += "---:|";
  o += "\n";
  for (size_t t = 0; t < s.class_names.size(); ++t) {
    o += "| " + s.class_names[t] + " |";
    for (int64_t v : s.pooled.confusion[t]) o += fmt::format(" {} |", v);
    o += "\n";
  }
  return o;
}

std::string fold_dir(const std::string& dir, int fold) {
  return (fs::path(dir) / fmt::format("fold_{}", fold)).string();
}

FoldState fold_state(const std::string& dir) {
  const fs::path d(dir);
  if (fs::is_regular_file(d / "eval_test.json")) return FoldState::kDone;
  if (fs::is_regular_file(d / "last.pt")) return FoldState::kResume;
  return FoldState::kNew;
}

KfoldSummary write_kfold_report(const std::string& dir, std::vector<std::string>* written) {
  FER_CHECK(fs::is_directory(dir), IoError, "k-fold report: {} is not a directory", dir);
  int folds = 0;
  const fs::path meta = fs::path(dir) / "kfold.json";
  if (fs::is_regular_file(meta)) {
    try {
      folds = nlohmann::json::parse(read_file(meta.string())).at("folds").get<int>();
    } catch (const nlohmann::json::exception& e) {
      throw DataError(fmt::format("{}: {}", meta.string(), e.what()));
    }
  }
  std::vector<int> found;  // fold_<i> directories, sorted
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || name.rfind("fold_", 0) != 0) continue;
    const std::string num = name.substr(5);
    if (num.empty() || num.size() > 6 ||
        !std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    found.push_back(std::stoi(num));
  }
  std::sort(found.begin(), found.end());
  if (folds == 0 && !found.empty()) folds = found.back();
  std::vector<FoldEval> done;
  for (int k : found) {
    const std::string path = (fs::path(fold_dir(dir, k)) / "eval_test.json").string();
    if (!fs::is_regular_file(path)) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::parse_error& e) {
      throw DataError(fmt::format("{}: {}", path, e.what()));
    }
    done.push_back(parse_fold_eval(j, k, path));
  }
  FER_CHECK(!done.empty(), DataError,
            "k-fold report: no {}/fold_<i>/eval_test.json found (run fer kfold first)", dir);
  KfoldSummary s = summarize_folds(std::move(done), folds);

  const auto out = [&](const char* name) { return (fs::path(dir) / name).string(); };
  std::vector<std::string> files = {out("kfold_report.json"), out("kfold_report.csv"), out("kfold_report.md"),
                                    out("kfold_confusion.png"), out("kfold_accuracy.png")};
  write_file_atomic(files[0], kfold_report_json(s).dump(2) + "\n");
  write_file_atomic(files[1], kfold_report_csv(s));
  write_file_atomic(files[2], kfold_report_markdown(s));
  const std::string folds_note = s.missing.empty() ? fmt::format("{} folds", s.folds)
                                                   : fmt::format("{} of {} folds", s.done.size(), s.folds);
  plot_confusion_png(files[3], s.pooled, s.class_names, fmt::format("Confusion summed over {}", folds_note));
  std::vector<int> ids;
  std::vector<double> acc;
  for (const auto& f : s.done) ids.push_back(f.fold), acc.push_back(f.metrics.accuracy);
  plot_fold_bars_png(files[4], ids, acc, s.accuracy.mean, s.accuracy.std,
                     fmt::format("Test accuracy per fold ({})", folds_note), "Test accuracy (%)");
  // One offline page: the tables, both figures and the configuration.
  KfoldHtml page;
  page.title = fmt::format("k-fold: {}", fs::path(dir).lexically_normal().filename().string());
  page.summary = s;
  page.figures = {{"Confusion matrix summed over the folds", files[3]}, {"Test accuracy per fold", files[4]}};
  if (fs::exists(meta)) page.config_json = "// kfold.json\n" + read_file(meta.string());
  const fs::path fold_config = fs::path(fold_dir(dir, s.done.front().fold)) / "config.json";
  if (fs::exists(fold_config)) {
    page.config_json += fmt::format("{}// fold_{}/config.json (the resolved config of a fold)\n{}",
                                    page.config_json.empty() ? "" : "\n", s.done.front().fold,
                                    read_file(fold_config.string()));
  }
  files.push_back(out("kfold_report.html"));
  write_file_atomic(files.back(), render_kfold_report(page));
  if (written) *written = files;
  return s;
}

std::vector<std::string> kfold_config_differences(const nlohmann::json& expected,
                                                  const nlohmann::json& actual) {
  // The fold and the run name differ by design; the runtime fields (threads, device, data
  // workers and prefetch) change how a fold runs, not what it computes.
  static const std::set<std::string> kIgnored = [] {
    std::set<std::string> ignored = {"/data/split/fold", "/name"};
    for (const std::string& ptr : config::runtime_fields()) ignored.insert(ptr);
    return ignored;
  }();
  const bool per_fold_stats = expected.contains("preprocess") &&
                              expected["preprocess"].value("normalize", "") == "dataset" &&
                              expected["preprocess"].value("mean", nlohmann::json::array()).empty();
  std::vector<std::string> diffs;
  for (const auto& op : nlohmann::json::diff(expected, actual)) {
    const std::string path = op.value("path", "");
    if (kIgnored.count(path)) continue;
    if (per_fold_stats && (path.rfind("/preprocess/mean", 0) == 0 || path.rfind("/preprocess/std", 0) == 0))
      continue;
    if (std::find(diffs.begin(), diffs.end(), path) == diffs.end()) diffs.push_back(path);
  }
  return diffs;
}

}  // namespace fer::eval
