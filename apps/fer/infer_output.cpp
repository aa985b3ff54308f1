#include "infer_output.hpp"

#include <filesystem>
#include <iostream>

#include "fer/core/error.hpp"

namespace fer::app {

std::ostream* OutputFile::open(const std::string& path) {
  if (path.empty() || path == "-") return &std::cout;
  tmp_ = path + ".partial";
  final_ = path;
  file_.open(tmp_);
  FER_CHECK(file_.good(), IoError, "{}: cannot open for writing", path);
  return &file_;
}

void OutputFile::close() {
  if (!file_.is_open()) return;
  file_.close();
  FER_CHECK(!file_.fail(), IoError, "{}: write failed", tmp_);
  std::filesystem::rename(tmp_, final_);
}

}  // namespace fer::app
