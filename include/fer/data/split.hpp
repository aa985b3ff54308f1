#pragma once
// Train / val / test splits. Every scheme is deterministic for a seed.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/data/dataset.hpp"

namespace fer::data {

/// Sample indices of each split, plus which split chooses the checkpoint.
struct Split {
  std::vector<size_t> train, val, test;
  std::string scheme;                   ///< the config's split scheme
  std::string selection = "val";        ///< "val", or "test" under the seed protocol
};

/// Builds the split the config asks for. With a subject on every sample (data.subject_pattern),
/// "ratio" puts whole subjects in train / val / test (subject_partition) and "stratified_kfold"
/// uses subject-grouped folds and carves val by whole subjects, so no subject is on two sides;
/// without subjects the splits are per sample. k-fold schemes test on kfold_test_folds()[fold - 1].
/// Throws ConfigError/DataError on impossible requests (empty split, fold out of range, more
/// folds than samples of a class or than subjects, unknown usage name, ...).
Split make_split(const Dataset& ds, const config::SplitConfig& cfg, uint64_t seed);

/// All test folds of a k-fold scheme, fold 1 first (for `fer kfold`): "stratified_kfold" gives
/// cfg.folds disjoint folds covering every sample once, subject-grouped (every subject in one
/// fold, classes balanced greedily) when has_subjects(ds), else stratified_kfold; "ck_plus_folds"
/// gives the seed's 10 class-ordered folds (ck_plus_seed_test_indices, seed order). ConfigError
/// for other schemes, folds < 2, folds above the smallest class (per sample) or the subject count.
std::vector<std::vector<size_t>> kfold_test_folds(const Dataset& ds, const config::SplitConfig& cfg, uint64_t seed);

/// Classes a split part lacks: one message per (part, class) with no sample there, naming the
/// class and its counts in train / val / test ("class \"contempt\" has no sample in val (train
/// 14, val 0, test 4)"). Throws DataError when the training part lacks a class (the model could
/// not learn it) or a class has no sample in any part that is not empty.
std::vector<std::string> missing_class_messages(const Split& split, const Dataset& ds);

/// Makes the split of every fold 1..cfg.folds (make_split with that fold), so a k-fold that
/// cannot run is refused before any fold starts; throws what make_split throws, prefixed with
/// the fold when the first fold splits and a later one does not.
void check_folds(const Dataset& ds, const config::SplitConfig& cfg, uint64_t seed);

/// True when every sample has a subject (data.subject_pattern): splits are then subject-grouped.
bool has_subjects(const Dataset& ds);

/// The seed code's CK+ fold: test indices of fold `fold` (1..10) over class-ordered labels,
/// per class the fold-th block of fold_sizes[c] (fold 10 takes the last ones, in reverse),
/// in the seed's order. Throws DataError if labels are not sorted by class.
std::vector<size_t> ck_plus_seed_test_indices(const std::vector<int>& labels, int fold,
                                              const std::vector<int>& fold_sizes);

/// Stratified k-fold: returns k disjoint test folds covering every index once; per class the
/// fold sizes differ by at most one. Throws ConfigError when k exceeds the smallest class.
std::vector<std::vector<size_t>> stratified_kfold(const std::vector<int>& labels, int k,
                                                  uint64_t seed);

/// Stratified random partition of `indices` by `fractions` (sum 1). With `rank` (one value per
/// sample index) each class is cut in increasing rank order instead of a seeded shuffle:
/// contiguous blocks, the first fractions[0] to part 0 and so on.
std::vector<std::vector<size_t>> stratified_partition(const std::vector<size_t>& indices,
                                                      const std::vector<int>& labels,
                                                      const std::vector<double>& fractions,
                                                      uint64_t seed, bool stratified = true,
                                                      const std::vector<size_t>* rank = nullptr);

/// Rank of each sample's id in natural order ("frame2" before "frame10"): digit runs compare
/// by value, the rest byte by byte.
std::vector<size_t> natural_order_rank(const Dataset& ds);

/// Natural ("human") string order: digit runs compare as numbers.
bool natural_less(const std::string& a, const std::string& b);

/// Partition of the samples of `ds` (all, or the indices in `subset`; each must have a subject)
/// into fractions.size() parts by whole subjects: subjects in a seeded order, largest first, each
/// to the part whose per-class deficit it fills best (per-class only when `stratified`), every
/// part with a positive fraction getting at least one subject while there are enough. Parts
/// sorted; deterministic.
std::vector<std::vector<size_t>> subject_partition(const Dataset& ds, const std::vector<double>& fractions,
                                                   uint64_t seed, bool stratified = true,
                                                   const std::vector<size_t>* subset = nullptr);

/// {"scheme":..., "selection":..., "train":[ids], "val":[ids], "test":[ids]}.
nlohmann::json split_to_json(const Split& split, const Dataset& ds);

}  // namespace fer::data
