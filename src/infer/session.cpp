#include "fer/infer/session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <set>

#include "fer/core/error.hpp"
#include "fer/core/image_limits.hpp"
#include "fer/core/io.hpp"
#include "fer/face/face.hpp"

namespace fer::infer {
namespace fs = std::filesystem;

namespace {

/// Unique output names in one folder ("photo.png", "photo_2.png", ...).
class NameBook {
 public:
  std::string take(const fs::path& dir, const std::string& stem, const std::string& ext) {
    std::string name = stem + ext;
    for (int k = 2; used_.count(name) > 0; ++k) name = fmt::format("{}_{}{}", stem, k, ext);
    used_.insert(name);
    return (dir / name).string();
  }

 private:
  std::set<std::string> used_;
};

std::vector<face::OverlayFace> overlays(const std::vector<FaceResult>& results,
                                        const std::vector<std::string>& classes) {
  std::vector<face::OverlayFace> out;
  for (const auto& r : results) out.push_back({r.detection.box, r.landmarks, r.id, classes, r.probs});
  return out;
}

std::string lower_ext(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool is_image(const fs::path& p) { return is_image_file(p.string()); }

bool is_video(const fs::path& p) {
  static const std::set<std::string> kExt = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg",
                                             ".mpeg", ".wmv", ".flv", ".ogv", ".3gp", ".mjpeg", ".mjpg"};
  return kExt.count(lower_ext(p)) > 0;
}

/// Files named on the command line, folders expanded (recursively, sorted). Files of unknown
/// type are tried as images first, then as videos.
}  // namespace

std::vector<Source> collect_sources(const std::vector<std::string>& paths, std::vector<std::string>& failures) {
  std::vector<Source> out;
  for (const auto& a : paths) {
    if (fs::is_directory(a)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(a)) {
        if (e.is_regular_file() && (is_image(e.path()) || is_video(e.path()))) found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) failures.push_back(a + ": folder holds no images or videos");
      for (const auto& f : found) out.push_back({f, is_video(f), -1});
    } else if (fs::exists(a)) {
      // An unknown extension: an image when its header says so (or OpenCV decodes it), else a video.
      out.push_back({a,
                     is_video(a) || (!is_image(a) && !io::read_image_header(a) &&
                                     cv::imread(a, cv::IMREAD_UNCHANGED).empty()),
                     -1});
    } else {
      failures.push_back(a + ": no such file or folder");
    }
  }
  return out;
}

Source camera_source(int index) { return {fmt::format("camera:{}", index), true, index}; }

config::FaceConfig checked_face_config(const config::FaceConfig& fc, const std::string& origin) {
  FER_CHECK(fc.detector != "mmod" || !fc.mmod_model.empty(), UsageError,
            "--detector mmod needs --mmod-model PATH (dlib's mmod_human_face_detector.dat; it is not packaged)");
  return config::parse_face_config(config::face_to_json(fc), origin);
}

void require_display() {
  const char* d = std::getenv("DISPLAY");
  const char* w = std::getenv("WAYLAND_DISPLAY");
  FER_CHECK((d != nullptr && *d != '\0') || (w != nullptr && *w != '\0'), UsageError,
            "--show needs a display (DISPLAY is not set); use --annotate DIR to write the overlays instead");
}

SessionSummary run_session(FaceAnalyzer& analyzer, const std::vector<Source>& sources, const SessionOptions& o,
                           FaceWriter& out) {
  if (o.show) require_display();
  FER_CHECK(o.every >= 1, UsageError, "--every {}: expected a whole number of frames >= 1", o.every);
  if (!o.annotate_dir.empty()) fs::create_directories(o.annotate_dir);
  if (!o.crops_dir.empty()) fs::create_directories(o.crops_dir);
  SessionSummary s;
  NameBook annotate_names;
  NameBook crop_names;

  const auto t_start = std::chrono::steady_clock::now();
  bool quit = false;  // q or Esc in the window
  auto stopping = [&] { return quit || (o.stop != nullptr && o.stop->load()); };
  const char* window = "fer infer";

  auto save_crop = [&](const std::string& stem, const FaceResult& r) -> std::string {
    if (o.crops_dir.empty()) return "";
    std::string path = crop_names.take(o.crops_dir, fmt::format("{}_face{}", stem, r.index), ".png");
    FER_CHECK(cv::imwrite(path, r.crop), IoError, "{}: cannot write image", path);
    return path;
  };

  for (const Source& src : sources) {
    if (stopping()) break;
    const std::string stem = src.camera >= 0 ? fmt::format("camera{}", src.camera) : fs::path(src.name).stem().string();
    try {
      if (!src.video) {
        // DataError (over the pixel limit, a truncated JPEG): a failure of this source, below
        cv::Mat img = io::read_image(src.name, cv::IMREAD_COLOR);
        if (img.empty()) {
          s.failures.push_back(src.name + ": cannot decode image (corrupt, or not an image or video OpenCV can read)");
          spdlog::error("{}", s.failures.back());
          continue;
        }
        ++s.images;
        analyzer.set_tracking(false);
        auto results = analyzer.analyze(img);
        if (results.empty()) {
          s.failures.push_back(src.name + ": no face found");
          spdlog::warn("{}", s.failures.back());
        }
        for (const auto& r : results) out.face(src.name, -1, 0.0, r, save_crop(stem, r));
        s.faces += results.size();
        if (!o.annotate_dir.empty()) {
          cv::Mat canvas = img.clone();
          face::draw_faces(canvas, overlays(results, out.classes()));
          const std::string path = annotate_names.take(o.annotate_dir, stem, ".png");
          FER_CHECK(cv::imwrite(path, canvas), IoError, "{}: cannot write image", path);
        }
        continue;
      }
      // A video file or a camera.
      cv::VideoCapture cap;
      if (src.camera >= 0) {
        cap.open(src.camera);
      } else {
        cap.open(src.name);
      }
      if (!cap.isOpened()) {
        s.failures.push_back(src.camera >= 0 ? fmt::format("camera {}: cannot be opened (is it connected, and is /dev/video{} readable?)", src.camera, src.camera)
                                           : src.name + ": cannot open as a video (corrupt, or a codec OpenCV lacks)");
        spdlog::error("{}", s.failures.back());
        continue;
      }
      io::check_frame_pixels(src.camera >= 0 ? fmt::format("camera {}", src.camera) : src.name,
                             static_cast<int64_t>(cap.get(cv::CAP_PROP_FRAME_WIDTH)),
                             static_cast<int64_t>(cap.get(cv::CAP_PROP_FRAME_HEIGHT)));
      ++s.videos;
      analyzer.set_tracking(true);  // new ids for every video
      double fps = cap.get(cv::CAP_PROP_FPS);
      if (!(fps > 0.0 && fps < 1000.0)) fps = 0.0;
      cv::VideoWriter writer;
      std::string writer_path;
      cv::Mat frame;
      int64_t index = -1, analysed = 0, with_face = 0;
      auto t_last = std::chrono::steady_clock::now();
      double shown_fps = 0.0;
      while (!stopping() && (o.max_frames == 0 || analysed < o.max_frames)) {
        if (!cap.read(frame) || frame.empty()) break;
        ++index;
        if (index % o.every != 0) continue;
        ++analysed;
        const double time = fps > 0.0 ? static_cast<double>(index) / fps : cap.get(cv::CAP_PROP_POS_MSEC) / 1000.0;
        auto results = analyzer.analyze(frame);
        if (results.empty()) ++s.faceless_frames; else ++with_face;
        for (const auto& r : results) {
          out.face(src.name, index, time, r, save_crop(fmt::format("{}_f{:06d}", stem, index), r));
        }
        s.faces += results.size();
        if (!o.annotate_dir.empty() || o.show) {
          cv::Mat canvas = frame.clone();
          face::draw_faces(canvas, overlays(results, out.classes()));
          const auto now = std::chrono::steady_clock::now();
          const double dt = std::chrono::duration<double>(now - t_last).count();
          t_last = now;
          if (dt > 0) shown_fps = shown_fps == 0.0 ? 1.0 / dt : 0.9 * shown_fps + 0.1 / dt;
          if (!o.annotate_dir.empty()) {
            if (!writer.isOpened()) {
              writer_path = annotate_names.take(o.annotate_dir, stem, ".avi");
              const double out_fps = fps > 0.0 ? fps / o.every : 10.0;
              writer.open(writer_path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), out_fps, canvas.size());
              FER_CHECK(writer.isOpened(), IoError, "{}: cannot open for writing (MJPG AVI)", writer_path);
            }
            writer.write(canvas);
          }
          if (o.show) {
            face::draw_banner(canvas, fmt::format("{:.1f} fps  frame {}", shown_fps, index));
            cv::imshow(window, canvas);
            const int key = cv::waitKey(1);
            if (key == 'q' || key == 27) quit = true;
          }
        }
      }
      s.frames += static_cast<size_t>(analysed);
      if (analysed == 0) {
        s.failures.push_back(src.name + ": no frame could be decoded");
        spdlog::error("{}", s.failures.back());
      } else if (with_face == 0) {
        s.failures.push_back(fmt::format("{}: no face found in {} analysed frame(s)", src.name, analysed));
        spdlog::warn("{}", s.failures.back());
      } else {
        spdlog::info("{}: {} frame(s) analysed, {} with faces{}", src.name, analysed, with_face,
                     writer_path.empty() ? "" : ", annotated video " + writer_path);
      }
    } catch (const DataError& e) {
      const std::string what = e.what();
      s.failures.push_back(what.rfind(src.name, 0) == 0 ? what : src.name + ": " + what);
      spdlog::error("{}", s.failures.back());
    } catch (const cv::Exception& e) {
      s.failures.push_back(src.name + ": OpenCV: " + e.what());
      spdlog::error("{}", s.failures.back());
    }
  }
  if (o.show) cv::destroyAllWindows();
  out.finish();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  s.stopped = stopping();
  return s;
}

}  // namespace fer::infer
