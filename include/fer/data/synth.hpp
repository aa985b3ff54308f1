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
};

/// The class names in generator order: angry disgust fear happy sad surprise neutral.
const std::vector<std::string>& synth_class_names();

/// Renders one face of class `cls` (0..6); the same (cls, size, seed, gray) gives the same image.
cv::Mat render_synthetic_face(int cls, int size, uint64_t seed, bool gray = true);

/// Writes the dataset; returns the number of files written. Refuses (IoError) to write into a
/// non-empty folder that was not made by synth; files appear atomically (tmp + rename).
int write_synthetic_dataset(const SynthOptions& opts);

}  // namespace fer::data
