#pragma once
// Procedural face generator: the built-in demo dataset and the test fixture. Faces are drawn
// with OpenCV; mouth, brows and eyes change with the class; pose, scale, lighting and noise
// are random, so no two images are alike. Written as an image-folder dataset.
#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fer::data {

/// Options of `fer synth`.
struct SynthOptions {
  std::string out;       ///< output root; <out>/<class>/<class>_<n>.png
  int classes = 7;       ///< 2..7, the first N of synth_class_names()
  int per_class = 200;   ///< images per class
  int size = 64;         ///< side in pixels
  uint64_t seed = 42;
  bool gray = true;      ///< write 1-channel images (else BGR with skin tones)
  int threads = 0;       ///< worker threads; 0 = hardware_concurrency (output does not depend on it)

  // ---- paired visible + infrared output (fer synth --modalities visible,infrared) ----
  /// Empty (default): the single image folder above. Else the modalities to write, each one of
  /// "visible" (the image above) and "infrared" (render_synthetic_thermal of the same face),
  /// as a paired_folder dataset: <out>/<dir>/<class>/<class>_<n><suffix>.png (modality_first)
  /// or <out>/<class>/<dir>/<class>_<n><suffix>.png (class_first).
  std::vector<std::string> modalities;
  std::string layout = "modality_first";   ///< modality_first | class_first
  std::vector<std::string> modality_dirs;  ///< folder of each modality; empty = the modality names
  std::vector<std::string> suffixes;       ///< file-stem suffix of each modality (e.g. _vis,_ir); empty = none
  /// Each modality holds half of the class: 4 classes (synth_split_signal_class_names) =
  /// 2 visible expressions (happy, sad) x 2 thermal patterns ("forehead": hot forehead, cold
  /// nose; "nose": cool forehead, hot nose). The visible image shows only the expression, the
  /// thermal image only the pattern (its face is drawn neutral), so either modality alone can
  /// tell 2 of the 4 classes apart (50 % at best) and only both together all 4.
  /// Requires both modalities; `classes` is ignored.
  bool split_signal = false;
};

/// The class names in generator order: angry disgust fear happy sad surprise neutral.
const std::vector<std::string>& synth_class_names();

/// Class names of split-signal datasets: happy_forehead happy_nose sad_forehead sad_nose.
const std::vector<std::string>& synth_split_signal_class_names();

/// Renders one face of class `cls` (0..6); the same (cls, size, seed, gray) gives the same image.
cv::Mat render_synthetic_face(int cls, int size, uint64_t seed, bool gray = true);

/// The infrared (thermal, 8-bit 1-channel) image of the face render_synthetic_face(cls, size,
/// seed) draws: same person and pose; cool background and hair, warm skin, hot inner eye
/// corners, forehead, nostrils and mouth (its shape follows the expression), strongly blurred,
/// with smooth noise and a random gain. `pattern` 0 / 1 = the split-signal patterns
/// ("forehead" / "nose"), drawn on a neutral face; -1 = ordinary (expression visible).
cv::Mat render_synthetic_thermal(int cls, int size, uint64_t seed, int pattern = -1);

/// Writes the dataset; returns the number of files written. Refuses (IoError) to write into a
/// non-empty folder that was not made by synth; files appear atomically (tmp + rename).
int write_synthetic_dataset(const SynthOptions& opts);

}  // namespace fer::data
