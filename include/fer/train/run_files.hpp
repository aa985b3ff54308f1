#pragma once
// The files of a run directory that other layers look up (no torch in this header).
#include <string>

namespace fer::train {

/// A run directory (-> its best.pt or last.pt, as `which` says) or a checkpoint file's path.
/// Throws IoError when the path or the checkpoint is missing, UsageError for another `which`.
std::string resolve_checkpoint(const std::string& run_or_file, const std::string& which = "best");

}  // namespace fer::train
