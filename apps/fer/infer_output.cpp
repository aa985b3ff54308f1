#include "infer_output.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "fer/core/error.hpp"

namespace fer::app {

std::ostream* OutputFile::open(const std::string& path) {
  if (path.empty() || path == "-") return &std::cout;
  const OutputTarget target = output_target(path);  // symlinks followed; devices and pipes direct
  final_ = target.path;
  tmp_ = target.direct ? target.path : target.path + ".partial";
  file_.open(tmp_);
  FER_CHECK(file_.good(), IoError, "{}: cannot open for writing: {}", path, std::strerror(errno));
  return &file_;
}

void OutputFile::close() {
  if (!file_.is_open()) return;
  file_.close();
  FER_CHECK(!file_.fail(), IoError, "{}: write failed: {}", final_, write_failure_reason(final_, errno));
  if (tmp_ == final_) return;  // written through (a device or a pipe)
  std::error_code ec;
  std::filesystem::rename(tmp_, final_, ec);
  FER_CHECK(!ec, IoError, "{}: cannot replace: {}", final_, ec.message());
}

void ResultSink::finish() {
  json_file_.close();
  csv_file_.close();
  std::cout.flush();
}

std::ostream& ResultSink::open_csv_file(const std::string& path) {
  csv_ = csv_file_.open(path);
  return *csv_;
}

nlohmann::ordered_json ResultSink::probs_json(const std::vector<float>& probs) const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (size_t c = 0; c < classes_.size(); ++c) j[classes_[c]] = probs[c];
  return j;
}

}  // namespace fer::app
