#include "fer/train/runtime.hpp"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <opencv2/core/version.hpp>
#include <regex>
#include <thread>

#include "fer/core/error.hpp"
#include "fer/face/face.hpp"

namespace fer::train {

int configure_threads(int threads) {
  const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  return at::get_num_threads();
}

std::string resolve_device(const std::string& requested) {
  static const std::regex re("auto|cpu|cuda(:[0-9]+)?");
  FER_CHECK(std::regex_match(requested, re), ConfigError,
            "device \"{}\": expected auto, cpu, cuda or cuda:N", requested);
  const bool have_cuda = torch::cuda::is_available();
  if (requested == "auto") return have_cuda ? "cuda:0" : "cpu";
  if (requested == "cpu") return "cpu";
  FER_CHECK(have_cuda, ConfigError, "device \"{}\": this LibTorch build has no CUDA or no GPU is visible",
            requested);
  const int index = requested == "cuda" ? 0 : std::stoi(requested.substr(5));
  const int count = static_cast<int>(torch::cuda::device_count());
  FER_CHECK(index < count, ConfigError, "device \"{}\": only {} CUDA device(s) visible", requested, count);
  return "cuda:" + std::to_string(index);
}

std::string library_versions() {
  return fmt::format("LibTorch {}, OpenCV {}, dlib {}", TORCH_VERSION, CV_VERSION, face::dlib_version());
}

}  // namespace fer::train
