#pragma once
// From a config to ready data: load + remap classes, rebuild a saved split, resolve the
// dataset normalisation statistics (no torch).
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/data/dataset.hpp"
#include "fer/data/split.hpp"

namespace fer::data {

/// When data.path is an image folder written by `fer align` (it holds fer_align.json), sets
/// cfg.face from that file, so the checkpoint records how the training faces were aligned and
/// `fer infer` aligns faces in photos the same way. Returns the file used, or "" when none.
std::string adopt_alignment(config::Config& cfg);

/// Loads data.path with data.format, sets each sample's subject from data.subject_pattern (a
/// preset or a regex on the file name, every format with file names; ConfigError for formats
/// without, DataError when file names do not match), then applies data.label_map and data.classes.
Dataset load_configured(const config::DataConfig& cfg);

/// Rebuilds a split saved by split_to_json from sample ids. Ids that the dataset does not
/// have (the data changed since the run) are a DataError naming `origin` and the first id.
Split split_from_json(const nlohmann::json& j, const Dataset& ds, const std::string& origin);

/// Fills pre.mean / pre.std from the `indices` samples when pre.normalize is "dataset" and
/// they are empty (at most `max_samples`, evenly spaced, so large datasets stay fast).
void resolve_normalization(config::PreprocessConfig& pre, const config::AugmentConfig& aug, const Dataset& ds,
                           const std::vector<size_t>& indices, size_t max_samples = 20000);

}  // namespace fer::data
