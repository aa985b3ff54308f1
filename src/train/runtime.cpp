#include "fer/train/runtime.hpp"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <fstream>
#include <regex>

#include "fer/core/cpu.hpp"
#include "fer/core/error.hpp"

namespace fer::train {

int configure_threads(int threads) {
  at::set_num_threads(threads_or_all(threads));
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

std::string torch_version() { return TORCH_VERSION; }

std::string host_description() {
  // /proc/cpuinfo's first processor: "model name" alone is often just "AMD EPYC" under a
  // hypervisor, so the family and model numbers go with it (25/1 and 25/17 are different chips).
  std::string name, family, model;
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line) && !line.empty();) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name") name = value;
    else if (key == "cpu family") family = value;
    else if (key == "model") model = value;
  }
  std::string cpu = name.empty() ? "unknown CPU" : name;
  if (!family.empty() && !model.empty()) cpu += fmt::format(" (family {} model {})", family, model);
  // The kernels LibTorch dispatches to (DEFAULT, AVX2, AVX512): results and speed depend on them.
  static const std::regex cap_re("CPU capability usage: ([A-Za-z0-9_]+)");
  const std::string config = at::show_config();
  std::smatch m;
  const std::string kernels = std::regex_search(config, m, cap_re) ? m[1].str() : std::string("unknown");
  return fmt::format("{}, {} cores, {} kernels", cpu, cpu_count(), kernels);
}

}  // namespace fer::train
