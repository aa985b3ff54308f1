#include "fer/train/precision.hpp"

#include <ATen/autocast_mode.h>
#include <fmt/format.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>

#include "fer/core/cpu.hpp"
#include "fer/core/error.hpp"

namespace fer::train {
namespace {

bool is_cuda(const std::string& device) { return device.rfind("cuda", 0) == 0; }

// LibTorch 2.4 replaced the per-device autocast functions with ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
at::ScalarType autocast_dtype(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_autocast(bool cuda, bool enabled, at::ScalarType dtype) {
  at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, enabled);
  at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, dtype);
}
#else
bool autocast_enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
at::ScalarType autocast_dtype(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast(bool cuda, bool enabled, at::ScalarType dtype) {
  if (cuda) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
}
#endif

}  // namespace

const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names = {"fp32", "bf16", "fp16"};
  return names;
}

std::string check_precision(const std::string& precision, const std::string& device, const std::string& what) {
  const auto& names = precision_names();
  FER_CHECK(std::find(names.begin(), names.end(), precision) != names.end(), ConfigError,
            "{}: expected \"fp32\", \"bf16\" or \"fp16\", got \"{}\"", what, precision);
  if (precision == "fp32") return "";
  if (is_cuda(device)) {
    if (precision == "bf16") {
      FER_CHECK(torch::cuda::is_available(), ConfigError, "{}: bf16 on {}: LibTorch sees no CUDA device", what,
                device);
    }
    return "";
  }
  FER_CHECK(precision != "fp16", ConfigError,
            "{}: fp16 mixed precision needs a CUDA device (device {}); on a CPU use bf16, which keeps fp32's "
            "range and needs no loss scaling",
            what, device);
  if (!cpu_bf16_support().native()) {
    return fmt::format("{}: bf16 on this CPU will be slow: it has neither AVX512-BF16 nor AMX-BF16, so every bf16 "
                       "kernel converts to fp32 and back (use fp32 here)",
                       what);
  }
  return "";
}

std::string describe_precision(const std::string& precision, const std::string& device) {
  if (precision == "fp32" || is_cuda(device)) return precision;
  const Bf16Support s = cpu_bf16_support();
  if (precision != "bf16") return precision;
  return s.amx_bf16 ? "bf16 (AMX-BF16)" : s.avx512_bf16 ? "bf16 (AVX512-BF16)" : "bf16 (no bf16 instructions: emulated)";
}

AutocastScope::AutocastScope(const std::string& precision, const std::string& device) {
  if (precision == "fp32") return;
  cuda_ = is_cuda(device);
  was_enabled_ = autocast_enabled(cuda_);
  was_dtype_ = static_cast<int>(autocast_dtype(cuda_));
  set_autocast(cuda_, true, precision == "fp16" ? at::kHalf : at::kBFloat16);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();  // casts of the weights
  set_autocast(cuda_, was_enabled_, static_cast<at::ScalarType>(was_dtype_));
}

}  // namespace fer::train
