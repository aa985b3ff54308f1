#pragma once
// Where inference results go (fer infer): a table on stdout, JSON lines, CSV. A file is written
// as "<name>.partial" and renamed when complete, so an interrupted run never leaves a half file
// under the real name; "" or "-" is stdout. No torch here.
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "fer/core/io.hpp"
#include "fer/infer/analyzer.hpp"

namespace fer::infer {

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
  const std::vector<std::string>& classes() const { return classes_; }
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

/// One row per face (fer infer on photos, videos, cameras). JSON lines: source, frame and time
/// (videos), face, id (tracks), box, confidence, aligned, class, prob, probs, raw_probs (when
/// smoothed), geometry, crop, landmarks. CSV: the same columns flattened, one p_<class> each.
class FaceWriter : public ResultSink {
 public:
  /// `geometry`: add the landmark-ratio scores; `smoothed`: the probabilities are smoothed over
  /// time, so the raw ones are written too.
  FaceWriter(std::vector<std::string> classes, bool geometry, bool smoothed)
      : ResultSink(std::move(classes)), geometry_(geometry), smoothed_(smoothed) {}
  void open_csv(const std::string& path);
  /// `frame` -1 for a still image; `crop_path` "" when crops are not written.
  void face(const std::string& source, int64_t frame, double time, const FaceResult& r, const std::string& crop_path);

 private:
  bool geometry_ = false, smoothed_ = false;
};

}  // namespace fer::infer
