#include "fer/core/io.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "fer/core/error.hpp"
#include "test_util.hpp"

TEST(Io, AtomicWriteReplacesWholeFileAndLeavesNoTemp) {
  fer::test::TempDir dir;
  const std::string p = dir.str("a.txt");
  fer::write_file_atomic(p, "first");
  fer::write_file_atomic(p, "second");
  EXPECT_EQ(fer::read_file(p), "second");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) { (void)e; ++files; }
  EXPECT_EQ(files, 1);
}

TEST(Io, ReadMissingFileNamesIt) {
  try {
    fer::read_file("/nonexistent/x.json");
    FAIL() << "expected IoError";
  } catch (const fer::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.json"), std::string::npos);
  }
}

TEST(Io, WriteIntoMissingFolderFails) {
  EXPECT_THROW(fer::write_file_atomic("/nonexistent/dir/x", "x"), fer::IoError);
}

TEST(Io, ImageFileByExtensionInAnyCase) {
  for (const char* p : {"a.png", "dir/b.JPG", "c.jpeg", "d.Tiff", "e.webp", "f.pgm", "g.jp2", "h.bmp"})
    EXPECT_TRUE(fer::is_image_file(p)) << p;
  for (const char* p : {"a.txt", "b.png.tmp", "c", "d.csv", ".png", "e.mp4", "dir.png/f"})
    EXPECT_FALSE(fer::is_image_file(p)) << p;
}
