#include "fer/core/cpu.hpp"

#include <gtest/gtest.h>

#include <thread>

TEST(Cpu, CountIsTheHardwareCountAndAtLeastOne) {
  const unsigned hw = std::thread::hardware_concurrency();
  EXPECT_EQ(fer::cpu_count(), hw == 0 ? 1 : static_cast<int>(hw));
}

TEST(Cpu, ThreadsOrAllKeepsAPositiveRequestElseAllCores) {
  EXPECT_EQ(fer::threads_or_all(3), 3);
  EXPECT_EQ(fer::threads_or_all(1), 1);
  EXPECT_EQ(fer::threads_or_all(0), fer::cpu_count());
  EXPECT_EQ(fer::threads_or_all(-1), fer::cpu_count());
}
