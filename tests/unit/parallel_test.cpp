// The library's one worker pool and progress line (fer/core/parallel.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fer/core/parallel.hpp"

namespace fer {
namespace {

TEST(ParallelFor, EveryIndexOnceOnAtMostNThreads) {
  for (int threads : {1, 2, 4, 0}) {
    std::vector<std::atomic<int>> hits(1000);
    std::mutex m;
    std::set<int> workers;
    const int used = parallel_for(hits.size(), threads, [&](size_t i, int w) {
      ++hits[i];
      std::lock_guard<std::mutex> lock(m);
      workers.insert(w);
    });
    for (const auto& h : hits) ASSERT_EQ(h.load(), 1) << threads << " thread(s)";
    EXPECT_GE(used, 1);
    if (threads > 0) EXPECT_EQ(used, threads);
    for (int w : workers) EXPECT_TRUE(w >= 0 && w < used) << w;
  }
  EXPECT_EQ(parallel_for(3, 8, [](size_t, int) {}), 3) << "no more threads than indices";
  int calls = 0;
  EXPECT_EQ(parallel_for(0, 4, [&](size_t, int) { ++calls; }), 1);
  EXPECT_EQ(calls, 0);
}

TEST(ParallelFor, TheLowestFailingIndexIsRethrownWhateverTheTiming) {
  for (int round = 0; round < 20; ++round) {
    try {
      parallel_for(200, 4, [&](size_t i, int) {
        // Later indices fail sooner: a pool that reported the first error in time would say 90.
        if (i == 40) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          throw std::runtime_error("index 40");
        }
        if (i == 90) throw std::runtime_error("index 90");
      });
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "index 40");
    }
  }
  // On one thread, nothing after the failing index starts.
  size_t last = 0;
  EXPECT_THROW(parallel_for(200, 1, [&](size_t i, int) {
    last = i;
    if (i == 40) throw std::runtime_error("index 40");
  }), std::runtime_error);
  EXPECT_EQ(last, 40u);
}

TEST(ParallelFor, StopEndsEarlyWithoutError) {
  std::atomic<bool> stop{false};
  std::atomic<int> done{0};
  parallel_for(10000, 2, [&](size_t i, int) {
    if (i == 100) stop = true;
    ++done;
  }, &stop);
  EXPECT_GE(done.load(), 101);
  EXPECT_LT(done.load(), 10000);
}

TEST(ProgressLine, WritesNothingWhenStderrIsNotATerminal) {
  testing::internal::CaptureStderr();  // stderr becomes a file, as in a log or a pipe
  {
    ProgressLine line(true, std::chrono::milliseconds(0));
    EXPECT_FALSE(line.enabled());
    line.show("aligned 1/2");
    line.show("aligned 2/2", true);
    line.finish(true);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ProgressLine off(false);
  EXPECT_FALSE(off.enabled());
}

}  // namespace
}  // namespace fer
