#pragma once
// Result files of fer infer (JSON lines, CSV): stdout, or a file written as "<name>.partial"
// and renamed when complete, so an interrupted run never leaves a half file under the real name.
#include <fstream>
#include <ostream>
#include <string>

#include "fer/core/io.hpp"

namespace fer::app {

using fer::csv_field;  // fer/core/io.hpp

/// One output of fer infer.
class OutputFile {
 public:
  /// "" or "-" = stdout; else "<path>.partial" is opened (IoError when it cannot be).
  std::ostream* open(const std::string& path);
  /// Closes a file and renames it to its real name (IoError when writing failed); no-op for stdout.
  void close();

 private:
  std::ofstream file_;
  std::string tmp_, final_;
};

}  // namespace fer::app
