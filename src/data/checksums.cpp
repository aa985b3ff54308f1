#include "fer/data/checksums.hpp"

#include <algorithm>
#include <filesystem>

#include "fer/core/parallel.hpp"
#include "fer/core/sha256.hpp"

namespace fer::data {
namespace fs = std::filesystem;

std::vector<std::string> dataset_files(const Dataset& ds) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!ds.source.empty() && fs::is_regular_file(ds.source, ec)) files.push_back(ds.source);
  // Mirrors adopt_alignment: an aligned folder says how its faces were cropped.
  if (ds.format == "image_folder" && !ds.source.empty()) {
    const fs::path align = fs::path(ds.source) / "fer_align.json";
    if (fs::is_regular_file(align, ec)) files.push_back(align.string());
  }
  for (const Sample& s : ds.samples) {
    if (!s.path.empty()) files.push_back(s.path);
    files.insert(files.end(), s.modality_paths.begin(), s.modality_paths.end());
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

std::vector<FileChecksum> checksum_files(const std::vector<std::string>& files, int threads) {
  std::vector<FileChecksum> out(files.size());
  // The error of the first failing file in the list, whatever the thread count.
  parallel_for(files.size(), threads, [&](size_t i, int) {
    out[i].path = files[i];
    out[i].sha256 = sha256_file(files[i], &out[i].bytes);
  });
  return out;
}

std::string checksums_text(const std::vector<FileChecksum>& sums) {
  std::string out;
  for (const auto& s : sums) {
    // sha256sum escapes \ and line breaks in a name and marks the line with a leading backslash.
    const bool escape = s.path.find_first_of("\\\n\r") != std::string::npos;
    std::string name;
    for (char c : s.path) {
      if (c == '\\' && escape)
        name += "\\\\";
      else if (c == '\n')
        name += "\\n";
      else if (c == '\r')
        name += "\\r";
      else
        name += c;
    }
    out += (escape ? "\\" : "") + s.sha256 + "  " + name + "\n";
  }
  return out;
}

std::string combined_digest(const std::vector<FileChecksum>& sums) {
  return sha256_hex(checksums_text(sums));
}

}  // namespace fer::data
