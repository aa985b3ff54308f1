#include "fer/infer/output.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "fer/core/error.hpp"

namespace fer::infer {

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

namespace {
double round1(double v) { return std::round(v * 10.0) / 10.0; }
}  // namespace

void FaceWriter::open_csv(const std::string& path) {
  open_csv_file(path) << "source,frame,time,face,id,x,y,w,h,confidence,aligned,class,prob";
  for (const auto& c : classes_) *csv_ << "," << csv_field("p_" + c);
  if (geometry_) *csv_ << ",eye_width,nose_length,mouth_width";
  *csv_ << ",crop,landmarks\n";
}

void FaceWriter::face(const std::string& source, int64_t frame, double time, const FaceResult& r,
                    const std::string& crop_path) {
  const auto& b = r.detection.box;
  const size_t top = r.top();
  if (json_ != nullptr) {
    nlohmann::ordered_json j;
    j["source"] = source;
    if (frame >= 0) {
      j["frame"] = frame;
      j["time"] = std::round(time * 1000.0) / 1000.0;
    }
    j["face"] = r.index;
    if (r.id >= 0) j["id"] = r.id;
    j["box"] = {round1(b.x), round1(b.y), round1(b.width), round1(b.height)};
    j["confidence"] = std::round(r.detection.confidence * 1000.0) / 1000.0;
    j["aligned"] = r.by_eyes ? "eyes" : "box";
    j["class"] = classes_[top];
    j["prob"] = r.probs[top];
    j["probs"] = probs_json(r.probs);
    if (smoothed_) j["raw_probs"] = probs_json(r.raw_probs);
    if (r.geometry) {
      j["geometry"] = {{"approachability", r.geometry->approachability()},
                       {"youthful_attractiveness", r.geometry->youthful_attractiveness()},
                       {"dominance", r.geometry->dominance()}};
    }
    if (!crop_path.empty()) j["crop"] = crop_path;
    nlohmann::ordered_json lm = nlohmann::ordered_json::array();
    for (const auto& p : r.landmarks) lm.push_back({round1(p.x), round1(p.y)});
    j["landmarks"] = lm;
    *json_ << j.dump() << "\n";
  }
  if (csv_ != nullptr) {
    *csv_ << csv_field(source) << ',' << (frame >= 0 ? std::to_string(frame) : "") << ','
          << (frame >= 0 ? fmt::format("{:.3f}", time) : "") << ',' << r.index << ','
          << (r.id >= 0 ? std::to_string(r.id) : "") << ',' << fmt::format("{:.1f},{:.1f},{:.1f},{:.1f}", b.x, b.y, b.width, b.height)
          << ',' << fmt::format("{:.3f}", r.detection.confidence) << ',' << (r.by_eyes ? "eyes" : "box") << ','
          << csv_field(classes_[top]) << ',' << fmt::format("{:.6f}", r.probs[top]);
    for (float p : r.probs) *csv_ << ',' << fmt::format("{:.6f}", p);
    if (geometry_) {
      if (r.geometry) {
        *csv_ << fmt::format(",{:.4f},{:.4f},{:.4f}", r.geometry->eye_width, r.geometry->nose_length,
                             r.geometry->mouth_width);
      } else {
        *csv_ << ",,,";
      }
    }
    std::string lm;
    for (const auto& p : r.landmarks) lm += fmt::format("{}{:.1f} {:.1f}", lm.empty() ? "" : " ", p.x, p.y);
    *csv_ << ',' << csv_field(crop_path) << ',' << lm << '\n';
  }
  if (table_) {
    if (!header_done_) {
      fmt::print("{:<40} {:>6} {:>4} {:>4}  {:<24} {:<10} {:>6}", "source", "frame", "face", "id", "box", "class",
                 "prob");
      for (const auto& n : classes_) fmt::print(" {:>8.8}", n);
      if (geometry_) fmt::print(" {:>7} {:>7} {:>7}", "approach", "youth", "domin");
      fmt::print("\n");
      header_done_ = true;
    }
    std::string src = source.size() > 40 ? "..." + source.substr(source.size() - 37) : source;
    fmt::print("{:<40} {:>6} {:>4} {:>4}  {:<24} {:<10} {:6.3f}", src, frame >= 0 ? std::to_string(frame) : "-",
               r.index, r.id >= 0 ? std::to_string(r.id) : "-",
               fmt::format("{:.0f},{:.0f} {:.0f}x{:.0f}", b.x, b.y, b.width, b.height), classes_[top], r.probs[top]);
    for (float p : r.probs) fmt::print(" {:8.3f}", p);
    if (geometry_ && r.geometry) {
      fmt::print(" {:7.3f} {:7.3f} {:7.3f}", r.geometry->eye_width, r.geometry->nose_length, r.geometry->mouth_width);
    }
    fmt::print("\n");
  }
}

}  // namespace fer::infer
