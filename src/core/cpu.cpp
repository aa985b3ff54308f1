#include "fer/core/cpu.hpp"

#include <algorithm>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace fer {

int cpu_count() { return static_cast<int>(std::max(1U, std::thread::hardware_concurrency())); }

Bf16Support cpu_bf16_support() {
  Bf16Support s;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return s;
  __cpuid_count(7, 0, a, b, c, d);
  s.amx_bf16 = (d >> 22) & 1U;       // leaf 7.0 EDX bit 22: AMX-BF16
  const unsigned max_sub = a;
  if (max_sub >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    s.avx512_bf16 = (a >> 5) & 1U;   // leaf 7.1 EAX bit 5: AVX512_BF16
  }
#endif
  return s;
}

}  // namespace fer
