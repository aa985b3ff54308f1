#pragma once
// The in-memory description of a dataset: class names and samples. Images are either held
// (HDF5 / CSV datasets are small) or decoded on demand from a path (image folders).
#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fer::data {

/// One labelled face image.
struct Sample {
  std::string id;       ///< stable, unique within the dataset ("row:812", "class/file.png")
  int label = -1;       ///< index into Dataset::class_names
  std::string subject;  ///< grouping id (Dataset::group_unit) when known, else empty
  std::string path;     ///< file to decode when `image` is empty
  cv::Mat image;        ///< 8-bit gray or BGR image, or empty (then decoded from `path`)
  std::string usage;    ///< the dataset's own split name ("Training", "PublicTest", ...) or empty
  /// Paired (multi-modal) samples: one file per modality, stacked along the channel axis in
  /// this order by load_image; empty for ordinary datasets (then `path` / `image` is used).
  std::vector<std::string> modality_paths;
  std::vector<int> modality_channels;  ///< channels of each modality (1 gray/thermal, 3 BGR)
};

/// A loaded dataset. Samples keep the order of the source (file order, sorted directory listing).
struct Dataset {
  std::string format;                    ///< loader name, e.g. "fer2013_csv"
  std::string source;                    ///< the path it was loaded from
  std::vector<std::string> class_names;  ///< label id -> name
  std::vector<Sample> samples;
  /// What Sample::subject identifies: "subject" (a person, from data.subject_pattern) or
  /// "sequence" (the frames of one recorded sequence, e.g. the CK+ h5's frame triplets). Splits
  /// keep every group on one side either way; the word is for messages.
  std::string group_unit = "subject";

  /// Number of samples with each label (size == class_names.size()).
  std::vector<int64_t> class_counts() const;
  /// Labels of all samples, in sample order.
  std::vector<int> labels() const;
};

/// Returns the sample's image as 8-bit with `channels` (1 or 3) channels, decoding `path` if
/// needed. Throws IoError naming the file when it cannot be read or decoded.
/// Paired samples (modality_paths non-empty): each file is decoded and converted to its
/// modality_channels count (1 = gray, 3 = BGR, the same order as single images; to_chw turns
/// each 3-channel group into RGB), resized to the first modality's size when they differ and
/// merged into one Mat with sum(modality_channels) channels, which must equal `channels`
/// (DataError naming the sample otherwise).
cv::Mat load_image(const Sample& sample, int channels);

}  // namespace fer::data
