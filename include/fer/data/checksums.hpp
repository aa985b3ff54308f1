#pragma once
// Checksums of the files a dataset was read from, so a run records exactly which data it saw
// (`sha256sum -c <run>/dataset.sha256` verifies them later).
#include <cstdint>
#include <string>
#include <vector>

#include "fer/data/dataset.hpp"

namespace fer::data {

/// Every file `ds` was read from, sorted and without duplicates: `source` when it is a regular
/// file (CSV, HDF5), each sample's `path` and `modality_paths`, and the fer_align.json of an
/// aligned image_folder (adopt_alignment reads it). Paths are spelled as the loader spelled them.
std::vector<std::string> dataset_files(const Dataset& ds);

/// One file's checksum.
struct FileChecksum {
  std::string path;
  uint64_t bytes = 0;
  std::string sha256;  ///< 64 lowercase hex digits
};

/// SHA-256 of each file, hashed by `threads` threads (0 = one per hardware thread); results in
/// the order of `files`. Throws IoError naming the first unreadable file (in input order).
std::vector<FileChecksum> checksum_files(const std::vector<std::string>& files, int threads);

/// The `sha256sum` format, "<hex>  <path>\n" per file (a path holding a backslash or line break
/// is escaped the way sha256sum does it), so `sha256sum -c` can verify the files.
std::string checksums_text(const std::vector<FileChecksum>& sums);

/// One digest for the whole set: SHA-256 of checksums_text(sums).
std::string combined_digest(const std::vector<FileChecksum>& sums);

}  // namespace fer::data
