// Train / val / test splits. All randomness comes from std::mt19937_64 seeded with derived seeds
// and a portable shuffle, so a seed gives the same split with every standard library.
#include "fer/data/split.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "fer/core/error.hpp"
#include "fer/core/rng.hpp"

namespace fer::data {
namespace {

// Fisher-Yates; std::shuffle's sequence differs between standard libraries.
void shuffle(std::vector<size_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[bounded(rng, i)]);
}

// Number of classes spanned by `labels`; negative labels are a DataError.
size_t class_span(const std::vector<int>& labels) {
  int hi = -1;
  for (size_t i = 0; i < labels.size(); ++i) {
    FER_CHECK(labels[i] >= 0, DataError, "sample {} has no label ({})", i, labels[i]);
    hi = std::max(hi, labels[i]);
  }
  return hi < 0 ? 0 : static_cast<size_t>(hi) + 1;
}

// `indices` grouped by label, each group ascending.
std::vector<std::vector<size_t>> group_by_class(const std::vector<size_t>& indices,
                                                const std::vector<int>& labels) {
  std::vector<std::vector<size_t>> groups(class_span(labels));
  for (size_t i : indices) {
    FER_CHECK(i < labels.size(), DataError, "sample index {} out of range (0..{})", i, labels.size());
    groups[static_cast<size_t>(labels[i])].push_back(i);
  }
  for (auto& g : groups) std::sort(g.begin(), g.end());
  return groups;
}

std::string fmt_list(const std::vector<double>& v) {
  std::string out;
  for (double x : v) out += fmt::format("{}{}", out.empty() ? "" : ", ", x);
  return "[" + out + "]";
}

std::string class_name(const Dataset& ds, size_t c) {
  return c < ds.class_names.size() ? ds.class_names[c] : std::to_string(c);
}

// The grouping unit in messages: "subjects" or "sequences" (Dataset::group_unit), and where the
// groups come from.
std::string units(const Dataset& ds) { return ds.group_unit + "s"; }
std::string unit_origin(const Dataset& ds) {
  return ds.group_unit == "subject" ? "data.subject_pattern" : "frame " + ds.group_unit + "s of " + ds.format;
}

// Number of distinct subjects among `indices`.
size_t subject_count(const Dataset& ds, const std::vector<size_t>& indices) {
  std::set<std::string> subjects;
  for (size_t i : indices) subjects.insert(ds.samples.at(i).subject);
  return subjects.size();
}

// Every label must name one of the dataset's classes.
void check_labels(const Dataset& ds) {
  FER_CHECK(!ds.samples.empty(), DataError, "{}: the dataset has no samples to split", ds.source);
  for (const auto& smp : ds.samples) {
    FER_CHECK(smp.label >= 0 && static_cast<size_t>(smp.label) < ds.class_names.size(), DataError,
              "{}: sample {} has label {} outside 0..{}", ds.source, smp.id, smp.label,
              static_cast<int>(ds.class_names.size()) - 1);
  }
}

// Carves a stratified `fraction` of `train` as val (or, under the seed protocol, takes val =
// test). With `by_subject`, whole subjects of `train` go to val (subject_partition on the
// training subset), so no subject is in both. Empty results are DataErrors.
void carve_val(Split& s, const Dataset& ds, const std::vector<int>& labels, const config::SplitConfig& cfg,
               uint64_t seed, bool by_subject = false) {
  if (cfg.select_on_test) {
    s.val = s.test;
    return;
  }
  FER_CHECK(cfg.val_fraction > 0.0 && cfg.val_fraction < 1.0, ConfigError,
            "split.val_fraction must be in (0, 1) to carve val from train, got {}", cfg.val_fraction);
  const std::vector<double> fractions = {1.0 - cfg.val_fraction, cfg.val_fraction};
  const uint64_t carve_seed = derive_seed(seed, Stream::kValCarve);
  auto parts = by_subject ? subject_partition(ds, fractions, carve_seed, /*stratified=*/true, &s.train)
                          : stratified_partition(s.train, labels, fractions, carve_seed);
  const std::string unit = "training " + (by_subject ? units(ds) : std::string("samples"));
  const size_t units = by_subject ? subject_count(ds, s.train) : s.train.size();
  FER_CHECK(!parts[1].empty(), DataError, "split.val_fraction {} of {} {} leaves val empty; raise it",
            cfg.val_fraction, units, unit);
  FER_CHECK(!parts[0].empty(), DataError, "split.val_fraction {} of {} {} leaves train empty; lower it",
            cfg.val_fraction, units, unit);
  s.train = std::move(parts[0]);
  s.val = std::move(parts[1]);
}

}  // namespace

std::vector<std::vector<size_t>> subject_partition(const Dataset& ds, const std::vector<double>& fractions,
                                                   uint64_t seed, bool stratified,
                                                   const std::vector<size_t>* subset) {
  FER_CHECK(!fractions.empty(), ConfigError, "split fractions are empty");
  const std::vector<int> labels = ds.labels();
  const size_t classes = stratified ? class_span(labels) : 1;
  std::vector<size_t> indices;
  if (subset != nullptr) {
    indices = *subset;
    std::sort(indices.begin(), indices.end());
  } else {
    indices.resize(ds.samples.size());
    std::iota(indices.begin(), indices.end(), size_t{0});
  }
  // Subjects in sorted order, then a seeded shuffle, then largest first (stable): big subjects
  // are placed while there is room to balance them.
  std::map<std::string, std::vector<size_t>> by_subject;
  for (size_t i : indices) {
    FER_CHECK(i < ds.samples.size(), DataError, "sample index {} out of range (0..{})", i, ds.samples.size());
    FER_CHECK(!ds.samples[i].subject.empty(), DataError, "{}: sample {} has no subject", ds.source,
              ds.samples[i].id);
    by_subject[ds.samples[i].subject].push_back(i);
  }
  std::vector<const std::vector<size_t>*> subjects;
  for (const auto& [name, idx] : by_subject) subjects.push_back(&idx);
  std::vector<size_t> order(subjects.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(derive_seed(seed, Stream::kSplit, 3, 0));
  shuffle(order, rng);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return subjects[a]->size() > subjects[b]->size(); });

  std::vector<double> class_total(classes, 0.0);
  for (size_t i : indices) class_total[stratified ? static_cast<size_t>(labels[i]) : 0] += 1.0;
  const size_t parts_n = fractions.size();
  std::vector<std::vector<double>> have(parts_n, std::vector<double>(classes, 0.0));
  std::vector<size_t> subjects_in(parts_n, 0);
  std::vector<std::vector<size_t>> parts(parts_n);
  for (size_t o : order) {
    const auto& idx = *subjects[o];
    std::vector<double> count(classes, 0.0);
    for (size_t i : idx) count[stratified ? static_cast<size_t>(labels[i]) : 0] += 1.0;
    // The part whose per-class deficit (target - have, relative to the class size) this subject
    // fills best; an empty part with a positive fraction goes first.
    size_t best = 0;
    double best_score = -std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < parts_n; ++k) {
      if (fractions[k] <= 0.0) continue;
      double score = 0.0;
      for (size_t c = 0; c < classes; ++c) {
        if (count[c] == 0.0) continue;
        score += count[c] * (fractions[k] * class_total[c] - have[k][c] - 0.5 * count[c]) / class_total[c];
      }
      if (subjects_in[k] == 0) score += 1e9;
      if (score > best_score) {
        best_score = score;
        best = k;
      }
    }
    for (size_t c = 0; c < classes; ++c) have[best][c] += count[c];
    ++subjects_in[best];
    parts[best].insert(parts[best].end(), idx.begin(), idx.end());
  }
  for (auto& p : parts) std::sort(p.begin(), p.end());
  return parts;
}

namespace {

void split_ratio(Split& s, const Dataset& ds, const std::vector<int>& labels, const config::SplitConfig& cfg,
                 uint64_t seed) {
  FER_CHECK(cfg.ratios.size() == 3, ConfigError,
            "split.ratios must have 3 entries (train, val, test), got {}", fmt_list(cfg.ratios));
  // Frame sequences (the CK+ h5's triplets) give way to an explicit file order, whose contiguous
  // per-class blocks keep them whole except at the cuts; subjects never do.
  const bool file_order_over_sequences =
      cfg.order == config::SplitOrder::kFile && ds.group_unit == "sequence";
  if (file_order_over_sequences && has_subjects(ds)) {
    spdlog::warn(
        "split.order \"file\": per-class blocks in file order rather than whole {}; a cut can fall "
        "inside a {}",
        units(ds), ds.group_unit);
  }
  if (has_subjects(ds) && !file_order_over_sequences) {
    FER_CHECK(cfg.order == config::SplitOrder::kRandom, ConfigError,
              "split.order \"file\" cuts each class in file order, but the samples of {} have {} ({}): whole "
              "{} go to one split each; use one or the other",
              ds.source, units(ds), unit_origin(ds), units(ds));
    auto parts = subject_partition(ds, cfg.ratios, seed, cfg.stratified);
    const char* names[] = {"train", "val", "test"};
    std::vector<size_t> subjects(3);
    for (size_t k = 0; k < 3; ++k) {
      std::set<std::string> subj;
      for (size_t i : parts[k]) subj.insert(ds.samples[i].subject);
      subjects[k] = subj.size();
      FER_CHECK(
          !parts[k].empty(), DataError,
          "{}: split.ratios {} leave the {} split without {} ({} {} in all; whole {} are assigned to one "
          "split each); use a larger {} ratio or more {}",
          ds.source, fmt_list(cfg.ratios), names[k], units(ds), subjects[0] + subjects[1] + subjects[2],
          units(ds), units(ds), names[k], units(ds));
    }
    spdlog::info("{}-grouped split: train {} {} ({} samples), val {} ({}), test {} ({})", ds.group_unit,
                 subjects[0], units(ds), parts[0].size(), subjects[1], parts[1].size(), subjects[2],
                 parts[2].size());
    s.train = std::move(parts[0]);
    s.val = std::move(parts[1]);
    s.test = std::move(parts[2]);
    return;
  }
  std::vector<size_t> all(labels.size());
  std::iota(all.begin(), all.end(), size_t{0});
  std::vector<size_t> rank;
  if (cfg.order == config::SplitOrder::kFile) {
    rank = natural_order_rank(ds);
    spdlog::info("split in file order: per {}, the first {:g}% train, the next {:g}% val, the last {:g}% test",
                 cfg.stratified ? "class" : "dataset", 100 * cfg.ratios[0], 100 * cfg.ratios[1], 100 * cfg.ratios[2]);
  }
  auto parts = stratified_partition(all, labels, cfg.ratios, seed, cfg.stratified, rank.empty() ? nullptr : &rank);
  const char* names[] = {"train", "val", "test"};
  for (size_t k = 0; k < 3; ++k) {
    FER_CHECK(!parts[k].empty(), DataError,
              "{}: split.ratios {} leave the {} split empty ({} samples); use a larger {} ratio", ds.source,
              fmt_list(cfg.ratios), names[k], labels.size(), names[k]);
  }
  s.train = std::move(parts[0]);
  s.val = std::move(parts[1]);
  s.test = std::move(parts[2]);
}

void split_predefined(Split& s, const Dataset& ds, const std::vector<int>& labels,
                      const config::SplitConfig& cfg, uint64_t seed) {
  std::vector<std::string> present;
  for (const auto& smp : ds.samples) {
    if (std::find(present.begin(), present.end(), smp.usage) == present.end()) {
      present.push_back(smp.usage);
    }
  }
  FER_CHECK(!(present.size() == 1 && present[0].empty()), ConfigError,
            "split.scheme \"predefined\" needs per-sample usage names, but {} ({}) has none; use "
            "ratio, stratified_kfold or ck_plus_folds",
            ds.source, ds.format);
  std::string present_str;
  for (const auto& u : present) {
    present_str += (present_str.empty() ? "" : ", ") + (u.empty() ? std::string("\"\"") : u);
  }
  auto check_usage = [&](const std::string& key, const std::string& name) {
    FER_CHECK(std::find(present.begin(), present.end(), name) != present.end(), ConfigError,
              "split.{}: no sample has usage \"{}\" in {}; usages present: {}", key, name, ds.source,
              present_str);
  };
  FER_CHECK(!cfg.train.empty(), ConfigError, "split.train: the usage name of train is empty");
  check_usage("train", cfg.train);
  if (!cfg.val.empty()) check_usage("val", cfg.val);
  if (!cfg.test.empty()) check_usage("test", cfg.test);
  FER_CHECK(cfg.train != cfg.val && cfg.train != cfg.test && (cfg.val.empty() || cfg.val != cfg.test),
            ConfigError, "split.train / split.val / split.test must name different usages");

  for (size_t i = 0; i < ds.samples.size(); ++i) {
    const std::string& u = ds.samples[i].usage;
    if (u == cfg.train)
      s.train.push_back(i);
    else if (!cfg.val.empty() && u == cfg.val)
      s.val.push_back(i);
    else if (!cfg.test.empty() && u == cfg.test)
      s.test.push_back(i);
  }
  if (cfg.val.empty()) carve_val(s, ds, labels, cfg, seed);
}

/// The seed's CK+ scheme is defined for 10 folds and one fold-size entry per class.
void check_ck_plus_config(const Dataset& ds, const config::SplitConfig& cfg) {
  FER_CHECK(cfg.folds == 10, ConfigError,
            "split.folds = {}: ck_plus_folds is the seed's 10-fold protocol; set folds to 10 or "
            "use the stratified_kfold scheme",
            cfg.folds);
  FER_CHECK(cfg.ck_fold_sizes.size() == ds.class_names.size(), ConfigError,
            "split.ck_fold_sizes has {} entries but {} has {} classes", cfg.ck_fold_sizes.size(), ds.source,
            ds.class_names.size());
}

void split_ck_plus(Split& s, const Dataset& ds, const std::vector<int>& labels,
                   const config::SplitConfig& cfg, uint64_t seed) {
  check_ck_plus_config(ds, cfg);
  s.test = ck_plus_seed_test_indices(labels, cfg.fold, cfg.ck_fold_sizes);
  std::vector<char> in_test(labels.size(), 0);
  for (size_t i : s.test) in_test[i] = 1;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!in_test[i]) s.train.push_back(i);
  }
  // The seed's fold blocks keep the CK+ h5's frame triplets whole; so does the validation carve
  // (and it keeps whole subjects when data.subject_pattern gives them).
  const bool grouped = has_subjects(ds);
  carve_val(s, ds, labels, cfg, seed, grouped);
  if (grouped && !cfg.select_on_test) {
    spdlog::info("{}-grouped validation: train {} {} ({} samples), val {} ({})", ds.group_unit,
                 subject_count(ds, s.train), units(ds), s.train.size(), subject_count(ds, s.val),
                 s.val.size());
  }
}

void split_kfold(Split& s, const Dataset& ds, const std::vector<int>& labels, const config::SplitConfig& cfg,
                 uint64_t seed) {
  FER_CHECK(cfg.fold >= 1 && cfg.fold <= cfg.folds, ConfigError, "split.fold must be in 1..{}, got {}",
            cfg.folds, cfg.fold);
  auto folds = kfold_test_folds(ds, cfg, seed);
  s.test = std::move(folds[static_cast<size_t>(cfg.fold - 1)]);
  for (int k = 0; k < cfg.folds; ++k) {
    if (k != cfg.fold - 1) {
      s.train.insert(s.train.end(), folds[static_cast<size_t>(k)].begin(),
                     folds[static_cast<size_t>(k)].end());
    }
  }
  std::sort(s.train.begin(), s.train.end());
  const bool by_subject = has_subjects(ds);
  carve_val(s, ds, labels, cfg, seed, by_subject);
  if (by_subject) {
    spdlog::info("{}-grouped fold {} of {}: train {} {} ({} samples), val {} ({}), test {} ({})",
                 ds.group_unit, cfg.fold, cfg.folds, subject_count(ds, s.train), units(ds), s.train.size(),
                 subject_count(ds, s.val), s.val.size(), subject_count(ds, s.test), s.test.size());
  }
}

// Subject-grouped stratified k-fold: subject_partition into k equal parts, so every subject's
// samples are in one fold and each fold gets about 1/k of every class.
std::vector<std::vector<size_t>> subject_kfold(const Dataset& ds, const config::SplitConfig& cfg, uint64_t seed) {
  std::vector<size_t> all(ds.samples.size());
  std::iota(all.begin(), all.end(), size_t{0});
  const size_t subjects = subject_count(ds, all);
  FER_CHECK(
      static_cast<size_t>(cfg.folds) <= subjects, ConfigError,
      "split.folds = {} exceeds the {} {} of {} ({}): {}-grouped folds need at least one {} per fold; use at "
      "most {} folds",
      cfg.folds, subjects, units(ds), ds.source, unit_origin(ds), ds.group_unit, ds.group_unit, subjects);
  auto folds = subject_partition(ds, std::vector<double>(static_cast<size_t>(cfg.folds), 1.0 / cfg.folds),
                                 derive_seed(seed, Stream::kSplit, 4, 0), /*stratified=*/true);
  // A class held by fewer subjects than folds cannot be in every test fold: say which.
  const std::vector<int64_t> counts = ds.class_counts();
  for (size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] == 0) continue;
    std::string missing;
    for (size_t k = 0; k < folds.size(); ++k) {
      const bool has = std::any_of(folds[k].begin(), folds[k].end(),
                                   [&](size_t i) { return static_cast<size_t>(ds.samples[i].label) == c; });
      if (!has) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", k + 1);
    }
    if (!missing.empty()) {
      spdlog::warn(
          "{}-grouped folds: class \"{}\" ({} samples) has no test sample in fold(s) {}: too few of "
          "its {} to spread over {} folds",
          ds.group_unit, class_name(ds, c), counts[c], missing, units(ds), cfg.folds);
    }
  }
  spdlog::info("{}-grouped stratified {}-fold over {} {}: each {}'s samples are in one test fold",
               ds.group_unit, cfg.folds, subjects, units(ds), ds.group_unit);
  return folds;
}

}  // namespace

std::vector<std::string> missing_class_messages(const Split& split, const Dataset& ds) {
  const size_t k = ds.class_names.size();
  const std::vector<std::pair<const char*, const std::vector<size_t>*>> parts = {
      {"train", &split.train}, {"val", &split.val}, {"test", &split.test}};
  std::vector<std::array<size_t, 3>> counts(k, {0, 0, 0});
  for (size_t p = 0; p < parts.size(); ++p) {
    for (size_t i : *parts[p].second) {
      const int label = ds.samples.at(i).label;
      if (label >= 0 && static_cast<size_t>(label) < k) ++counts[static_cast<size_t>(label)][p];
    }
  }
  std::vector<std::string> messages;
  for (size_t c = 0; c < k; ++c) {
    const auto& n = counts[c];
    const std::string tally = fmt::format("train {}, val {}, test {}", n[0], n[1], n[2]);
    FER_CHECK(n[0] > 0, DataError,
              "class \"{}\" has no sample in the training part ({}): the model cannot learn it; remove the "
              "class (data.classes) or give it more samples",
              ds.class_names[c], tally);
    for (size_t p = 1; p < parts.size(); ++p) {
      if (!parts[p].second->empty() && n[p] == 0) {
        messages.push_back(fmt::format("class \"{}\" has no sample in {} ({}): its recall and F1 there are "
                                       "undefined and count as 0 in the macro averages",
                                       ds.class_names[c], parts[p].first, tally));
      }
    }
  }
  return messages;
}

void check_folds(const Dataset& ds, const config::SplitConfig& cfg, uint64_t seed) {
  config::SplitConfig c = cfg;
  c.fold = 1;
  make_split(ds, c, seed);  // the fold-independent checks (folds vs classes and subjects, ...)
  for (int k = 2; k <= cfg.folds; ++k) {
    c.fold = k;
    try {
      make_split(ds, c, seed);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("fold {} of {}: {}", k, cfg.folds, e.what()));
    } catch (const DataError& e) {
      throw DataError(fmt::format("fold {} of {}: {}", k, cfg.folds, e.what()));
    }
  }
}

Split make_split(const Dataset& ds, const config::SplitConfig& cfg, uint64_t seed) {
  check_labels(ds);
  const std::vector<int> labels = ds.labels();

  Split s;
  s.scheme = cfg.scheme;
  switch (cfg.scheme.value()) {
    case config::SplitScheme::kRatio:
      split_ratio(s, ds, labels, cfg, seed);
      break;
    case config::SplitScheme::kPredefined:
      split_predefined(s, ds, labels, cfg, seed);
      break;
    case config::SplitScheme::kCkPlusFolds:
      split_ck_plus(s, ds, labels, cfg, seed);
      break;
    case config::SplitScheme::kStratifiedKfold:
      split_kfold(s, ds, labels, cfg, seed);
      break;
  }
  s.selection = cfg.select_on_test ? "test" : "val";
  if (cfg.select_on_test) {
    FER_CHECK(!s.test.empty(), ConfigError, "split.select_on_test needs a test split, but it is empty");
  }

  std::sort(s.train.begin(), s.train.end());
  const bool keep_seed_order = cfg.scheme == config::SplitScheme::kCkPlusFolds;
  if (!keep_seed_order) {
    std::sort(s.val.begin(), s.val.end());
    std::sort(s.test.begin(), s.test.end());
  } else if (!cfg.select_on_test) {
    std::sort(s.val.begin(), s.val.end());
  }
  return s;
}

bool has_subjects(const Dataset& ds) {
  return !ds.samples.empty() && std::all_of(ds.samples.begin(), ds.samples.end(),
                                            [](const Sample& smp) { return !smp.subject.empty(); });
}

std::vector<std::vector<size_t>> kfold_test_folds(const Dataset& ds, const config::SplitConfig& cfg, uint64_t seed) {
  check_labels(ds);
  if (cfg.scheme == config::SplitScheme::kCkPlusFolds) {
    check_ck_plus_config(ds, cfg);
    if (has_subjects(ds) && ds.group_unit == "subject") {
      spdlog::warn("ck_plus_folds is the seed's class-ordered protocol and ignores subjects (frames of one person "
                   "can be in train and test); use stratified_kfold for subject-grouped folds");
    }
    const std::vector<int> labels = ds.labels();
    std::vector<std::vector<size_t>> folds;
    for (int f = 1; f <= cfg.folds; ++f) folds.push_back(ck_plus_seed_test_indices(labels, f, cfg.ck_fold_sizes));
    return folds;
  }
  FER_CHECK(cfg.scheme == config::SplitScheme::kStratifiedKfold, ConfigError,
            "split.scheme \"{}\" has no folds; k-fold needs stratified_kfold or ck_plus_folds", cfg.scheme);
  FER_CHECK(cfg.folds >= 2, ConfigError, "split.folds must be >= 2, got {}", cfg.folds);
  if (has_subjects(ds)) return subject_kfold(ds, cfg, seed);
  const std::vector<int64_t> counts = ds.class_counts();
  for (size_t c = 0; c < counts.size(); ++c) {
    FER_CHECK(counts[c] == 0 || counts[c] >= cfg.folds, ConfigError,
              "split.folds = {} exceeds the {} samples of class \"{}\" (stratified folds need at least one per "
              "fold); use at most {} folds",
              cfg.folds, counts[c], class_name(ds, c), counts[c]);
  }
  return stratified_kfold(ds.labels(), cfg.folds, seed);
}

std::vector<size_t> ck_plus_seed_test_indices(const std::vector<int>& labels, int fold,
                                              const std::vector<int>& fold_sizes) {
  constexpr int kFolds = 10;
  FER_CHECK(fold >= 1 && fold <= kFolds, ConfigError, "split.fold must be in 1..{} for ck_plus_folds, got {}",
            kFolds, fold);
  FER_CHECK(!labels.empty(), DataError, "ck_plus_folds: no samples");
  for (size_t i = 0; i < labels.size(); ++i) {
    FER_CHECK(labels[i] >= 0, DataError, "ck_plus_folds: sample {} has no label ({})", i, labels[i]);
    FER_CHECK(i == 0 || labels[i] >= labels[i - 1], DataError,
              "ck_plus_folds needs samples ordered by class (as in CK_data.h5), but sample {} "
              "has label {} after label {}",
              i, labels[i], labels[i - 1]);
  }
  const size_t classes = static_cast<size_t>(labels.back()) + 1;
  FER_CHECK(fold_sizes.size() == classes, ConfigError,
            "split.ck_fold_sizes has {} entries, but the labels have {} classes", fold_sizes.size(), classes);

  // start[c] = first index of class c; start[classes] = n (the seed's sum_number).
  std::vector<size_t> start(classes + 1, 0);
  for (int l : labels) ++start[static_cast<size_t>(l) + 1];
  for (size_t c = 1; c <= classes; ++c) start[c] += start[c - 1];

  const size_t n = labels.size();
  std::vector<size_t> test;
  bool spilled = false;
  for (size_t j = 0; j < classes; ++j) {
    FER_CHECK(fold_sizes[j] >= 0, ConfigError, "split.ck_fold_sizes[{}] = {} is negative", j, fold_sizes[j]);
    const size_t size = static_cast<size_t>(fold_sizes[j]);
    const size_t count = start[j + 1] - start[j];
    FER_CHECK(size <= count, ConfigError, "split.ck_fold_sizes[{}] = {} exceeds the {} samples of class {}",
              j, size, count, j);
    if (size == 0) continue;
    if (fold != kFolds) {
      const size_t first = start[j] + static_cast<size_t>(fold - 1) * size;
      // The seed lets a block run past its class into the next one (CK+ fear, fold 9); that is
      // reproduced, but the block must start inside its class and end inside the data.
      FER_CHECK(first < start[j + 1] && first + size <= n, ConfigError,
                "split.ck_fold_sizes[{}] = {}: fold {} block {}..{} falls outside class {} "
                "(indices {}..{})",
                j, size, fold, first, first + size - 1, j, start[j], start[j + 1] - 1);
      spilled = spilled || first + size > start[j + 1];
      for (size_t t = 0; t < size; ++t) test.push_back(first + t);
    } else {
      for (size_t t = 0; t < size; ++t) test.push_back(start[j + 1] - 1 - t);
    }
  }
  if (spilled) {
    spdlog::warn(
        "ck_plus_folds fold {}: as in the seed code, a class block runs into the next "
        "class (its test set holds samples of a neighbouring class)",
        fold);
  }
  std::vector<size_t> sorted = test;
  std::sort(sorted.begin(), sorted.end());
  FER_CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(), ConfigError,
            "split.ck_fold_sizes: fold {} blocks overlap", fold);
  return test;
}

std::vector<std::vector<size_t>> stratified_kfold(const std::vector<int>& labels, int k, uint64_t seed) {
  FER_CHECK(k >= 2, ConfigError, "split.folds must be >= 2, got {}", k);
  std::vector<size_t> all(labels.size());
  std::iota(all.begin(), all.end(), size_t{0});
  auto groups = group_by_class(all, labels);
  for (size_t c = 0; c < groups.size(); ++c) {
    FER_CHECK(groups[c].empty() || groups[c].size() >= static_cast<size_t>(k), ConfigError,
              "split.folds = {} exceeds the {} samples of class {}", k, groups[c].size(), c);
  }
  std::vector<std::vector<size_t>> folds(static_cast<size_t>(k));
  size_t offset = 0;  // round-robin position carried across classes keeps fold sizes balanced
  for (size_t c = 0; c < groups.size(); ++c) {
    std::mt19937_64 rng(derive_seed(seed, Stream::kSplit, 2, c));
    shuffle(groups[c], rng);
    for (size_t i : groups[c]) {
      folds[offset].push_back(i);
      offset = (offset + 1) % folds.size();
    }
  }
  for (auto& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

std::vector<std::vector<size_t>> stratified_partition(const std::vector<size_t>& indices,
                                                      const std::vector<int>& labels,
                                                      const std::vector<double>& fractions, uint64_t seed,
                                                      bool stratified, const std::vector<size_t>* rank) {
  FER_CHECK(!fractions.empty(), ConfigError, "split fractions are empty");
  double sum = 0.0;
  for (double f : fractions) {
    FER_CHECK(std::isfinite(f) && f >= 0.0, ConfigError, "split fractions must be >= 0, got {}",
              fmt_list(fractions));
    sum += f;
  }
  FER_CHECK(std::abs(sum - 1.0) < 1e-6, ConfigError, "split fractions must sum to 1, got {} = {}",
            fmt_list(fractions), sum);

  std::vector<std::vector<size_t>> groups;
  if (stratified) {
    groups = group_by_class(indices, labels);
  } else {
    for (size_t i : indices) {
      FER_CHECK(i < labels.size(), DataError, "sample index {} out of range (0..{})", i, labels.size());
    }
    groups.push_back(indices);
    std::sort(groups[0].begin(), groups[0].end());
  }

  std::vector<std::vector<size_t>> parts(fractions.size());
  for (size_t c = 0; c < groups.size(); ++c) {
    auto& g = groups[c];
    if (rank) {
      for (size_t i : g) {
        FER_CHECK(i < rank->size(), DataError, "sample index {} out of range (0..{})", i, rank->size());
      }
      std::sort(g.begin(), g.end(), [&](size_t a, size_t b) { return (*rank)[a] < (*rank)[b]; });
    } else {
      std::mt19937_64 rng(derive_seed(seed, Stream::kSplit, 1, c));
      shuffle(g, rng);
    }
    // Cumulative rounding: each part is within one sample of n * fraction.
    const double n = static_cast<double>(g.size());
    double cum = 0.0;
    size_t begin = 0;
    for (size_t k = 0; k < fractions.size(); ++k) {
      cum += fractions[k];
      const size_t end = k + 1 == fractions.size()
                             ? g.size()
                             : std::min(g.size(), static_cast<size_t>(std::llround(n * cum)));
      if (end > begin)
        parts[k].insert(parts[k].end(), g.begin() + static_cast<long>(begin),
                        g.begin() + static_cast<long>(end));
      begin = std::max(begin, end);
    }
  }
  for (auto& p : parts) std::sort(p.begin(), p.end());
  return parts;
}

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  const auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      // Compare by value: skip leading zeros, then longer is larger, then digit by digit.
      size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int cmp = a.compare(is, ie - is, b, js, je - js);
      if (cmp != 0) return cmp < 0;
      if (ie - i != je - j) return ie - i < je - j;  // "01" after "1": fewer leading zeros first
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::vector<size_t> natural_order_rank(const Dataset& ds) {
  std::vector<size_t> order(ds.samples.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return natural_less(ds.samples[a].id, ds.samples[b].id); });
  std::vector<size_t> rank(order.size());
  for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  return rank;
}

nlohmann::json split_to_json(const Split& split, const Dataset& ds) {
  auto ids = [&](const std::vector<size_t>& idx) {
    nlohmann::json a = nlohmann::json::array();
    for (size_t i : idx) a.push_back(ds.samples.at(i).id);
    return a;
  };
  return nlohmann::json{{"scheme", split.scheme},
                        {"selection", split.selection},
                        {"train", ids(split.train)},
                        {"val", ids(split.val)},
                        {"test", ids(split.test)}};
}

}  // namespace fer::data
