// fer align: offline face detection + alignment of an image-folder dataset.
#include <spdlog/spdlog.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/face/align_folder.hpp"
#include "interrupt.hpp"

namespace fer::app {
namespace {
std::atomic<bool> g_stop{false};

}  // namespace

Runner add_align(CLI::App& app) {
  auto* sub =
      app.add_subcommand("align",
                         "Detect and align the faces of an image-folder dataset (IN/<class>/<image> -> "
                         "OUT/<class>/<image>.png), "
                         "in parallel and incrementally, with OUT/manifest.csv and OUT/fer_align.json");
  struct Opts {
    face::AlignFolderOptions a;
    std::string face_config;
    std::string detector, align, landmark_model, mmod_model, haar_cascade;
    double eye_x = 0.35, eye_y = 0.35, padding = 0.1, min_confidence = 0.0;
    int upsample = 1, min_face = 20, detect_max_side = 1024;
    bool no_progress = false;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("-i,--in", o->a.in, "Folder of raw images (class folders inside), walked recursively")
      ->required();
  sub->add_option("-o,--out", o->a.out, "Folder for the aligned images (must not be inside --in)")
      ->required();
  auto* size = sub->add_option("--size", o->a.size, "Side of the aligned square images")
                   ->check(CLI::Range(8, 1024))
                   ->capture_default_str();
  sub->add_option(
         "--face-config", o->face_config,
         "JSON file with face settings (FaceConfig keys, or an object with a \"face\" section such as "
         "fer_align.json); the flags below override it")
      ->check(CLI::ExistingFile);
  auto* detector = sub->add_option("--detector", o->detector, "hog | haar | mmod | none (default hog)")
                       ->check(CLI::IsMember({"hog", "haar", "mmod", "none"}));
  auto* align =
      sub->add_option("--align", o->align, "eyes (rotate and scale on the eye centres) | box (default eyes)")
          ->check(CLI::IsMember({"eyes", "box"}));
  auto* eye_x =
      sub->add_option("--eye-x", o->eye_x, "Left eye centre at this fraction of the side (default 0.35)");
  auto* eye_y = sub->add_option("--eye-y", o->eye_y, "Eye line at this fraction of the side (default 0.35)");
  auto* padding =
      sub->add_option("--padding", o->padding, "Box crops: margin, fraction of the box side (default 0.1)");
  auto* upsample =
      sub->add_option("--upsample", o->upsample, "Image doublings before detection, 0..3 (default 1)");
  auto* min_face =
      sub->add_option("--min-face", o->min_face, "Ignore faces smaller than this many pixels (default 20)");
  auto* max_side = sub->add_option("--detect-max-side", o->detect_max_side,
                                   "Detect on a copy scaled down to this longer side, in pixels; 0 = full size "
                                   "(default 1024); landmarks and crops use the full image");
  auto* min_conf = sub->add_option("--min-confidence", o->min_confidence,
                                   "Ignore detections scoring below this (detector's own scale; default 0)");
  auto* landmarks = sub->add_option("--landmark-model", o->landmark_model,
                                    "dlib's shape_predictor_68_face_landmarks.dat (Debian: libdlib-data)");
  auto* mmod =
      sub->add_option("--mmod-model", o->mmod_model, "dlib's mmod_human_face_detector.dat (--detector mmod)");
  auto* haar =
      sub->add_option("--haar-cascade", o->haar_cascade, "OpenCV Haar cascade XML (--detector haar)");
  sub->add_flag("--gray", o->a.gray, "Write 1-channel images");
  sub->add_option("--no-face", o->a.no_face,
                  "No face found: skip the image, or center (keep a centred square crop of it)")
      ->check(CLI::IsMember({"skip", "center"}))
      ->capture_default_str();
  sub->add_option("--multi", o->a.multi,
                  "Several faces: keep the largest (<name>.png), or all (<name>_0.png largest first, ...)")
      ->check(CLI::IsMember({"largest", "all"}))
      ->capture_default_str();
  sub->add_option("--threads", o->a.threads, "Worker threads, each with its own detector (0 = all cores)")
      ->check(whole_number(0));
  sub->add_flag("--force", o->a.force,
                "Redo every image, replacing an earlier alignment of --out made with other settings");
  sub->add_flag("--no-progress", o->no_progress, "No progress line");

  return [o, size, detector, align, eye_x, eye_y, padding, upsample, min_face, max_side, min_conf,
          landmarks, mmod, haar]() {
    face::AlignFolderOptions a = o->a;
    config::FaceConfig f;
    if (!o->face_config.empty()) f = config::load_face_config(o->face_config);
    if (detector->count()) f.detector = o->detector;
    if (align->count()) f.align = o->align;
    if (eye_x->count()) f.eye_x = o->eye_x;
    if (eye_y->count()) f.eye_y = o->eye_y;
    if (padding->count()) f.box_padding = o->padding;
    if (upsample->count()) f.upsample = o->upsample;
    if (min_face->count()) f.min_face = o->min_face;
    if (max_side->count()) f.detect_max_side = o->detect_max_side;
    if (min_conf->count()) f.min_confidence = o->min_confidence;
    if (landmarks->count()) f.landmark_model = o->landmark_model;
    if (mmod->count()) f.mmod_model = o->mmod_model;
    if (haar->count()) f.haar_cascade = o->haar_cascade;
    if (size->count() || f.size <= 0) f.size = o->a.size;
    a.face = config::parse_face_config(config::face_to_json(f), "the command line's face settings");
    a.progress = !o->no_progress;
    a.stop = &g_stop;
    catch_stop_signals(g_stop);

    spdlog::info("aligning {} -> {} ({} detector, align {}, {} px{})", a.in, a.out, a.face.detector,
                 a.face.align, a.face.size, a.gray ? ", gray" : "");
    const face::AlignSummary s = face::align_folder(a);
    const std::string no_face_policy = a.no_face == "center" ? "centre-cropped" : "skipped";
    const std::string multi_policy = a.multi == "all" ? "every face kept" : "largest kept";
    spdlog::info("images: {}, aligned now: {}, already done: {}, failed: {}", s.images, s.aligned,
                 s.done_before, s.failed);
    spdlog::info("no face: {} ({}), multiple faces: {} ({}), files written: {}", s.no_face, no_face_policy,
                 s.multi_face, multi_policy, s.outputs);
    spdlog::info("manifest: {}", s.manifest);
    for (const auto& failure : s.failures) spdlog::error("failed: {}", failure);
    if (s.interrupted) {
      spdlog::warn("interrupted: run the same command again to finish (done images are not redone)");
      return 1;
    }
    return s.failed == 0 ? 0 : 1;
  };
}

}  // namespace fer::app
