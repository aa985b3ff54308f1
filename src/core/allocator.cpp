#include "fer/core/allocator.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fer {

void tune_allocator() {
#if defined(__GLIBC__)
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return;
  mallopt(M_MMAP_MAX, 0);              // large blocks from the heap, not fresh mappings
  // Never give the heap top back (-1 disables trimming, see mallopt(3)). A bound of 1 GiB was
  // too low: an evaluation pass frees more than that at its end, glibc trimmed it, and the next
  // pass faulted it all in again (ten-crop/flip evaluation on 2 cores: 1.5 M page faults and
  // 13.9 s of system time where never trimming gives 0.39 M and 3.5 s, the same numbers).
  mallopt(M_TRIM_THRESHOLD, -1);
  mallopt(M_TOP_PAD, 64 << 20);        // grow the heap in 64 MiB steps
#endif
}

}  // namespace fer
