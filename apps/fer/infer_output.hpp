#pragma once
// Result files of fer infer (JSON lines, CSV): stdout, or a file written as "<name>.partial"
// and renamed when complete, so an interrupted run never leaves a half file under the real name.
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

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

/// What fer infer's result writers (faces; paired samples) share: the class names, the JSON-lines
/// and CSV outputs and the stdout table switch. Subclasses write the rows.
class ResultSink {
 public:
  explicit ResultSink(std::vector<std::string> classes) : classes_(std::move(classes)) {}
  void open_json(const std::string& path) { json_ = json_file_.open(path); }
  void table_on() { table_ = true; }
  /// Closes the files (each renamed to its real name) and flushes stdout.
  void finish();

 protected:
  /// Opens the CSV output; the subclass writes its header.
  std::ostream& open_csv_file(const std::string& path);
  /// {class: probability}, in class order.
  nlohmann::ordered_json probs_json(const std::vector<float>& probs) const;

  std::vector<std::string> classes_;
  bool table_ = false;
  bool header_done_ = false;  ///< the table's header is printed
  std::ostream* json_ = nullptr;
  std::ostream* csv_ = nullptr;

 private:
  OutputFile json_file_, csv_file_;
};

}  // namespace fer::app
