// fer infer: faces in photos, folders, video files and cameras -> detection, landmarks,
// alignment (as in training), classification; table / JSON lines / CSV, annotated copies,
// a live window. Fused visible + infrared models take pairs of face crops instead (infer_paired.cpp).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <set>

#include "commands.hpp"
#include "fer/train/precision.hpp"
#include "fer/core/error.hpp"
#include "fer/core/image_limits.hpp"
#include "fer/core/io.hpp"
#include "fer/face/face.hpp"
#include "fer/infer/analyzer.hpp"
#include "fer/infer/predictor.hpp"
#include "fer/train/runtime.hpp"
#include "infer_output.hpp"
#include "infer_paired.hpp"
#include "interrupt.hpp"

namespace fer::app {
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stop{false};

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

struct Source {
  std::string name;  ///< file path, or "camera:N"
  bool video = false;
  int camera = -1;
};

/// Files named on the command line, folders expanded (recursively, sorted). Files of unknown
/// type are tried as images first, then as videos.
std::vector<Source> collect_sources(const std::vector<std::string>& args, std::vector<std::string>& failures) {
  std::vector<Source> out;
  for (const auto& a : args) {
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

double round1(double v) { return std::round(v * 10.0) / 10.0; }

/// Where results go: a table on stdout, and/or JSON lines, and/or CSV (see OutputFile).
class Sink : public ResultSink {
 public:
  Sink(std::vector<std::string> classes, bool geometry)
      : ResultSink(std::move(classes)), geometry_(geometry) {}

  void open_csv(const std::string& path) {
    open_csv_file(path) << "source,frame,time,face,id,x,y,w,h,confidence,aligned,class,prob";
    for (const auto& c : classes_) *csv_ << "," << csv_field("p_" + c);
    if (geometry_) *csv_ << ",eye_width,nose_length,mouth_width";
    *csv_ << ",crop,landmarks\n";
  }

  void face(const std::string& source, int64_t frame, double time, const infer::FaceResult& r,
            const std::string& crop_path, bool smoothed) {
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
      if (smoothed) j["raw_probs"] = probs_json(r.raw_probs);
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

 private:
  bool geometry_ = false;
};

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

std::vector<face::OverlayFace> overlays(const std::vector<infer::FaceResult>& results,
                                        const std::vector<std::string>& classes) {
  std::vector<face::OverlayFace> out;
  for (const auto& r : results) out.push_back({r.detection.box, r.landmarks, r.id, classes, r.probs});
  return out;
}

}  // namespace

Runner add_infer(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "infer", "Find, align and classify faces in images, folders, videos or a camera with a trained model");
  sub->footer(
      "Fused visible + infrared models (paired data, data.paired.use \"all\"): give each sample's images with "
      "--pair A,B in the model's modality order (data.paired.modalities, e.g. --pair v.png,ir.png; one side empty = "
      "that image is missing), or folders ROOT/<modality>/[<class>/]<image> paired like the training data. Paired "
      "inputs are face crops and are used whole: no face detection or alignment. A sample with one image missing is "
      "classified by the fallback model of the present modality (--fallback MODALITY=RUN or the run's "
      "model.fallback), else it fails. Cameras, videos, --annotate, --crops, --show, --geometry-scores and the face "
      "options are for single-image models.");
  struct Opts {
    std::string run, checkpoint = "best", device = "auto", precision, json, csv, annotate, crops;
    std::vector<std::string> inputs, pairs, fallbacks;
    std::vector<int> cameras;
    std::string tta = "none";
    bool show = false, geometry = false;
    int threads = 0, every = 1, redetect = infer::AnalyzerOptions{}.redetect_every;
    int64_t max_frames = 0;
    double smooth = 0.0;
    // face overrides (empty / negative = the checkpoint's)
    std::string detector, align, landmark_model, mmod_model, haar_cascade;
    int upsample = -1, min_face = -1, detect_max_side = -1;
    double min_confidence = std::nan("");
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("-r,--run", o->run, "Run directory or checkpoint file (.pt)")->required();
  sub->add_option("--checkpoint", o->checkpoint, "best | last (with a run directory)")->capture_default_str();
  sub->add_option("inputs", o->inputs,
                  "Image files, video files or folders of them (fused models: paired folders, see below)");
  sub->add_option("--pair", o->pairs,
                  "Fused models: one sample's files in the model's modality order, A,B (one side may be empty: a "
                  "missing image); repeatable")
      ->allow_extra_args(false);
  sub->add_option("--fallback", o->fallbacks,
                  "Fused models: MODALITY=RUN_OR_CHECKPOINT, a single-modality model for samples with only that "
                  "modality's image (wins over the run's model.fallback); repeatable")
      ->allow_extra_args(false);
  sub->add_option("--camera", o->cameras, "Camera index to read frames from (repeatable)");
  sub->add_option("--json", o->json, "JSON lines, one per face, to this file ('-' or nothing = stdout)")
      ->expected(0, 1)
      ->default_str("-");
  sub->add_option("--csv", o->csv, "The same as a CSV table, to this file ('-' or nothing = stdout)")
      ->expected(0, 1)
      ->default_str("-");
  sub->add_option("--annotate", o->annotate, "Write each image / video with boxes, landmarks, labels and bars here");
  sub->add_option("--crops", o->crops, "Write each aligned face crop (what the model saw) here");
  sub->add_flag("--show", o->show, "Show videos and cameras in a window with overlays and fps (q or Esc stops)");
  sub->add_option("--every", o->every, "Videos: analyse every N-th frame")->check(whole_number(1))->capture_default_str();
  sub->add_option("--redetect", o->redetect,
                  "Videos and cameras: search the whole frame for faces every N-th analysed frame (and when a face "
                  "is lost); in between only near the previous frame's faces (1 = the whole frame every time)")
      ->check(whole_number(1))
      ->capture_default_str();
  sub->add_option("--max-frames", o->max_frames, "Videos and cameras: stop after this many analysed frames (0 = all)")
      ->check(whole_number(0));
  sub->add_option("--smooth", o->smooth, "Videos: smooth each face's probabilities over time, 0 (off) .. 0.99")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  sub->add_flag("--geometry-scores", o->geometry,
                "Report the seed system's landmark-ratio 'scores' (geometric heuristics, not validated measures)");
  sub->add_option("--tta", o->tta, "Test-time augmentation: none | flip (image + mirror) | ten_crop")
      ->check(CLI::IsMember({"none", "flip", "ten_crop"}))
      ->capture_default_str();
  sub->add_option("--detector", o->detector, "hog | haar | mmod | none (inputs are already face crops); default: the checkpoint's")
      ->check(CLI::IsMember({"hog", "haar", "mmod", "none"}));
  sub->add_option("--align", o->align, "eyes | box; default: the checkpoint's")->check(CLI::IsMember({"eyes", "box"}));
  sub->add_option("--upsample", o->upsample, "Image doublings before detection (finds small faces; slower)")
      ->check(CLI::Range(0, 3));
  sub->add_option("--min-confidence", o->min_confidence, "Drop detections scoring below this");
  sub->add_option("--min-face", o->min_face, "Drop faces smaller than this many pixels")->check(whole_number(0));
  sub->add_option("--detect-max-side", o->detect_max_side,
                  "Detect faces on a copy of the frame scaled down to this longer side, in pixels (0 = full size; "
                  "default: the checkpoint's face.detect_max_side, 1024 unless set); landmarks and crops use the "
                  "full frame")
      ->check(whole_number(0));
  sub->add_option("--landmark-model", o->landmark_model, "dlib 68-point model file");
  sub->add_option("--mmod-model", o->mmod_model, "dlib CNN face detector file (mmod_human_face_detector.dat)");
  sub->add_option("--haar-cascade", o->haar_cascade, "OpenCV Haar cascade file");
  sub->add_option("--device", o->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  sub->add_option("--precision", o->precision, "fp32 | bf16 | fp16 for the model (default: the run's train.precision)")
      ->check(CLI::IsMember(train::precision_names()));
  sub->add_option("--threads", o->threads, "Intra-op threads (0 = all cores)")->check(whole_number(0));
  auto* json_opt = sub->get_option("--json");
  auto* csv_opt = sub->get_option("--csv");
  return [o, sub, json_opt, csv_opt]() {
    FER_CHECK(!o->inputs.empty() || !o->cameras.empty() || !o->pairs.empty(), UsageError,
              "fer infer: give image/video files or folders, --camera N, or (fused models) --pair A,B");
    const bool to_json = json_opt->count() > 0;
    const bool to_csv = csv_opt->count() > 0;
    FER_CHECK(!(to_json && to_csv && (o->json.empty() || o->json == "-") && (o->csv.empty() || o->csv == "-")),
              UsageError, "--json and --csv cannot both write to stdout: give one of them a file name");
    if (o->show) {
      const char* d = std::getenv("DISPLAY");
      const char* w = std::getenv("WAYLAND_DISPLAY");
      FER_CHECK((d != nullptr && *d != '\0') || (w != nullptr && *w != '\0'), UsageError,
                "--show needs a display (DISPLAY is not set); use --annotate DIR to write the overlays instead");
    }
    train::configure_threads(o->threads);
    infer::Predictor predictor(infer::resolve_checkpoint(o->run, o->checkpoint), o->device, o->precision);
    const auto& classes = predictor.class_names();
    if (is_fused_model(predictor.config())) {
      std::vector<std::string> unsupported;
      for (const char* name : {"--camera", "--annotate", "--crops", "--show", "--geometry-scores", "--every",
                               "--redetect", "--max-frames", "--smooth", "--detector", "--align", "--upsample", "--min-confidence",
                               "--min-face", "--detect-max-side", "--landmark-model", "--mmod-model", "--haar-cascade"}) {
        if (sub->get_option(name)->count() > 0) unsupported.push_back(name);
      }
      const auto& paired = predictor.config().data.paired;
      FER_CHECK(unsupported.empty(), UsageError,
                "{}: {} is a fused model of paired {} face crops, classified whole: give each sample's images with "
                "--pair {} or paired folders ROOT/<modality>/[<class>/]<image>; {} {} for single-image models "
                "(cameras, videos, face detection and overlays)",
                o->run, predictor.config().model.name, fmt::join(paired.modalities, " + "),
                fmt::join(paired.modalities, ","), fmt::join(unsupported, ", "),
                unsupported.size() == 1 ? "is" : "are");
      PairedInferOptions po;
      po.pairs = o->pairs;
      po.folders = o->inputs;
      po.fallbacks = o->fallbacks;
      po.device = o->device;
      po.precision = o->precision;
      po.tta = augment::parse_tta(o->tta, "--tta");
      po.to_json = to_json;
      po.to_csv = to_csv;
      po.json = o->json;
      po.csv = o->csv;
      return infer_paired(predictor, po);
    }
    FER_CHECK(o->pairs.empty() && o->fallbacks.empty(), UsageError,
              "{}: --pair and --fallback are for fused visible + infrared models; this {} model takes one image "
              "({} channel(s)): give image files or folders",
              o->run, predictor.config().model.name, predictor.config().preprocess.channels);

    // The checkpoint's face settings (how its training faces were aligned), with overrides.
    config::FaceConfig fc = predictor.config().face;
    if (!o->detector.empty()) fc.detector = o->detector;
    if (!o->align.empty()) fc.align = o->align;
    if (!o->landmark_model.empty()) fc.landmark_model = o->landmark_model;
    if (!o->mmod_model.empty()) fc.mmod_model = o->mmod_model;
    if (!o->haar_cascade.empty()) fc.haar_cascade = o->haar_cascade;
    if (o->upsample >= 0) fc.upsample = o->upsample;
    if (o->min_face >= 0) fc.min_face = o->min_face;
    if (o->detect_max_side >= 0) fc.detect_max_side = o->detect_max_side;
    if (!std::isnan(o->min_confidence)) fc.min_confidence = o->min_confidence;
    FER_CHECK(fc.detector != "mmod" || !fc.mmod_model.empty(), UsageError,
              "--detector mmod needs --mmod-model PATH (dlib's mmod_human_face_detector.dat; it is not packaged)");
    fc = config::parse_face_config(config::face_to_json(fc), "fer infer options");
    spdlog::info("faces: detector {}{}, align {}, crop {} px{}", fc.detector,
                 fc.detector == "none" || fc.detect_max_side == 0
                     ? ""
                     : fmt::format(" (on frames scaled to at most {} px)", fc.detect_max_side),
                 fc.align, fc.size > 0 ? fc.size : predictor.config().preprocess.size,
                 fc.detector == "none" ? " (each input is one face crop)" : "");

    infer::AnalyzerOptions aopt;
    aopt.tta = augment::parse_tta(o->tta, "--tta");
    aopt.smooth = o->smooth;
    aopt.geometry = o->geometry;
    aopt.redetect_every = o->redetect;
    // One analyzer (it loads the models once); tracking is switched on, and reset, per video.
    infer::FaceAnalyzer analyzer(predictor, fc, aopt);

    std::vector<std::string> failures;
    std::vector<Source> sources = collect_sources(o->inputs, failures);
    for (int c : o->cameras) sources.push_back({fmt::format("camera:{}", c), true, c});

    Sink sink(classes, o->geometry);
    if (to_json) sink.open_json(o->json);
    if (to_csv) sink.open_csv(o->csv);
    if (!to_json && !to_csv) sink.table_on();
    if (!o->annotate.empty()) fs::create_directories(o->annotate);
    if (!o->crops.empty()) fs::create_directories(o->crops);
    NameBook annotate_names;
    NameBook crop_names;

    g_stop = false;
    catch_stop_signals(g_stop);  // Ctrl-C / SIGTERM: finish this frame, write the outputs, end by the signal
    const auto t_start = std::chrono::steady_clock::now();  // models loaded: the loop alone is timed
    size_t images = 0, videos = 0, frames = 0, faces = 0, faceless_frames = 0;
    const char* window = "fer infer";

    auto save_crop = [&](const std::string& stem, const infer::FaceResult& r) -> std::string {
      if (o->crops.empty()) return "";
      const std::string path = crop_names.take(o->crops, fmt::format("{}_face{}", stem, r.index), ".png");
      FER_CHECK(cv::imwrite(path, r.crop), IoError, "{}: cannot write image", path);
      return path;
    };

    for (const Source& src : sources) {
      if (g_stop) break;
      const std::string stem = src.camera >= 0 ? fmt::format("camera{}", src.camera) : fs::path(src.name).stem().string();
      try {
        if (!src.video) {
          // DataError (over the pixel limit, a truncated JPEG): a failure of this source, below
          cv::Mat img = io::read_image(src.name, cv::IMREAD_COLOR);
          if (img.empty()) {
            failures.push_back(src.name + ": cannot decode image (corrupt, or not an image or video OpenCV can read)");
            spdlog::error("{}", failures.back());
            continue;
          }
          ++images;
          analyzer.set_tracking(false);
          auto results = analyzer.analyze(img);
          if (results.empty()) {
            failures.push_back(src.name + ": no face found");
            spdlog::warn("{}", failures.back());
          }
          for (const auto& r : results) sink.face(src.name, -1, 0.0, r, save_crop(stem, r), false);
          faces += results.size();
          if (!o->annotate.empty()) {
            cv::Mat canvas = img.clone();
            face::draw_faces(canvas, overlays(results, classes));
            const std::string path = annotate_names.take(o->annotate, stem, ".png");
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
          failures.push_back(src.camera >= 0 ? fmt::format("camera {}: cannot be opened (is it connected, and is /dev/video{} readable?)", src.camera, src.camera)
                                             : src.name + ": cannot open as a video (corrupt, or a codec OpenCV lacks)");
          spdlog::error("{}", failures.back());
          continue;
        }
        io::check_frame_pixels(src.camera >= 0 ? fmt::format("camera {}", src.camera) : src.name,
                               static_cast<int64_t>(cap.get(cv::CAP_PROP_FRAME_WIDTH)),
                               static_cast<int64_t>(cap.get(cv::CAP_PROP_FRAME_HEIGHT)));
        ++videos;
        analyzer.set_tracking(true);  // new ids for every video
        double fps = cap.get(cv::CAP_PROP_FPS);
        if (!(fps > 0.0 && fps < 1000.0)) fps = 0.0;
        cv::VideoWriter writer;
        std::string writer_path;
        cv::Mat frame;
        int64_t index = -1, analysed = 0, with_face = 0;
        auto t_last = std::chrono::steady_clock::now();
        double shown_fps = 0.0;
        while (!g_stop && (o->max_frames == 0 || analysed < o->max_frames)) {
          if (!cap.read(frame) || frame.empty()) break;
          ++index;
          if (index % o->every != 0) continue;
          ++analysed;
          const double time = fps > 0.0 ? static_cast<double>(index) / fps : cap.get(cv::CAP_PROP_POS_MSEC) / 1000.0;
          auto results = analyzer.analyze(frame);
          if (results.empty()) ++faceless_frames; else ++with_face;
          for (const auto& r : results) {
            sink.face(src.name, index, time, r, save_crop(fmt::format("{}_f{:06d}", stem, index), r), o->smooth > 0.0);
          }
          faces += results.size();
          if (!o->annotate.empty() || o->show) {
            cv::Mat canvas = frame.clone();
            face::draw_faces(canvas, overlays(results, classes));
            const auto now = std::chrono::steady_clock::now();
            const double dt = std::chrono::duration<double>(now - t_last).count();
            t_last = now;
            if (dt > 0) shown_fps = shown_fps == 0.0 ? 1.0 / dt : 0.9 * shown_fps + 0.1 / dt;
            if (!o->annotate.empty()) {
              if (!writer.isOpened()) {
                writer_path = annotate_names.take(o->annotate, stem, ".avi");
                const double out_fps = fps > 0.0 ? fps / o->every : 10.0;
                writer.open(writer_path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), out_fps, canvas.size());
                FER_CHECK(writer.isOpened(), IoError, "{}: cannot open for writing (MJPG AVI)", writer_path);
              }
              writer.write(canvas);
            }
            if (o->show) {
              face::draw_banner(canvas, fmt::format("{:.1f} fps  frame {}", shown_fps, index));
              cv::imshow(window, canvas);
              const int key = cv::waitKey(1);
              if (key == 'q' || key == 27) g_stop = true;
            }
          }
        }
        frames += static_cast<size_t>(analysed);
        if (analysed == 0) {
          failures.push_back(src.name + ": no frame could be decoded");
          spdlog::error("{}", failures.back());
        } else if (with_face == 0) {
          failures.push_back(fmt::format("{}: no face found in {} analysed frame(s)", src.name, analysed));
          spdlog::warn("{}", failures.back());
        } else {
          spdlog::info("{}: {} frame(s) analysed, {} with faces{}", src.name, analysed, with_face,
                       writer_path.empty() ? "" : ", annotated video " + writer_path);
        }
      } catch (const DataError& e) {
        const std::string what = e.what();
        failures.push_back(what.rfind(src.name, 0) == 0 ? what : src.name + ": " + what);
        spdlog::error("{}", failures.back());
      } catch (const cv::Exception& e) {
        failures.push_back(src.name + ": OpenCV: " + e.what());
        spdlog::error("{}", failures.back());
      }
    }
    if (o->show) cv::destroyAllWindows();
    sink.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    spdlog::info("{} image(s), {} video/camera stream(s) ({} frame(s) analysed, {} without a face): {} face(s) "
                 "classified, {} failure(s){}; {:.2f} s, {:.2f} images+frames/s, {:.1f} faces/s",
                 images, videos, frames, faceless_frames, faces, failures.size(), g_stop ? " (stopped early)" : "",
                 seconds, seconds > 0 ? static_cast<double>(images + frames) / seconds : 0.0,
                 seconds > 0 ? static_cast<double>(faces) / seconds : 0.0);
    for (const auto& f : failures) spdlog::error("failed: {}", f);
    return failures.empty() ? 0 : 1;
  };
}

}  // namespace fer::app
