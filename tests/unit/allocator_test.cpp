// fer::tune_allocator: large blocks come from the heap and stay in the process after free, so
// the next batch (or evaluation pass) does not fault its memory in again.
#include "fer/core/allocator.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

TEST(Allocator, LargeBlocksStayInTheHeapAfterFree) {
#if !defined(__GLIBC__) || defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "tune_allocator sets glibc's malloc only (a sanitizer brings its own)";
#else
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr)
    GTEST_SKIP() << "GLIBC_TUNABLES sets malloc options: tune_allocator leaves them";
  fer::tune_allocator();
  // 1.5 GiB: over the 1 GiB trim bound that used to hand a ten-crop pass's memory back to the
  // kernel. Never written, so it costs address space, not memory.
  constexpr size_t kBlock = size_t{3} << 29;
  void* block = std::malloc(kBlock);
  ASSERT_NE(block, nullptr);
  const struct mallinfo2 held = mallinfo2();
  EXPECT_LT(held.hblkhd, kBlock) << "the block was mapped with mmap instead of taken from the heap";
  EXPECT_GE(held.arena, kBlock);
  std::free(block);
  const struct mallinfo2 freed = mallinfo2();
  EXPECT_GE(freed.arena, kBlock) << "the heap was trimmed: the next pass would fault it in again";
  EXPECT_GE(freed.keepcost, kBlock) << "the freed block is not the reusable top of the heap";
#endif
}
