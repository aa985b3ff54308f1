#include "fer/core/cpu.hpp"

#include <algorithm>
#include <thread>

namespace fer {

int cpu_count() { return static_cast<int>(std::max(1U, std::thread::hardware_concurrency())); }

}  // namespace fer
