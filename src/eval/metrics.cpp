#include "fer/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <random>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/core/rng.hpp"

namespace fer::eval {

namespace {

double ratio(int64_t num, int64_t den) { return den > 0 ? static_cast<double>(num) / den : 0.0; }

void check_names(const Metrics& m, const std::vector<std::string>& class_names, const char* who) {
  FER_CHECK(static_cast<int>(class_names.size()) == m.num_classes, DataError,
            "{}: {} class names for {} classes", who, class_names.size(), m.num_classes);
  FER_CHECK(static_cast<int>(m.confusion.size()) == m.num_classes, DataError,
            "{}: confusion matrix has {} rows for {} classes", who, m.confusion.size(), m.num_classes);
}

}  // namespace

Metrics compute_metrics(const std::vector<int>& y_true, const std::vector<int>& y_pred, int num_classes) {
  FER_CHECK(num_classes > 0, DataError, "compute_metrics: num_classes must be > 0, got {}", num_classes);
  FER_CHECK(y_true.size() == y_pred.size(), DataError, "compute_metrics: {} true labels but {} predictions",
            y_true.size(), y_pred.size());
  const int n = num_classes;
  Metrics m;
  m.num_classes = n;
  m.total = static_cast<int64_t>(y_true.size());
  m.confusion.assign(n, std::vector<int64_t>(n, 0));
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const int t = y_true[i], p = y_pred[i];
    FER_CHECK(t >= 0 && t < n, DataError, "compute_metrics: index {}: true label {} is outside [0, {})", i, t,
              n);
    FER_CHECK(p >= 0 && p < n, DataError, "compute_metrics: index {}: predicted label {} is outside [0, {})",
              i, p, n);
    ++m.confusion[t][p];
  }

  m.precision.assign(n, 0.0);
  m.recall.assign(n, 0.0);
  m.f1.assign(n, 0.0);
  m.support.assign(n, 0);
  int64_t correct = 0;
  int present = 0;
  double recall_sum_present = 0;
  for (int c = 0; c < n; ++c) {
    int64_t predicted = 0;
    for (int t = 0; t < n; ++t) predicted += m.confusion[t][c];
    for (int p = 0; p < n; ++p) m.support[c] += m.confusion[c][p];
    const int64_t tp = m.confusion[c][c];
    correct += tp;
    // zero_division=0: a class never predicted has precision 0, one never seen has recall 0.
    m.precision[c] = ratio(tp, predicted);
    m.recall[c] = ratio(tp, m.support[c]);
    const double pr = m.precision[c] + m.recall[c];
    m.f1[c] = pr > 0 ? 2 * m.precision[c] * m.recall[c] / pr : 0.0;
    if (m.support[c] > 0) {
      ++present;
      recall_sum_present += m.recall[c];
    }
  }
  m.accuracy = ratio(correct, m.total);
  // Balanced accuracy only averages classes that occur: an absent class has no recall to speak of.
  m.balanced_accuracy = present > 0 ? recall_sum_present / present : 0.0;

  // Macro averages run over ALL classes, as sklearn's default (labels=range(n)): a class with zero
  // support still counts, with recall 0 (and F1 0), so a missing class drags the macro score down.
  // This keeps macro scores comparable across evaluation sets that share a class list.
  for (int c = 0; c < n; ++c) {
    m.macro_precision += m.precision[c] / n;
    m.macro_recall += m.recall[c] / n;
    m.macro_f1 += m.f1[c] / n;
    if (m.total > 0) {
      const double w = static_cast<double>(m.support[c]) / static_cast<double>(m.total);
      m.weighted_precision += w * m.precision[c];
      m.weighted_recall += w * m.recall[c];
      m.weighted_f1 += w * m.f1[c];
    }
  }
  return m;
}

namespace {

// Linear interpolation between the order statistics of sorted values (numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

BootstrapCI bootstrap_ci(const std::vector<int>& y_true, const std::vector<int>& y_pred, int num_classes,
                         int resamples, uint64_t seed, double level) {
  FER_CHECK(resamples >= 1, DataError, "bootstrap: resamples must be >= 1, got {}", resamples);
  FER_CHECK(level > 0 && level < 1, DataError, "bootstrap: level must be in (0, 1), got {}", level);
  FER_CHECK(!y_true.empty(), DataError, "bootstrap: no samples");
  compute_metrics(y_true, y_pred, num_classes);         // validates sizes and label ranges
  std::vector<std::vector<int>> preds_of(num_classes);  // predictions of each true class's samples
  for (size_t i = 0; i < y_true.size(); ++i) preds_of[y_true[i]].push_back(y_pred[i]);

  std::mt19937_64 rng(derive_seed(seed, Stream::kBootstrap));
  std::vector<double> acc, f1;
  acc.reserve(resamples);
  f1.reserve(resamples);
  std::vector<int> t, p;
  t.reserve(y_true.size());
  p.reserve(y_true.size());
  for (int r = 0; r < resamples; ++r) {
    t.clear();
    p.clear();
    for (int c = 0; c < num_classes; ++c) {
      const auto& pc = preds_of[c];
      if (pc.empty()) continue;
      for (size_t k = 0; k < pc.size(); ++k) {
        t.push_back(c);
        p.push_back(pc[bounded(rng, pc.size())]);
      }
    }
    const Metrics m = compute_metrics(t, p, num_classes);
    acc.push_back(m.accuracy);
    f1.push_back(m.macro_f1);
  }
  std::sort(acc.begin(), acc.end());
  std::sort(f1.begin(), f1.end());
  BootstrapCI ci;
  ci.resamples = resamples;
  ci.seed = seed;
  ci.level = level;
  const double a = (1 - level) / 2;
  ci.accuracy_lo = quantile(acc, a);
  ci.accuracy_hi = quantile(acc, 1 - a);
  ci.macro_f1_lo = quantile(f1, a);
  ci.macro_f1_hi = quantile(f1, 1 - a);
  return ci;
}

nlohmann::json metrics_to_json(const Metrics& m, const std::vector<std::string>& class_names) {
  check_names(m, class_names, "metrics_to_json");
  const int n = m.num_classes;
  nlohmann::json j;
  j["accuracy"] = m.accuracy;
  j["balanced_accuracy"] = m.balanced_accuracy;
  j["macro"] = {{"precision", m.macro_precision}, {"recall", m.macro_recall}, {"f1", m.macro_f1}};
  j["weighted"] = {{"precision", m.weighted_precision}, {"recall", m.weighted_recall}, {"f1", m.weighted_f1}};
  nlohmann::json per_class = nlohmann::json::object();
  for (int c = 0; c < n; ++c) {
    FER_CHECK(!per_class.contains(class_names[c]), DataError, "metrics_to_json: duplicate class name '{}'",
              class_names[c]);
    per_class[class_names[c]] = {{"precision", m.precision.at(c)},
                                 {"recall", m.recall.at(c)},
                                 {"f1", m.f1.at(c)},
                                 {"support", m.support.at(c)}};
  }
  j["per_class"] = std::move(per_class);
  nlohmann::json counts = nlohmann::json::array(), normalized = nlohmann::json::array();
  for (int t = 0; t < n; ++t) {
    int64_t row_sum = 0;
    for (int64_t v : m.confusion[t]) row_sum += v;
    nlohmann::json norm_row = nlohmann::json::array();
    for (int p = 0; p < n; ++p) norm_row.push_back(ratio(m.confusion[t][p], row_sum));
    counts.push_back(m.confusion[t]);
    normalized.push_back(std::move(norm_row));
  }
  j["confusion"] = {
      {"labels", class_names}, {"counts", std::move(counts)}, {"normalized", std::move(normalized)}};
  j["total"] = m.total;
  j["loss"] = m.loss;
  return j;
}

std::string confusion_csv(const Metrics& m, const std::vector<std::string>& class_names) {
  check_names(m, class_names, "confusion_csv");
  std::string out = "true\\pred";
  for (const auto& name : class_names) out += "," + csv_field(name);
  out += "\n";
  for (int t = 0; t < m.num_classes; ++t) {
    out += csv_field(class_names[t]);
    for (int64_t v : m.confusion[t]) out += "," + std::to_string(v);
    out += "\n";
  }
  return out;
}

}  // namespace fer::eval
