#pragma once
// How many threads "all cores" means: the one place that reads std::thread::hardware_concurrency,
// which may return 0 when the count is unknown.

namespace fer {

/// The number of hardware threads, at least 1.
int cpu_count();
/// `requested` when it is positive, else cpu_count(): the rule of every threads/workers option.
inline int threads_or_all(int requested) { return requested > 0 ? requested : cpu_count(); }

/// The CPU's native bfloat16 arithmetic, from CPUID: AVX512-BF16 (dot products of bf16 pairs) and
/// AMX-BF16 (tile matrix multiply). Without either, bf16 kernels convert to fp32 and run slower
/// than fp32 itself. Both false on non-x86 hosts.
struct Bf16Support {
  bool avx512_bf16 = false;
  bool amx_bf16 = false;
  bool native() const { return avx512_bf16 || amx_bf16; }
};
Bf16Support cpu_bf16_support();

}  // namespace fer
