// fer align: detect + align every image of a folder tree, in parallel, incrementally.
//
// OUT/manifest.csv, one row per source image (one per face with multi "all"), in sorted source
// order whatever the number of threads:
//
//   source,faces_found,face_index,box_x,box_y,box_w,box_h,landmarks_ok,output,status
//
//   source        path relative to --in, '/'-separated
//   faces_found   faces the detector found in the source image
//   face_index    which face the row is, 0 = largest; -1 when the row has no face
//   box_*         that face's box in source pixels, rounded (empty when no face)
//   landmarks_ok  1 when the 68 landmarks were fitted, else 0
//   output        the written file, relative to --out ('' when none)
//   status        aligned (by the eyes) | box (box crop) | center (no face: centred square of the
//                 whole image) | skipped_no_face | error: <why>
//
// Fields holding a comma, quote or line break are quoted as in RFC 4180. The manifest is
// written atomically every ~200 images and at the end; a later run reads it back and does not
// redo sources whose rows are there and whose outputs all exist (errors are retried).
// OUT/fer_align.json records the settings; a run with other settings on the same OUT is refused.
#include "fer/face/align_folder.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "fer/core/cpu.hpp"
#include "fer/core/dir_lock.hpp"
#include "fer/core/error.hpp"
#include "fer/core/image_limits.hpp"
#include "fer/core/io.hpp"
#include "fer/core/parallel.hpp"
#include "fer/core/version.hpp"
#include "fer/face/face.hpp"

namespace fer::face {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifestName = "manifest.csv";
constexpr const char* kSettingsName = "fer_align.json";
constexpr const char* kHeader =
    "source,faces_found,face_index,box_x,box_y,box_w,box_h,landmarks_ok,output,status";
constexpr size_t kFlushEvery = 200;  // images between manifest writes

bool is_hidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

// ---- CSV ----

/// RFC 4180 records of `text` (quoted fields may hold commas, quotes and line breaks).
std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& origin) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool any = false;  // the current record has content
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      field.clear();
      row.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  FER_CHECK(!quoted, DataError, "{}: unterminated quoted field", origin);
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> split_box(const std::string& box) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < box.size()) {
    const size_t sp = box.find(' ', pos);
    parts.push_back(box.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos));
    if (sp == std::string::npos) break;
    pos = sp + 1;
  }
  parts.resize(4);
  return parts;
}

std::string manifest_row(const AlignRecord& r) {
  const std::vector<std::string> b = split_box(r.box);
  std::string line = csv_field(r.source);
  for (const std::string& f : {std::to_string(r.faces_found), std::to_string(r.face_index), b[0], b[1], b[2],
                               b[3], std::string(r.landmarks_ok ? "1" : "0"), r.output, r.status}) {
    line += ',';
    line += csv_field(f);
  }
  return line;
}

int to_int(const std::string& s, const std::string& origin, size_t line) {
  try {
    size_t used = 0;
    const int v = std::stoi(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw DataError(fmt::format("{}:{}: expected an integer, got \"{}\" (remove the file or use --force)",
                              origin, line, s));
}

/// The rows of an earlier run, by source.
std::map<std::string, std::vector<AlignRecord>> read_manifest(const fs::path& file) {
  std::map<std::string, std::vector<AlignRecord>> by_source;
  if (!fs::is_regular_file(file)) return by_source;
  const std::string origin = file.string();
  const auto rows = parse_csv(read_file(origin), origin);
  if (rows.empty()) return by_source;
  std::string header;
  for (size_t i = 0; i < rows[0].size(); ++i) header += (i ? "," : "") + rows[0][i];
  FER_CHECK(header == kHeader, DataError,
            "{}: unexpected header \"{}\" (expected \"{}\"); remove it or use --force", origin, header,
            kHeader);
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& f = rows[i];
    FER_CHECK(f.size() == 10, DataError,
              "{}: record {}: expected 10 fields, got {} (remove it or use --force)", origin, i + 1,
              f.size());
    AlignRecord r;
    r.source = f[0];
    r.faces_found = to_int(f[1], origin, i + 1);
    r.face_index = to_int(f[2], origin, i + 1);
    if (!f[3].empty()) r.box = f[3] + " " + f[4] + " " + f[5] + " " + f[6];
    r.landmarks_ok = f[7] == "1";
    r.output = f[8];
    r.status = f[9];
    by_source[r.source].push_back(std::move(r));
  }
  return by_source;
}

bool is_error(const AlignRecord& r) { return r.status.rfind("error", 0) == 0; }

/// An earlier run's rows stand for the source: no error, and every output is there.
bool rows_complete(const std::vector<AlignRecord>& rows, const fs::path& out) {
  if (rows.empty()) return false;
  for (const auto& r : rows) {
    if (is_error(r)) return false;
    if (r.output.empty()) {
      if (r.status != "skipped_no_face") return false;
    } else {
      std::error_code ec;
      if (!fs::is_regular_file(out / r.output, ec)) return false;
    }
  }
  return true;
}

// ---- settings (fer_align.json) ----

void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, nlohmann::json>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else {
    out[prefix] = j;
  }
}

/// "key (here X, in the file Y)" for each setting that differs; fer_version is not a setting.
std::vector<std::string> differing_settings(const nlohmann::json& now, const nlohmann::json& before) {
  std::map<std::string, nlohmann::json> a, b;
  flatten(now, "", a);
  flatten(before, "", b);
  // Folders aligned before face.detect_max_side existed were detected at full size.
  if (b.count("face.detector") && !b.count("face.detect_max_side")) b["face.detect_max_side"] = 0;
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  std::vector<std::string> diffs;
  for (const auto& k : keys) {
    if (k == "fer_version") continue;
    const auto ia = a.find(k);
    const auto ib = b.find(k);
    const std::string va = ia == a.end() ? "(none)" : ia->second.dump();
    const std::string vb = ib == b.end() ? "(none)" : ib->second.dump();
    if (va != vb) diffs.push_back(fmt::format("{} (now {}, in the file {})", k, va, vb));
  }
  return diffs;
}

// ---- one image ----

struct Job {
  std::string source;  // relative to in, generic
  fs::path path;       // full path
  std::string base;    // output path relative to out, without ".png"
};

struct Settings {
  int size = 96;
  bool gray = false;
  bool center = false;     // no_face == "center"
  bool all_faces = false;  // multi == "all"
};

std::string box_string(const cv::Rect2f& b) {
  return fmt::format("{} {} {} {}", std::lround(b.x), std::lround(b.y), std::lround(b.width),
                     std::lround(b.height));
}

void write_png(const fs::path& file, const cv::Mat& img) {
  std::vector<uchar> buf;
  FER_CHECK(cv::imencode(".png", img, buf), IoError, "{}: cannot encode PNG", file.string());
  write_file_atomic(file.string(), std::string(buf.begin(), buf.end()));
}

cv::Mat resize_to(const cv::Mat& img, int size) {
  if (img.cols == size && img.rows == size) return img;
  cv::Mat out;
  const bool shrink = img.cols > size || img.rows > size;
  cv::resize(img, out, cv::Size(size, size), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

/// The records of one source; files written are added to `written`.
std::vector<AlignRecord> process_one(FacePipeline& pipeline, const Job& job, const Settings& s,
                                     const fs::path& out, size_t& written) {
  AlignRecord base;
  base.source = job.source;
  // ANYCOLOR: 1-channel sources stay 1-channel, everything else becomes 8-bit BGR (EXIF
  // orientation applied, as with IMREAD_COLOR).
  cv::Mat img;
  try {
    img = io::read_image(job.path.string(), cv::IMREAD_ANYCOLOR);  // pixel limit, truncated JPEGs
  } catch (const DataError& e) {
    base.status = std::string("error: ") + e.what();
    return {base};
  }
  if (img.empty()) {
    base.status = "error: cannot decode image";
    return {base};
  }
  if (s.gray && img.channels() == 3) cv::cvtColor(img, img, cv::COLOR_BGR2GRAY);
  std::vector<Face> faces = pipeline.process(img);
  base.faces_found = static_cast<int>(faces.size());
  std::vector<AlignRecord> rows;
  if (faces.empty()) {
    if (!s.center) {
      base.status = "skipped_no_face";
      return {base};
    }
    const int side = std::min(img.cols, img.rows);
    const cv::Rect sq((img.cols - side) / 2, (img.rows - side) / 2, side, side);
    base.output = job.base + ".png";
    base.status = "center";
    write_png(out / base.output, resize_to(img(sq), s.size));
    ++written;
    return {base};
  }
  const size_t n = s.all_faces ? faces.size() : 1;
  for (size_t k = 0; k < n; ++k) {
    Face& f = faces[k];
    AlignRecord r = base;
    r.face_index = static_cast<int>(k);
    r.box = box_string(f.detection.box);
    r.landmarks_ok = f.landmarks.size() == 68;
    r.status = f.aligned.by_eyes ? "aligned" : "box";
    r.output = s.all_faces ? fmt::format("{}_{}.png", job.base, k) : job.base + ".png";
    // Detector "none" hands back the whole image: resize it like the crops.
    write_png(out / r.output, resize_to(f.aligned.crop, s.size));
    ++written;
    rows.push_back(std::move(r));
  }
  return rows;
}

// ---- the folder ----

/// Sorted image files under `in` (hidden files and folders skipped), with their output names.
std::vector<Job> collect_jobs(const fs::path& in) {
  std::vector<Job> jobs;
  std::error_code ec;
  fs::recursive_directory_iterator it(in, fs::directory_options::skip_permission_denied, ec), end;
  FER_CHECK(!ec, IoError, "{}: cannot list folder: {}", in.string(), ec.message());
  for (; it != end; it.increment(ec)) {
    FER_CHECK(!ec, IoError, "{}: cannot list folder: {}", in.string(), ec.message());
    const std::string name = it->path().filename().string();
    if (is_hidden(name)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || !is_image_file(it->path().string())) continue;
    Job j;
    j.path = it->path();
    j.source = it->path().lexically_relative(in).generic_string();
    jobs.push_back(std::move(j));
  }
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.source < b.source; });
  // <dir>/<stem>, or <dir>/<stem>_<ext> where two sources of a folder share a stem (a.jpg, a.png).
  std::map<std::string, int> stem_count;
  auto stem_key = [](const Job& j) {
    return (fs::path(j.source).parent_path() / fs::path(j.source).stem()).generic_string();
  };
  for (const auto& j : jobs) ++stem_count[stem_key(j)];
  for (auto& j : jobs) {
    const std::string key = stem_key(j);
    j.base = stem_count[key] > 1 ? key + "_" + fs::path(j.source).extension().string().substr(1) : key;
  }
  return jobs;
}

bool is_inside(const fs::path& child, const fs::path& parent) {
  auto c = child.begin();
  for (auto p = parent.begin(); p != parent.end(); ++p, ++c) {
    if (p->empty()) continue;  // trailing separator
    if (c == child.end() || *c != *p) return false;
  }
  return true;
}

/// A non-empty relative path that stays below its root (no "..", not absolute).
bool is_safe_relative(const std::string& p) {
  if (p.empty()) return false;
  const fs::path path(p);
  if (path.is_absolute() || path.has_root_name()) return false;
  return std::none_of(path.begin(), path.end(), [](const fs::path& c) { return c == ".."; });
}

}  // namespace

AlignSummary align_folder(const AlignFolderOptions& opts) {
  FER_CHECK(!opts.in.empty(), UsageError, "no input folder given (--in)");
  FER_CHECK(!opts.out.empty(), UsageError, "no output folder given (--out)");
  FER_CHECK(opts.no_face == "skip" || opts.no_face == "center", UsageError,
            "--no-face: expected skip or center, got \"{}\"", opts.no_face);
  FER_CHECK(opts.multi == "largest" || opts.multi == "all", UsageError,
            "--multi: expected largest or all, got \"{}\"", opts.multi);
  FER_CHECK(opts.threads >= 0, UsageError, "--threads: expected 0 (all cores) or more, got {}", opts.threads);
  const fs::path in(opts.in);
  const fs::path out(opts.out);
  FER_CHECK(fs::exists(in), UsageError, "{}: no such folder (the images to align, --in)", opts.in);
  FER_CHECK(fs::is_directory(in), UsageError, "{}: not a folder (--in expects a folder of images)", opts.in);
  const fs::path in_abs = fs::weakly_canonical(fs::absolute(in));
  const fs::path out_abs = fs::weakly_canonical(fs::absolute(out));
  FER_CHECK(
      !is_inside(out_abs, in_abs), UsageError,
      "--out {} is inside --in {}: the aligned images would be read back as input; choose another --out",
      opts.out, opts.in);
  FER_CHECK(!fs::exists(out) || fs::is_directory(out), IoError, "{}: exists and is not a folder (--out)",
            opts.out);

  // The face settings actually used, validated like a config's face section.
  config::FaceConfig face = opts.face;
  if (face.size <= 0) face.size = opts.size;
  face = config::parse_face_config(config::face_to_json(face), "fer align face settings");
  Settings s;
  s.size = face.size;
  s.gray = opts.gray;
  s.center = opts.no_face == "center";
  s.all_faces = opts.multi == "all";
  const nlohmann::json settings = {{"face", config::face_to_json(face)},
                                   {"gray", opts.gray},
                                   {"no_face", opts.no_face},
                                   {"multi", opts.multi},
                                   {"fer_version", fer::version()}};

  std::vector<Job> jobs = collect_jobs(in);
  FER_CHECK(!jobs.empty(), DataError, "{}: no images found (png jpg jpeg bmp tif tiff webp pgm ppm pbm)",
            opts.in);

  const DirLock out_lock(out.string(), "fer align");  // one writer per output folder
  // An earlier run into the same folder: same settings, or --force.
  const fs::path settings_file = out / kSettingsName;
  const fs::path manifest_file = out / kManifestName;
  std::map<std::string, std::vector<AlignRecord>> old;
  if (!opts.force && fs::exists(settings_file)) {
    nlohmann::json before;
    try {
      before = nlohmann::json::parse(read_file(settings_file.string()));
    } catch (const nlohmann::json::exception& e) {
      throw DataError(
          fmt::format("{}: not valid JSON ({}); remove it or use --force", settings_file.string(), e.what()));
    }
    const auto diffs = differing_settings(settings, before);
    if (!diffs.empty()) {
      std::string list;
      for (const auto& d : diffs) list += (list.empty() ? "" : "; ") + d;
      throw UsageError(
          fmt::format("{}: {} was aligned with other settings: {}. Mixing alignments in one dataset would be "
                      "wrong: use the "
                      "same settings, another --out, or --force to redo every image",
                      settings_file.string(), opts.out, list));
    }
    old = read_manifest(manifest_file);
  } else if (opts.force && fs::exists(manifest_file)) {
    // Remove what the earlier settings wrote, so no stale crop survives (e.g. file_2.png of multi "all").
    try {
      for (const auto& [src, rows] : read_manifest(manifest_file)) {
        for (const auto& r : rows) {
          if (!is_safe_relative(r.output)) continue;
          std::error_code ec;
          fs::remove(out / r.output, ec);
        }
      }
    } catch (const Error& e) {
      spdlog::warn("--force: earlier manifest unreadable, its outputs are left in place: {}", e.what());
    }
  } else if (!opts.force && fs::exists(manifest_file)) {
    spdlog::warn("{} exists without {}: its rows are ignored and every image is aligned again",
                 manifest_file.string(), settings_file.string());
  }

  AlignSummary sum;
  sum.images = jobs.size();
  sum.manifest = manifest_file.string();

  // What is left to do. Rows of sources no longer in --in stay while their outputs exist.
  std::map<std::string, std::vector<AlignRecord>> kept;  // rows carried into the manifest as they are
  std::set<std::string> current;
  std::vector<size_t> todo;
  for (size_t i = 0; i < jobs.size(); ++i) {
    current.insert(jobs[i].source);
    const auto it = old.find(jobs[i].source);
    if (it != old.end()) {
      kept[it->first] = it->second;  // until redone
      if (rows_complete(it->second, out)) {
        ++sum.done_before;
        continue;
      }
    }
    todo.push_back(i);
  }
  for (const auto& [src, rows] : old) {
    if (current.count(src)) continue;
    std::vector<AlignRecord> still;
    for (const auto& r : rows) {
      std::error_code ec;
      if (!r.output.empty() && fs::is_regular_file(out / r.output, ec)) still.push_back(r);
    }
    if (!still.empty()) kept[src] = std::move(still);
  }

  fs::create_directories(out);
  // Workers: the first pipeline is built here, so a missing model file is an error before any work.
  const size_t n_threads =
      todo.empty() ? 0 : std::min(todo.size(), static_cast<size_t>(threads_or_all(opts.threads)));
  std::unique_ptr<FacePipeline> first;
  if (!todo.empty()) first = std::make_unique<FacePipeline>(face, s.size);
  write_file_atomic(settings_file.string(), settings.dump(2) + "\n");
  for (size_t i : todo) {
    const fs::path dir = (out / jobs[i].base).parent_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    FER_CHECK(!ec, IoError, "{}: cannot create folder: {}", dir.string(), ec.message());
  }

  std::mutex m;
  std::vector<std::vector<AlignRecord>> results(todo.size());
  std::vector<char> finished_flag(todo.size(), 0);
  size_t finished = 0, written = 0, last_flush = 0;
  // One pipeline per worker (parallel_for's worker index); the first one is built above.
  std::vector<std::unique_ptr<FacePipeline>> pipelines(std::max<size_t>(n_threads, 1));
  pipelines[0] = std::move(first);

  auto manifest_text = [&]() {  // caller holds m
    std::map<std::string, const std::vector<AlignRecord>*> rows;
    for (const auto& [src, r] : kept) rows[src] = &r;
    for (size_t k = 0; k < todo.size(); ++k) {
      if (finished_flag[k]) rows[jobs[todo[k]].source] = &results[k];
    }
    std::string text = std::string(kHeader) + "\n";
    for (const auto& [src, rs] : rows) {
      for (const auto& r : *rs) text += manifest_row(r) + "\n";
    }
    return text;
  };
  // Manifests written while aligning (an interrupted run keeps what it did), one writer at a
  // time, never an older text over a newer one.
  std::mutex flush_mutex;
  size_t flushed_at = 0;
  auto flush = [&](const std::string& text, size_t at) {
    std::lock_guard<std::mutex> lock(flush_mutex);
    if (at < flushed_at) return;
    flushed_at = at;
    write_file_atomic(manifest_file.string(), text);
  };

  ProgressLine progress(opts.progress && !todo.empty());
  auto show = [&](bool force) {  // caller holds m
    progress.show(fmt::format("aligned {}/{}{}", finished, todo.size(),
                              sum.done_before ? fmt::format(" ({} done before)", sum.done_before) : ""),
                  force);
  };
  auto align_one = [&](size_t k, int worker) {
    auto& pipeline = pipelines[static_cast<size_t>(worker)];
    if (!pipeline) pipeline = std::make_unique<FacePipeline>(face, s.size);
    const Job& job = jobs[todo[k]];
    std::vector<AlignRecord> rows;
    size_t w = 0;
    try {
      rows = process_one(*pipeline, job, s, out, w);
    } catch (const std::exception& e) {
      AlignRecord r;
      r.source = job.source;
      std::string what = e.what();
      std::replace(what.begin(), what.end(), '\n', ' ');
      r.status = "error: " + what;
      rows = {r};
    }
    std::string text;
    size_t at = 0;
    {
      std::lock_guard<std::mutex> lock(m);
      results[k] = std::move(rows);
      finished_flag[k] = 1;
      ++finished;
      written += w;
      show(false);
      if (finished - last_flush >= kFlushEvery) {
        last_flush = at = finished;
        text = manifest_text();
      }
    }
    if (!text.empty()) flush(text, at);
  };
  try {
    parallel_for(todo.size(), static_cast<int>(std::max<size_t>(n_threads, 1)), align_one, opts.stop);
  } catch (...) {
    std::lock_guard<std::mutex> lock(m);
    write_file_atomic(manifest_file.string(), manifest_text());  // what was done is kept
    progress.finish(true);
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(m);
    show(true);
  }
  progress.finish(true);
  write_file_atomic(manifest_file.string(), manifest_text());

  sum.interrupted = finished < todo.size();
  sum.outputs = written;
  for (size_t k = 0; k < todo.size(); ++k) {
    if (!finished_flag[k]) continue;
    const auto& rows = results[k];
    if (rows.size() == 1 && is_error(rows[0])) {
      ++sum.failed;
      sum.failures.push_back(fmt::format("{}: {}", jobs[todo[k]].path.string(), rows[0].status.substr(7)));
    } else if (std::any_of(rows.begin(), rows.end(),
                           [](const AlignRecord& r) { return !r.output.empty(); })) {
      ++sum.aligned;
    }
  }
  // Face counts over every current source, this run's rows and earlier ones.
  for (size_t k = 0; k < todo.size(); ++k) {
    if (finished_flag[k]) kept[jobs[todo[k]].source] = results[k];
  }
  for (const auto& j : jobs) {
    const auto it = kept.find(j.source);
    if (it == kept.end() || it->second.empty() || is_error(it->second[0])) continue;
    if (it->second[0].faces_found == 0) ++sum.no_face;
    if (it->second[0].faces_found > 1) ++sum.multi_face;
  }
  return sum;
}

}  // namespace fer::face
