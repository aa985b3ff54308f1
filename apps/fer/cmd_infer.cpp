// fer infer: faces in photos, folders, video files and cameras -> detection, landmarks,
// alignment (as in training), classification; table / JSON lines / CSV, annotated copies,
// a live window (fer/infer/session.hpp). Fused visible + infrared models take pairs of face crops
// instead (fer/infer/paired.hpp). This file maps the flags to those two calls.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>

#include "commands.hpp"
#include "fer/core/error.hpp"
#include "fer/infer/analyzer.hpp"
#include "fer/infer/paired.hpp"
#include "fer/infer/predictor.hpp"
#include "fer/infer/session.hpp"
#include "fer/train/precision.hpp"
#include "fer/train/runtime.hpp"
#include "interrupt.hpp"

namespace fer::app {

namespace {

std::atomic<bool> g_stop{false};

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
    if (o->show) infer::require_display();
    train::configure_threads(o->threads);
    infer::Predictor predictor(infer::resolve_checkpoint(o->run, o->checkpoint), o->device, o->precision);
    const auto& classes = predictor.class_names();
    if (infer::is_fused_model(predictor.config())) {
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
      infer::PairedInferOptions po;
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
      return infer::infer_paired(predictor, po).empty() ? 0 : 1;
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
    fc = infer::checked_face_config(fc, "fer infer options");
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
    std::vector<infer::Source> sources = infer::collect_sources(o->inputs, failures);
    for (int cam : o->cameras) sources.push_back(infer::camera_source(cam));

    infer::FaceWriter out(classes, o->geometry, o->smooth > 0.0);
    if (to_json) out.open_json(o->json);
    if (to_csv) out.open_csv(o->csv);
    if (!to_json && !to_csv) out.table_on();
    infer::SessionOptions so;
    so.every = o->every;
    so.max_frames = o->max_frames;
    so.annotate_dir = o->annotate;
    so.crops_dir = o->crops;
    so.show = o->show;
    so.stop = &g_stop;
    g_stop = false;
    catch_stop_signals(g_stop);  // Ctrl-C / SIGTERM: finish this frame, write the outputs, end by the signal
    const infer::SessionSummary s = infer::run_session(analyzer, sources, so, out);
    failures.insert(failures.end(), s.failures.begin(), s.failures.end());
    spdlog::info("{} image(s), {} video/camera stream(s) ({} frame(s) analysed, {} without a face): {} face(s) "
                 "classified, {} failure(s){}; {:.2f} s, {:.2f} images+frames/s, {:.1f} faces/s",
                 s.images, s.videos, s.frames, s.faceless_frames, s.faces, failures.size(),
                 s.stopped ? " (stopped early)" : "", s.seconds,
                 s.seconds > 0 ? static_cast<double>(s.images + s.frames) / s.seconds : 0.0,
                 s.seconds > 0 ? static_cast<double>(s.faces) / s.seconds : 0.0);
    for (const auto& f : failures) spdlog::error("failed: {}", f);
    return failures.empty() ? 0 : 1;
  };
}

}  // namespace fer::app
