#pragma once
// Faces in photos, folders, video files and cameras (fer infer with a single-image model): the
// inputs found and typed, every image and analysed frame run through a FaceAnalyzer, the results
// streamed to a FaceWriter, annotated copies, face crops and a live window. No torch here.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/infer/analyzer.hpp"
#include "fer/infer/output.hpp"

namespace fer::infer {

/// One input: an image or video file, or a camera.
struct Source {
  std::string name;  ///< file path, or "camera:N"
  bool video = false;
  int camera = -1;  ///< >= 0 for a camera
};

/// The files and folders given, folders expanded (recursively, sorted; images and videos by
/// extension). A file of unknown extension is an image when its header says so or OpenCV decodes
/// it, else a video. Paths that do not exist and folders without images or videos are appended
/// to `failures` ("PATH: why"); nothing throws.
std::vector<Source> collect_sources(const std::vector<std::string>& paths, std::vector<std::string>& failures);
/// Camera `index` ("camera:N").
Source camera_source(int index);

/// A checkpoint's face settings after a caller's overrides, validated as a config's face section
/// is (ConfigError naming `origin`); the mmod detector without its model file is a UsageError.
config::FaceConfig checked_face_config(const config::FaceConfig& fc, const std::string& origin);

/// UsageError unless a window can be shown (DISPLAY or WAYLAND_DISPLAY set): call it before loading
/// models when a session will `show`.
void require_display();

struct SessionOptions {
  int every = 1;             ///< videos and cameras: analyse every N-th frame (>= 1)
  int64_t max_frames = 0;    ///< videos and cameras: stop after this many analysed frames (0 = all)
  std::string annotate_dir;  ///< write each image / video with its overlays here ("" = no)
  std::string crops_dir;     ///< write each aligned face crop here ("" = no)
  bool show = false;         ///< show videos and cameras in a window (q or Esc stops)
  /// Set from a signal handler (and by q / Esc in the window): the frame in hand is finished and
  /// written, then nothing further is read. May be null.
  std::atomic<bool>* stop = nullptr;
};

struct SessionSummary {
  size_t images = 0, videos = 0;     ///< sources read (a camera counts as a video)
  size_t frames = 0;                 ///< video frames analysed
  size_t faceless_frames = 0;        ///< analysed frames without a face
  size_t faces = 0;                  ///< faces classified
  double seconds = 0.0;              ///< wall time of the loop (models already loaded)
  bool stopped = false;              ///< `stop` came before the end
  std::vector<std::string> failures; ///< "SOURCE: why" for every source that gave no result (also logged)
};

/// Runs every source through `analyzer` in order and writes each face to `out` (tracking on and
/// reset for each video or camera, off for images). A source that cannot be read or decoded,
/// has no face, or breaks a pixel limit is a failure of that source, and the next one goes on.
/// Throws IoError when an output file cannot be written, UsageError for `show` without a display.
/// `out` is finished (its files renamed into place) before returning.
SessionSummary run_session(FaceAnalyzer& analyzer, const std::vector<Source>& sources, const SessionOptions& o,
                           FaceWriter& out);

}  // namespace fer::infer
