// The library versions of run records and --version: LibTorch, OpenCV and dlib (kept apart from
// runtime.cpp, which tests/cuda builds on GPU machines without OpenCV and dlib).
#include <fmt/format.h>

#include <opencv2/core/version.hpp>

#include "fer/face/face.hpp"
#include "fer/train/runtime.hpp"

namespace fer::train {

std::string library_versions() {
  return fmt::format("LibTorch {}, OpenCV {}, dlib {}", torch_version(), CV_VERSION, face::dlib_version());
}

}  // namespace fer::train
