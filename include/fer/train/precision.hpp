#pragma once
// Numeric precision of training and inference (no torch in this header): fp32, or bf16 / fp16
// mixed precision, where convolutions and matrix multiplies run in the lower precision under
// autocast while the weights, the optimiser state, the loss and the checkpoints stay fp32.
#include <string>
#include <vector>

namespace fer::train {

/// The values train.precision and every --precision take: fp32, bf16, fp16.
const std::vector<std::string>& precision_names();

/// Refuses a precision the device cannot run (a ConfigError naming `what`, e.g. "--precision",
/// and the reason: fp16 needs CUDA; bf16 on CUDA needs a GPU that has it) and returns a warning,
/// "" when none, for one that runs slowly: bf16 on a CPU without AVX512-BF16 or AMX-BF16, where
/// every bf16 kernel converts to fp32 and back.
std::string check_precision(const std::string& precision, const std::string& device, const std::string& what);

/// "bf16 (AVX512-BF16)" and the like, for logs and run records.
std::string describe_precision(const std::string& precision, const std::string& device);

/// Autocast for the forward passes run in its scope on this thread ("fp32": nothing). Nested
/// scopes restore what was there before.
class AutocastScope {
 public:
  AutocastScope(const std::string& precision, const std::string& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  int was_dtype_ = 0;  // an at::ScalarType
};

}  // namespace fer::train
