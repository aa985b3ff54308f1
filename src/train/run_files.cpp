#include "fer/train/run_files.hpp"

#include <filesystem>

#include "fer/core/error.hpp"

namespace fer::train {
namespace fs = std::filesystem;

std::string resolve_checkpoint(const std::string& run_or_file, const std::string& which) {
  FER_CHECK(fs::exists(run_or_file), IoError, "{}: no such run directory or checkpoint", run_or_file);
  if (fs::is_directory(run_or_file)) {
    FER_CHECK(which == "best" || which == "last", UsageError,
              "--checkpoint: expected best, last or a path, got {}", which);
    const fs::path p = fs::path(run_or_file) / (which + ".pt");
    FER_CHECK(fs::exists(p), IoError,
              "{}: no {} (is this a run directory of fer train, and has an epoch finished?)", run_or_file,
              p.filename().string());
    return p.string();
  }
  return run_or_file;
}

}  // namespace fer::train
