#pragma once
// fer align: offline detection + alignment of an image-folder dataset (ROOT/<class>/<file>),
// in parallel, incremental, with a manifest CSV. No torch.
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "fer/config/config.hpp"

namespace fer::face {

struct AlignFolderOptions {
  std::string in;                  ///< raw dataset root (class folders; files directly in it also work)
  std::string out;                 ///< aligned dataset root (same class folders)
  config::FaceConfig face;         ///< detector, landmarks, alignment; face.size is the output side
  int size = 96;                   ///< output side when face.size is 0
  bool gray = false;               ///< write 1-channel images
  std::string no_face = "skip";    ///< skip | center (keep a centred square crop of the whole image)
  std::string multi = "largest";   ///< largest | all (file_0.png, file_1.png, ...)
  int threads = 0;                 ///< 0 = all cores
  bool progress = true;            ///< a progress line on stderr
  bool force = false;              ///< redo everything, even when fer_align.json has other settings
  /// Set (e.g. on SIGINT) to stop early; the manifest keeps what was done.
  const std::atomic<bool>* stop = nullptr;
};

/// One manifest row per source image (and per face with multi "all").
struct AlignRecord {
  std::string source;       ///< path relative to `in`
  int faces_found = 0;
  int face_index = -1;      ///< which face this row is (-1: none)
  std::string box;          ///< "x y w h" of the chosen box ("" when none)
  bool landmarks_ok = false;
  std::string output;       ///< path relative to `out` ("" when skipped)
  std::string status;       ///< aligned | box | center | skipped_no_face | error: <message>
};

struct AlignSummary {
  size_t images = 0;        ///< source images seen
  size_t done_before = 0;   ///< already aligned by an earlier run (not redone)
  size_t aligned = 0;       ///< written this run
  // no_face and multi_face count every current image, those done by earlier runs too.
  size_t no_face = 0;       ///< no face found (skipped or centre-cropped, per policy)
  size_t multi_face = 0;    ///< more than one face found
  size_t failed = 0;        ///< unreadable images and other errors
  std::vector<std::string> failures;  ///< "<file>: <why>"
  size_t outputs = 0;       ///< image files written this run (several per source with multi "all")
  bool interrupted = false; ///< opts.stop was set before every image was done
  std::string manifest;     ///< path of the manifest written
};

/// Aligns every image under opts.in into opts.out, writing opts.out/manifest.csv (merged with the
/// rows of an earlier run) and opts.out/fer_align.json (the face settings, so training and
/// inference can use the same alignment). Images whose manifest rows and output files already
/// exist are not redone.
AlignSummary align_folder(const AlignFolderOptions& opts);

}  // namespace fer::face
