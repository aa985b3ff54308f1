// Splits: the seed's CK+ folds, stratified k-fold, ratio and predefined splits.
#include "fer/data/split.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "fer/core/error.hpp"
#include "fer/data/loaders.hpp"
#include "fer/data/prepare.hpp"
#include "test_util.hpp"

namespace {

using fer::config::SplitConfig;
using fer::data::Dataset;
using fer::data::Split;

const std::vector<int> kCkCounts = {135, 177, 75, 207, 84, 249, 54};
const std::vector<int> kCkSizes = {12, 18, 9, 21, 9, 24, 6};

std::vector<int> class_ordered(const std::vector<int>& counts) {
  std::vector<int> labels;
  for (size_t c = 0; c < counts.size(); ++c) labels.insert(labels.end(), counts[c], int(c));
  return labels;
}

Dataset make_ds(const std::vector<int>& labels, size_t classes, const std::vector<std::string>& usages = {}) {
  Dataset ds;
  ds.source = "mem";
  for (size_t c = 0; c < classes; ++c) ds.class_names.push_back("c" + std::to_string(c));
  for (size_t i = 0; i < labels.size(); ++i) {
    fer::data::Sample s;
    s.id = "idx:" + std::to_string(i);
    s.label = labels[i];
    if (!usages.empty()) s.usage = usages[i];
    ds.samples.push_back(s);
  }
  return ds;
}

using fer::test::error_of;

std::vector<int> counts_of(const std::vector<size_t>& idx, const std::vector<int>& labels, size_t classes) {
  std::vector<int> c(classes, 0);
  for (size_t i : idx) ++c[static_cast<size_t>(labels[i])];
  return c;
}

// True when the three lists are disjoint, ascending and together cover 0..n-1.
void expect_partition(const Split& s, size_t n) {
  std::vector<size_t> all;
  for (const auto* v : {&s.train, &s.val, &s.test}) {
    EXPECT_TRUE(std::is_sorted(v->begin(), v->end()));
    all.insert(all.end(), v->begin(), v->end());
  }
  std::sort(all.begin(), all.end());
  std::vector<size_t> expect(n);
  std::iota(expect.begin(), expect.end(), size_t{0});
  EXPECT_EQ(all, expect);
}

// ---------------------------------------------------------------------------------------------
// The seed's CK+ folds

void check_seed_folds(const std::vector<int>& labels) {
  const auto f1 = fer::data::ck_plus_seed_test_indices(labels, 1, kCkSizes);
  ASSERT_EQ(f1.size(), 99u);
  for (size_t t = 0; t < 12; ++t) EXPECT_EQ(f1[t], t);
  for (size_t t = 0; t < 18; ++t) EXPECT_EQ(f1[12 + t], 135 + t);
  EXPECT_EQ(f1[30], 312u);  // fear starts at 135 + 177
  EXPECT_EQ(f1.back(), 927u + 5);

  const auto f10 = fer::data::ck_plus_seed_test_indices(labels, 10, kCkSizes);
  ASSERT_EQ(f10.size(), 99u);
  for (size_t t = 0; t < 12; ++t) EXPECT_EQ(f10[t], 134 - t);  // class 0, from the end
  EXPECT_EQ(f10[12], 311u);
  EXPECT_EQ(f10.back(), 981u - 6);

  const auto f2 = fer::data::ck_plus_seed_test_indices(labels, 2, kCkSizes);
  EXPECT_EQ(f2[0], 12u);
  EXPECT_EQ(f2[12], 135u + 18);
  for (int fold = 1; fold <= 10; ++fold) {
    const auto f = fer::data::ck_plus_seed_test_indices(labels, fold, kCkSizes);
    EXPECT_EQ(f.size(), 99u) << "fold " << fold;
    EXPECT_EQ(std::set<size_t>(f.begin(), f.end()).size(), 99u) << "fold " << fold;
  }
  // The seed's quirk, reproduced: fold 9's fear block (312 + 72 .. +80) runs into happy (387).
  const auto f9 = fer::data::ck_plus_seed_test_indices(labels, 9, kCkSizes);
  EXPECT_EQ(f9[30], 312u + 72);  // first fear index of fold 9
  EXPECT_EQ(labels[f9[30 + 8]], 3);
}

TEST(SplitCkPlus, SeedFoldsOnClassOrderedLabels) { check_seed_folds(class_ordered(kCkCounts)); }

TEST(SplitCkPlus, SeedFoldsOnRealLabels) {
  FER_REQUIRE_SHARED(path, "ck_plus/CK_data.h5");
  check_seed_folds(fer::data::load_ck_plus_h5(path).labels());
}

TEST(SplitCkPlus, MakeSplitTrainIsTheComplement) {
  const std::vector<int> labels = class_ordered(kCkCounts);
  const Dataset ds = make_ds(labels, 7);
  SplitConfig cfg;
  cfg.scheme = "ck_plus_folds";
  cfg.fold = 10;
  cfg.select_on_test = true;
  const Split s = fer::data::make_split(ds, cfg, 1);
  EXPECT_EQ(s.selection, "test");
  EXPECT_EQ(s.scheme, "ck_plus_folds");
  EXPECT_EQ(s.test, fer::data::ck_plus_seed_test_indices(labels, 10, kCkSizes));  // seed order
  EXPECT_EQ(s.val, s.test);
  ASSERT_EQ(s.train.size(), 981u - 99);
  std::set<size_t> test(s.test.begin(), s.test.end());
  size_t k = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!test.count(i)) {
      EXPECT_EQ(s.train[k++], i);
    }
  }

  cfg.select_on_test = false;
  cfg.val_fraction = 0.1;
  const Split v = fer::data::make_split(ds, cfg, 1);
  EXPECT_EQ(v.selection, "val");
  EXPECT_EQ(v.test, s.test);
  EXPECT_NEAR(double(v.val.size()), 88.2, 7.0);
  std::vector<size_t> merged = v.train;
  merged.insert(merged.end(), v.val.begin(), v.val.end());
  std::sort(merged.begin(), merged.end());
  EXPECT_EQ(merged, s.train);
  EXPECT_TRUE(std::is_sorted(v.val.begin(), v.val.end()));
}

// Every group (Sample::subject) lies in one of train / val / test.
void expect_groups_on_one_side(const Dataset& ds, const Split& s) {
  std::map<std::string, std::set<int>> sides;
  int side = 0;
  for (const auto* v : {&s.train, &s.val, &s.test}) {
    for (size_t i : *v) sides[ds.samples[i].subject].insert(side);
    ++side;
  }
  for (const auto& [group, in] : sides)
    EXPECT_EQ(in.size(), 1u) << group << " is on " << in.size() << " sides";
}

TEST(SplitCkPlus, RealFileKeepsEachSequenceOnOneSide) {
  FER_REQUIRE_SHARED(path, "ck_plus/CK_data.h5");
  const Dataset ds = fer::data::load_ck_plus_h5(path);
  ASSERT_TRUE(fer::data::has_subjects(ds));
  SplitConfig cfg;
  cfg.scheme = "ck_plus_folds";
  cfg.val_fraction = 0.1;
  for (int fold : {1, 7, 9, 10}) {  // fold 9: the fear block runs into happy
    cfg.fold = fold;
    const Split s = fer::data::make_split(ds, cfg, 42);
    expect_groups_on_one_side(ds, s);
    EXPECT_EQ(s.test, fer::data::ck_plus_seed_test_indices(ds.labels(), fold, kCkSizes));
    EXPECT_EQ(s.val.size() % 3, 0u);
    EXPECT_NEAR(double(s.val.size()), 0.1 * double(s.train.size() + s.val.size()), 9.0);
    // Stratified by class: every class has a sequence in val.
    for (int c : counts_of(s.val, ds.labels(), 7)) EXPECT_GE(c, 3);
  }
  cfg.scheme = "stratified_kfold";
  cfg.folds = 5;
  cfg.fold = 2;
  expect_groups_on_one_side(ds, fer::data::make_split(ds, cfg, 42));
}

TEST(SplitCkPlus, Errors) {
  std::vector<int> labels = class_ordered(kCkCounts);
  std::swap(labels[10], labels[200]);
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::ck_plus_seed_test_indices(labels, 1, kCkSizes); }),
             "ordered by class");
  const std::vector<int> sorted = class_ordered(kCkCounts);
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::ck_plus_seed_test_indices(sorted, 11, kCkSizes); }),
             "split.fold must be in 1..10");
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               fer::data::ck_plus_seed_test_indices(sorted, 1, {12, 18});
             }),
             "split.ck_fold_sizes has 2 entries, but the labels have 7 classes");
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               fer::data::ck_plus_seed_test_indices(sorted, 1, {12, 18, 90, 21, 9, 24, 6});
             }),
             "split.ck_fold_sizes[2] = 90 exceeds the 75 samples of class 2");
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               fer::data::ck_plus_seed_test_indices(sorted, 5, {12, 18, 9, 21, 9, 24, 12});
             }),
             "fold 5 block");
}

// ---------------------------------------------------------------------------------------------
// Stratified k-fold

TEST(SplitKfold, DisjointCoveringBalancedDeterministic) {
  const std::vector<int> labels = {0, 1, 2, 0, 0, 1, 2, 2, 0, 1, 0, 2, 1, 1, 0, 0, 2,
                                   1, 0, 1, 2, 2, 0, 0, 1, 2, 0, 1, 1, 0, 2, 0, 1};
  const int k = 5;
  const auto folds = fer::data::stratified_kfold(labels, k, 7);
  ASSERT_EQ(folds.size(), size_t(k));
  std::vector<size_t> all;
  for (const auto& f : folds) all.insert(all.end(), f.begin(), f.end());
  std::sort(all.begin(), all.end());
  std::vector<size_t> expect(labels.size());
  std::iota(expect.begin(), expect.end(), size_t{0});
  EXPECT_EQ(all, expect);

  size_t min_size = labels.size(), max_size = 0;
  for (int c = 0; c < 3; ++c) {
    int lo = 1 << 30, hi = 0;
    for (const auto& f : folds) {
      const int n = counts_of(f, labels, 3)[size_t(c)];
      lo = std::min(lo, n);
      hi = std::max(hi, n);
    }
    EXPECT_LE(hi - lo, 1) << "class " << c;
  }
  for (const auto& f : folds) {
    min_size = std::min(min_size, f.size());
    max_size = std::max(max_size, f.size());
  }
  EXPECT_LE(max_size - min_size, 1u);

  EXPECT_EQ(fer::data::stratified_kfold(labels, k, 7), folds);
  EXPECT_NE(fer::data::stratified_kfold(labels, k, 8), folds);
}

TEST(SplitKfold, TooManyFolds) {
  const std::vector<int> labels = {0, 0, 0, 1, 1, 0};
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::stratified_kfold(labels, 3, 1); }),
             "split.folds = 3 exceeds the 2 samples of class 1");
  const Dataset ds = make_ds(labels, 2);
  SplitConfig cfg;
  cfg.scheme = "stratified_kfold";
  cfg.folds = 3;
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, cfg, 1); }),
             "split.folds = 3 exceeds the 2 samples of class \"c1\"");
}

TEST(SplitKfold, MakeSplitUsesTheFoldAndCarvesVal) {
  const std::vector<int> labels = class_ordered({40, 30, 20});
  const Dataset ds = make_ds(labels, 3);
  SplitConfig cfg;
  cfg.scheme = "stratified_kfold";
  cfg.folds = 5;
  cfg.fold = 3;
  cfg.val_fraction = 0.2;
  const Split s = fer::data::make_split(ds, cfg, 11);
  EXPECT_EQ(s.test, fer::data::stratified_kfold(labels, 5, 11)[2]);
  EXPECT_EQ(s.test.size(), 18u);
  EXPECT_EQ(s.val.size(), 14u);  // train 32/24/16 per class; 20% rounded: 6 + 5 + 3
  EXPECT_EQ(s.train.size(), 90u - 18 - 14);
  expect_partition(s, labels.size());
  cfg.fold = 6;
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, cfg, 11); }),
             "split.fold must be in 1..5");
}

// ---------------------------------------------------------------------------------------------
// Ratio and predefined splits

TEST(SplitRatio, SizesStratificationDeterminism) {
  const std::vector<int> counts = {100, 37, 61, 8};
  const std::vector<int> labels = class_ordered(counts);
  const Dataset ds = make_ds(labels, 4);
  SplitConfig cfg;  // ratio 0.7 / 0.15 / 0.15
  const Split s = fer::data::make_split(ds, cfg, 42);
  EXPECT_EQ(s.scheme, "ratio");
  EXPECT_EQ(s.selection, "val");
  expect_partition(s, labels.size());
  const std::vector<const std::vector<size_t>*> parts = {&s.train, &s.val, &s.test};
  for (size_t k = 0; k < 3; ++k) {
    const auto c = counts_of(*parts[k], labels, 4);
    for (size_t j = 0; j < 4; ++j) {
      EXPECT_LE(std::abs(c[j] - counts[j] * cfg.ratios[k]), 1.0) << "part " << k << " class " << j;
    }
  }
  const Split again = fer::data::make_split(ds, cfg, 42);
  EXPECT_EQ(again.train, s.train);
  EXPECT_EQ(again.test, s.test);
  EXPECT_NE(fer::data::make_split(ds, cfg, 43).test, s.test);

  cfg.stratified = false;
  const Split u = fer::data::make_split(ds, cfg, 42);
  expect_partition(u, labels.size());
  EXPECT_EQ(u.test.size(), 31u);  // round(206 * 0.85) = 175, 206 - 175
}

TEST(SplitRatio, EmptySplitsAndBadRatios) {
  const Dataset ds = make_ds(class_ordered({3, 3}), 2);
  SplitConfig cfg;
  cfg.ratios = {0.9, 0.05, 0.05};
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::make_split(ds, cfg, 1); }),
             "leave the val split empty (6 samples); use a larger val ratio");
  cfg.ratios = {0.5, 0.5};
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, cfg, 1); }),
             "split.ratios must have 3 entries");
  cfg.ratios = {0.5, 0.4, 0.4};
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, cfg, 1); }), "must sum to 1");
  // An unknown scheme cannot be represented (split.scheme is an enum); the word is refused with
  // the spellings it could have been.
  EXPECT_HAS(
      error_of<std::invalid_argument>([&] { cfg.scheme = "random"; }),
      "expected one of \"ratio\", \"predefined\", \"ck_plus_folds\", \"stratified_kfold\", got \"random\"");
}

TEST(SplitPredefined, ByUsageAndCarvedVal) {
  const std::vector<int> labels = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  const std::vector<std::string> usages = {
      "Training", "Training", "Training", "Training",   "Training",   "Training",    "Training",
      "Training", "Training", "Training", "PublicTest", "PublicTest", "PrivateTest", "PrivateTest"};
  const Dataset ds = make_ds(labels, 2, usages);
  SplitConfig cfg;
  cfg.scheme = "predefined";
  const Split s = fer::data::make_split(ds, cfg, 3);
  EXPECT_EQ(s.train, (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(s.val, (std::vector<size_t>{10, 11}));
  EXPECT_EQ(s.test, (std::vector<size_t>{12, 13}));

  cfg.val = "";
  cfg.val_fraction = 0.2;
  const Split c = fer::data::make_split(ds, cfg, 3);
  EXPECT_EQ(c.val.size(), 2u);
  EXPECT_EQ(counts_of(c.val, labels, 2), (std::vector<int>{1, 1}));
  EXPECT_EQ(c.train.size(), 8u);
  EXPECT_EQ(c.test, s.test);

  cfg.val = "Validation";
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, cfg, 3); }),
             "split.val: no sample has usage \"Validation\" in mem; usages present: Training, "
             "PublicTest, PrivateTest");

  const Dataset plain = make_ds(labels, 2);
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(plain, cfg, 3); }),
             "needs per-sample usage names, but mem");
}

TEST(SplitRatio, SequencesAreWholeUnlessFileOrderIsAsked) {
  // Sequence groups (the CK+ h5's frame triplets): a random ratio split keeps each whole; an
  // explicit file order cuts per-class blocks instead (subjects refuse it, see SplitSubjects).
  Dataset ds = make_ds(class_ordered({30, 30}), 2);
  for (size_t i = 0; i < ds.samples.size(); ++i) ds.samples[i].subject = "seq" + std::to_string(i / 3);
  ds.group_unit = "sequence";
  SplitConfig cfg;
  const Split r = fer::data::make_split(ds, cfg, 4);
  expect_partition(r, 60);
  expect_groups_on_one_side(ds, r);
  cfg.order = "file";
  const Split f = fer::data::make_split(ds, cfg, 4);
  expect_partition(f, 60);
  EXPECT_EQ(f.test, (std::vector<size_t>{26, 27, 28, 29, 56, 57, 58, 59}));  // each class's last block
  ds.group_unit = "subject";
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, cfg, 4); }),
             "have subjects (data.subject_pattern)");
}

TEST(SplitJson, IdsPerSplit) {
  const Dataset ds = make_ds(class_ordered({10, 10}), 2);
  const Split s = fer::data::make_split(ds, SplitConfig{}, 5);
  const nlohmann::json j = fer::data::split_to_json(s, ds);
  EXPECT_EQ(j["scheme"], "ratio");
  EXPECT_EQ(j["selection"], "val");
  ASSERT_EQ(j["test"].size(), s.test.size());
  EXPECT_EQ(j["test"][0], "idx:" + std::to_string(s.test[0]));
  EXPECT_EQ(j["train"].size() + j["val"].size() + j["test"].size(), 20u);
}

TEST(SplitRatio, NaturalOrder) {
  using fer::data::natural_less;
  EXPECT_TRUE(natural_less("2.jpg", "10.jpg"));
  EXPECT_FALSE(natural_less("10.jpg", "2.jpg"));
  EXPECT_TRUE(natural_less("a/9", "b/1"));
  EXPECT_TRUE(natural_less("frame_2_b", "frame_10_a"));
  EXPECT_TRUE(natural_less("x1", "x01"));  // equal value: fewer leading zeros first
  EXPECT_FALSE(natural_less("x01", "x1"));
  EXPECT_TRUE(natural_less("abc", "abcd"));
  EXPECT_FALSE(natural_less("same7", "same7"));
}

TEST(SplitRatio, FileOrderCutsEachClassIntoContiguousBlocks) {
  // Two classes of 20 "frames" each, listed in lexicographic order (0, 1, 10, 11, ..., 19, 2, ...)
  // as a directory listing gives them: the split must follow the frame numbers instead.
  Dataset ds;
  ds.source = "frames";
  ds.class_names = {"a", "b"};
  for (int c = 0; c < 2; ++c) {
    std::vector<std::string> names;
    for (int f = 0; f < 20; ++f) names.push_back(std::to_string(f));
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      fer::data::Sample smp;
      smp.id = ds.class_names[c] + "/" + n + ".jpg";
      smp.label = c;
      ds.samples.push_back(smp);
    }
  }
  SplitConfig cfg;
  cfg.order = "file";
  const Split s = fer::data::make_split(ds, cfg, 1);
  const auto frame = [&](size_t i) {
    const auto& id = ds.samples[i].id;
    return std::stoi(id.substr(2, id.find('.') - 2));
  };
  for (const auto* part : {&s.train, &s.val, &s.test}) EXPECT_EQ(part->size(), part == &s.train ? 28u : 6u);
  for (int c = 0; c < 2; ++c) {
    std::set<int> train, val, test;
    for (size_t i : s.train) if (ds.samples[i].label == c) train.insert(frame(i));
    for (size_t i : s.val) if (ds.samples[i].label == c) val.insert(frame(i));
    for (size_t i : s.test) if (ds.samples[i].label == c) test.insert(frame(i));
    EXPECT_EQ(train, (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
    EXPECT_EQ(val, (std::set<int>{14, 15, 16}));
    EXPECT_EQ(test, (std::set<int>{17, 18, 19}));
  }
  // The seed does not matter in file order; a random split of the same data differs.
  const Split other_seed = fer::data::make_split(ds, cfg, 99);
  EXPECT_EQ(other_seed.test, s.test);
  cfg.order = "random";
  EXPECT_NE(fer::data::make_split(ds, cfg, 1).test, s.test);
  // Subjects and file order do not mix.
  for (auto& smp : ds.samples) smp.subject = "s" + std::to_string(smp.label);
  cfg.order = "file";
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, cfg, 1); }), "split.order \"file\"");
}

// ---------------------------------------------------------------------------------------------
// Subjects: presets, subject-grouped stratified k-fold, kfold_test_folds

// `subjects` subjects "S000".."S<n>", subject s with 2 + (s * 7) % 9 samples whose labels cycle
// over the classes from an offset, so subjects differ in size and class mix.
Dataset make_subject_ds(size_t subjects, size_t classes) {
  Dataset ds;
  ds.source = "subj";
  for (size_t c = 0; c < classes; ++c) ds.class_names.push_back("c" + std::to_string(c));
  for (size_t s = 0; s < subjects; ++s) {
    const size_t n = 2 + (s * 7) % 9;
    for (size_t j = 0; j < n; ++j) {
      fer::data::Sample smp;
      smp.label = static_cast<int>((s + j * (1 + s % 2)) % classes);
      smp.subject = fmt::format("S{:03}", s);
      smp.id = fmt::format("c{}/{}_{:03}.png", smp.label, smp.subject, j);
      ds.samples.push_back(smp);
    }
  }
  return ds;
}

std::set<std::string> subjects_of(const Dataset& ds, const std::vector<size_t>& idx) {
  std::set<std::string> out;
  for (size_t i : idx) out.insert(ds.samples[i].subject);
  return out;
}

bool disjoint(const std::set<std::string>& a, const std::set<std::string>& b) {
  for (const auto& x : a) {
    if (b.count(x)) return false;
  }
  return true;
}

SplitConfig kfold_cfg(int folds, int fold = 1) {
  SplitConfig cfg;
  cfg.scheme = "stratified_kfold";
  cfg.folds = folds;
  cfg.fold = fold;
  cfg.val_fraction = 0.2;
  return cfg;
}

TEST(SplitGroupedKfold, FoldsPartitionSamplesAndSubjectsWithBalancedClasses) {
  const Dataset ds = make_subject_ds(40, 3);
  const std::vector<int> labels = ds.labels();
  ASSERT_TRUE(fer::data::has_subjects(ds));
  const int k = 5;
  const auto folds = fer::data::kfold_test_folds(ds, kfold_cfg(k), 17);
  ASSERT_EQ(folds.size(), size_t(k));

  // Every sample in exactly one fold.
  std::vector<size_t> all;
  for (const auto& f : folds) {
    EXPECT_FALSE(f.empty());
    EXPECT_TRUE(std::is_sorted(f.begin(), f.end()));
    all.insert(all.end(), f.begin(), f.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<size_t> expect(ds.samples.size());
  std::iota(expect.begin(), expect.end(), size_t{0});
  EXPECT_EQ(all, expect);

  // Every subject in exactly one fold.
  std::map<std::string, int> fold_of;
  for (int f = 0; f < k; ++f) {
    for (size_t i : folds[size_t(f)]) {
      const auto [it, fresh] = fold_of.emplace(ds.samples[i].subject, f);
      EXPECT_TRUE(fresh || it->second == f) << ds.samples[i].subject << " in folds " << it->second + 1 << " and "
                                            << f + 1;
    }
  }
  EXPECT_EQ(fold_of.size(), 40u);

  // Each fold holds 1/k of every class to within two samples (subjects hold 2..10 samples).
  const auto totals = counts_of(all, labels, 3);
  for (int f = 0; f < k; ++f) {
    const auto c = counts_of(folds[size_t(f)], labels, 3);
    for (size_t j = 0; j < 3; ++j) {
      EXPECT_NEAR(c[j], totals[j] / double(k), 2.0) << "fold " << f + 1 << " class " << j;
    }
  }

  EXPECT_EQ(fer::data::kfold_test_folds(ds, kfold_cfg(k), 17), folds);
  EXPECT_NE(fer::data::kfold_test_folds(ds, kfold_cfg(k), 18), folds);
}

TEST(SplitGroupedKfold, MakeSplitKeepsSubjectsOnOneSide) {
  const Dataset ds = make_subject_ds(30, 3);
  const int k = 4;
  const auto folds = fer::data::kfold_test_folds(ds, kfold_cfg(k), 5);
  for (int f = 1; f <= k; ++f) {
    const Split s = fer::data::make_split(ds, kfold_cfg(k, f), 5);
    EXPECT_EQ(s.test, folds[size_t(f - 1)]) << "fold " << f;
    expect_partition(s, ds.samples.size());
    EXPECT_FALSE(s.val.empty());
    const auto tr = subjects_of(ds, s.train), va = subjects_of(ds, s.val), te = subjects_of(ds, s.test);
    EXPECT_TRUE(disjoint(tr, va)) << "fold " << f;
    EXPECT_TRUE(disjoint(tr, te)) << "fold " << f;
    EXPECT_TRUE(disjoint(va, te)) << "fold " << f;
    // val is about val_fraction of the training part.
    const double train_part = double(s.train.size() + s.val.size());
    EXPECT_NEAR(s.val.size() / train_part, 0.2, 0.1) << "fold " << f;
  }
}

TEST(SplitGroupedKfold, SubsetSubjectPartition) {
  const Dataset ds = make_subject_ds(20, 2);
  std::vector<size_t> subset;
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    if (ds.samples[i].subject < "S010") subset.push_back(i);
  }
  const auto parts = fer::data::subject_partition(ds, {0.5, 0.5}, 3, true, &subset);
  std::vector<size_t> merged = parts[0];
  merged.insert(merged.end(), parts[1].begin(), parts[1].end());
  std::sort(merged.begin(), merged.end());
  EXPECT_EQ(merged, subset);
  EXPECT_TRUE(disjoint(subjects_of(ds, parts[0]), subjects_of(ds, parts[1])));
  EXPECT_EQ(subjects_of(ds, parts[0]).size() + subjects_of(ds, parts[1]).size(), 10u);
  // Without a subset the partition is over all samples, as before.
  const auto whole = fer::data::subject_partition(ds, {0.5, 0.5}, 3);
  EXPECT_EQ(whole[0].size() + whole[1].size(), ds.samples.size());
}

TEST(SplitGroupedKfold, Errors) {
  const Dataset ds = make_subject_ds(4, 2);
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::kfold_test_folds(ds, kfold_cfg(5), 1); }),
             "split.folds = 5 exceeds the 4 subjects of subj (data.subject_pattern)");
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, kfold_cfg(5, 2), 1); }),
             "split.folds = 5 exceeds the 4 subjects");
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, kfold_cfg(3, 4), 1); }),
             "split.fold must be in 1..3, got 4");
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::make_split(ds, kfold_cfg(3, 0), 1); }),
             "split.fold must be in 1..3, got 0");
  // Without subjects the smallest class bounds the folds.
  const Dataset plain = make_ds(class_ordered({10, 3}), 2);
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::kfold_test_folds(plain, kfold_cfg(4), 1); }),
             "split.folds = 4 exceeds the 3 samples of class \"c1\"");
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::kfold_test_folds(plain, kfold_cfg(1), 1); }),
             "split.folds must be >= 2, got 1");
  SplitConfig ratio;
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::kfold_test_folds(plain, ratio, 1); }),
             "split.scheme \"ratio\" has no folds");
}

TEST(SplitKfoldTestFolds, StratifiedMatchesMakeSplit) {
  const std::vector<int> labels = class_ordered({40, 30, 20});
  const Dataset ds = make_ds(labels, 3);
  EXPECT_FALSE(fer::data::has_subjects(ds));
  const auto folds = fer::data::kfold_test_folds(ds, kfold_cfg(5), 11);
  EXPECT_EQ(folds, fer::data::stratified_kfold(labels, 5, 11));
  for (int f = 1; f <= 5; ++f) {
    EXPECT_EQ(fer::data::make_split(ds, kfold_cfg(5, f), 11).test, folds[size_t(f - 1)]) << "fold " << f;
  }
}

TEST(SplitKfoldTestFolds, CkPlusMatchesMakeSplit) {
  const std::vector<int> labels = class_ordered(kCkCounts);
  const Dataset ds = make_ds(labels, 7);
  SplitConfig cfg;
  cfg.scheme = "ck_plus_folds";
  cfg.select_on_test = true;
  const auto folds = fer::data::kfold_test_folds(ds, cfg, 1);
  ASSERT_EQ(folds.size(), 10u);
  for (int f = 1; f <= 10; ++f) {
    cfg.fold = f;
    EXPECT_EQ(folds[size_t(f - 1)], fer::data::ck_plus_seed_test_indices(labels, f, kCkSizes));
    EXPECT_EQ(fer::data::make_split(ds, cfg, 1).test, folds[size_t(f - 1)]) << "fold " << f;
  }
  cfg.folds = 5;
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::kfold_test_folds(ds, cfg, 1); }),
             "split.folds = 5: ck_plus_folds is the seed's 10-fold protocol");
}

Dataset files_ds(const std::vector<std::string>& paths) {
  Dataset ds;
  ds.format = "image_folder";
  ds.source = "files";
  ds.class_names = {"a"};
  for (const auto& p : paths) {
    fer::data::Sample s;
    s.id = p;
    s.label = 0;
    s.path = "/data/a/" + p;
    ds.samples.push_back(s);
  }
  return ds;
}

TEST(SubjectPattern, Presets) {
  EXPECT_EQ(fer::config::subject_pattern_presets(), (std::vector<std::string>{"ck_plus", "jaffe"}));
  EXPECT_EQ(fer::config::subject_regex("(x)"), "(x)");

  Dataset ck = files_ds({"S010_004_00000017.png", "S132_006_00000023.png"});
  fer::data::assign_subjects(ck, "ck_plus");
  EXPECT_EQ(ck.samples[0].subject, "S010");
  EXPECT_EQ(ck.samples[1].subject, "S132");

  Dataset jaffe = files_ds({"KA.AN1.39.tiff", "YM.NE3.51.tiff", "NA.SU1.79.tiff"});
  fer::data::assign_subjects(jaffe, "jaffe");
  EXPECT_EQ(jaffe.samples[0].subject, "KA");
  EXPECT_EQ(jaffe.samples[1].subject, "YM");
  EXPECT_EQ(jaffe.samples[2].subject, "NA");

  // Paired samples: the first modality's file name.
  Dataset paired = files_ds({"x.png"});
  paired.samples[0].modality_paths = {"/d/visible/a/S005_001_00000003.png", "/d/infrared/a/ir_0003.png"};
  fer::data::assign_subjects(paired, "ck_plus");
  EXPECT_EQ(paired.samples[0].subject, "S005");
}

TEST(SubjectPattern, Errors) {
  Dataset jaffe = files_ds({"KA.AN1.39.tiff"});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::assign_subjects(jaffe, "ck_plus"); }),
             "data.subject_pattern \"ck_plus\" matches no file name");
  Dataset mixed = files_ds({"S010_004_00000017.png", "face.png"});
  EXPECT_HAS(error_of<fer::DataError>([&] { fer::data::assign_subjects(mixed, "ck_plus"); }),
             "does not match 1 of 2 file names");
  Dataset h5 = make_ds({0, 1}, 2);
  h5.format = "ck_plus_h5";
  EXPECT_HAS(error_of<fer::ConfigError>([&] { fer::data::assign_subjects(h5, "ck_plus"); }),
             "format \"ck_plus_h5\" (mem) has no file names");
}

TEST(SubjectPattern, LoadConfiguredAppliesItToImageFolders) {
  fer::test::TempDir dir;
  for (const char* cls : {"happy", "sad"}) {
    std::filesystem::create_directories(dir.path() / cls);
    for (const char* subj : {"S010", "S011", "S012"}) {
      std::ofstream(dir.path() / cls / fmt::format("{}_001_0000000{}.png", subj, cls[0] == 'h' ? 1 : 2)) << "x";
    }
  }
  fer::config::DataConfig cfg;
  cfg.path = dir.str();
  cfg.subject_pattern = "ck_plus";
  const Dataset ds = fer::data::load_configured(cfg);
  ASSERT_EQ(ds.samples.size(), 6u);
  EXPECT_TRUE(fer::data::has_subjects(ds));
  EXPECT_EQ(ds.samples[0].subject, "S010");
  EXPECT_EQ(subjects_of(ds, {0, 1, 2, 3, 4, 5}).size(), 3u);
  const Split s = fer::data::make_split(ds, kfold_cfg(3, 2), 9);
  EXPECT_EQ(subjects_of(ds, s.test).size(), 1u);
  EXPECT_EQ(s.test.size(), 2u);
}

}  // namespace
