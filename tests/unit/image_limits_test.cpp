// The image pixel guard: headers read without decoding, oversized images refused by name.
#include "fer/core/image_limits.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "fer/core/error.hpp"
#include "test_util.hpp"

namespace {

void write_bytes(const std::string& path, const std::vector<unsigned char>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}

// A PNG whose IHDR declares width x height and whose data is cut short: what a decompression
// bomb looks like to a header reader (the real one is 431 KB of zlib-compressed zeros).
std::vector<unsigned char> png_declaring(uint32_t w, uint32_t h) {
  std::vector<unsigned char> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  for (uint32_t v : {w, h}) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
  }
  for (unsigned char c : {8, 0, 0, 0, 0}) b.push_back(c);  // 8-bit gray
  for (int i = 0; i < 4; ++i) b.push_back(0);               // CRC (not checked by the reader)
  return b;
}

}  // namespace

TEST(ImageLimits, HeadersOfEveryWrittenFormatGiveTheImageSize) {
  fer::test::TempDir dir;
  const cv::Mat img(37, 53, CV_8UC3, cv::Scalar(10, 200, 30));  // 53 wide, 37 high
  for (const char* ext : {".png", ".jpg", ".bmp", ".webp", ".tiff", ".pgm", ".ppm"}) {
    const std::string p = dir.str(std::string("a") + ext);
    cv::Mat src = img;
    if (std::string(ext) == ".pgm") cv::cvtColor(img, src, cv::COLOR_BGR2GRAY);
    if (!cv::imwrite(p, src)) {
      ADD_FAILURE() << "OpenCV cannot write " << ext;
      continue;
    }
    const auto h = fer::io::read_image_header(p);
    ASSERT_TRUE(h.has_value()) << ext;
    EXPECT_EQ(h->width, 53) << ext;
    EXPECT_EQ(h->height, 37) << ext;
  }
}

TEST(ImageLimits, GifAndUnknownFiles) {
  fer::test::TempDir dir;
  write_bytes(dir.str("a.gif"), {'G', 'I', 'F', '8', '9', 'a', 0x20, 0x03, 0x10, 0x00, 0, 0, 0});
  const auto h = fer::io::read_image_header(dir.str("a.gif"));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->width, 800);
  EXPECT_EQ(h->height, 16);
  write_bytes(dir.str("a.txt"), {'h', 'e', 'l', 'l', 'o'});
  EXPECT_FALSE(fer::io::read_image_header(dir.str("a.txt")).has_value());
  EXPECT_FALSE(fer::io::read_image_header(dir.str("missing.png")).has_value());
  fer::io::check_image_pixels(dir.str("a.txt"));  // unknown formats are left to the decoder
}

TEST(ImageLimits, AnOversizedHeaderIsRefusedByNameBeforeDecoding) {
  fer::test::TempDir dir;
  const std::string p = dir.str("bomb.png");
  write_bytes(p, png_declaring(20000, 20000));
  const std::string msg = fer::test::error_of<fer::DataError>([&] { fer::io::check_image_pixels(p); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("20000x20000"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--max-megapixels"), std::string::npos) << msg;
  // 4000 x 3000 (a 12 MP photo) is under the default 50 MP
  write_bytes(dir.str("photo.png"), png_declaring(4000, 3000));
  fer::io::check_image_pixels(dir.str("photo.png"));
}

TEST(ImageLimits, TheLimitCanBeRaisedAndLowered) {
  fer::test::TempDir dir;
  const std::string p = dir.str("wide.png");
  write_bytes(p, png_declaring(4000, 3000));
  const int64_t before = fer::io::max_image_pixels();
  EXPECT_EQ(before, 50'000'000);
  fer::io::set_max_image_pixels(10'000'000);
  EXPECT_THROW(fer::io::check_image_pixels(p), fer::DataError);
  EXPECT_THROW(fer::io::check_frame_pixels("camera 0", 4000, 3000), fer::DataError);
  fer::io::set_max_image_pixels(before);
  fer::io::check_image_pixels(p);
  // sizes whose product overflows 64 bits are still refused
  EXPECT_THROW(fer::io::check_frame_pixels("x", int64_t{1} << 40, int64_t{1} << 40), fer::DataError);
  EXPECT_THROW(fer::io::set_max_image_pixels(0), fer::ConfigError);
}

TEST(ImageLimits, ATruncatedJpegIsRefusedByNameAndAWholeOneIsNot) {  // also with data appended, as phones do
  fer::test::TempDir dir;
  const std::string whole = dir.str("whole.jpg"), cut = dir.str("cut.jpg");
  cv::Mat img(64, 64, CV_8UC3);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
  ASSERT_TRUE(cv::imwrite(whole, img));
  EXPECT_FALSE(fer::io::read_image(whole, cv::IMREAD_COLOR).empty());
  std::ifstream in(whole, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() * 2 / 3));
  const std::string msg = fer::test::error_of<fer::DataError>([&] { fer::io::read_image(cut, cv::IMREAD_COLOR); });
  EXPECT_HAS(msg, cut);
  EXPECT_HAS(msg, "truncated JPEG");
  // Data after the end-of-image marker (a phone's motion-photo video) is not truncation.
  std::vector<unsigned char> u(bytes.begin(), bytes.end());
  EXPECT_TRUE(fer::io::jpeg_complete(u));
  for (int i = 0; i < 10000; ++i) u.push_back(static_cast<unsigned char>(i * 7));
  EXPECT_TRUE(fer::io::jpeg_complete(u));
  // An EXIF thumbnail's own end marker before the main image's scan does not make a cut file whole.
  std::string t_bytes("\xFF\xD8\xFF\xE1\x00\x08\xFF\xD8\xFF\xD9", 10);
  t_bytes.append(bytes.data() + 2, bytes.size() * 2 / 3 - 2);
  const std::vector<unsigned char> t(t_bytes.begin(), t_bytes.end());
  EXPECT_FALSE(fer::io::jpeg_complete(t));
}
