// Image header guard (see fer/core/image_limits.hpp).
#include "fer/core/image_limits.hpp"

#include <fmt/format.h>

#include <opencv2/imgcodecs.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "fer/core/error.hpp"

namespace fer::io {

namespace {

constexpr int64_t kDefaultPixels = 50'000'000;

int64_t initial_limit() {
  const char* env = std::getenv("FER_MAX_MEGAPIXELS");
  if (env == nullptr || *env == '\0') return kDefaultPixels;
  char* end = nullptr;
  const double mp = std::strtod(env, &end);
  if (end == env || *end != '\0' || !(mp > 0) || mp > 1e6) {
    throw ConfigError(fmt::format("FER_MAX_MEGAPIXELS={}: expected a number of megapixels in (0, 1000000]", env));
  }
  return static_cast<int64_t>(mp * 1e6);
}

std::atomic<int64_t>& limit() {
  static std::atomic<int64_t> value{initial_limit()};
  return value;
}

uint32_t be16(const unsigned char* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t le16(const unsigned char* p) { return (uint32_t{p[1]} << 8) | p[0]; }
uint32_t be32(const unsigned char* p) { return (be16(p) << 16) | be16(p + 2); }
uint32_t le32(const unsigned char* p) { return (le16(p + 2) << 16) | le16(p); }

std::optional<ImageHeader> jpeg_header(std::ifstream& in) {
  // Walk the markers after SOI to the first start-of-frame (SOF0..SOF15 but DHT, JPG and DAC).
  in.seekg(2);
  for (int guard = 0; guard < 4096; ++guard) {
    int c = in.get();
    while (c == 0xFF) c = in.get();  // fill bytes
    if (c == EOF) return std::nullopt;
    const int marker = c;
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // end, or scan data before any frame
    unsigned char len[2];
    if (!in.read(reinterpret_cast<char*>(len), 2)) return std::nullopt;
    const uint32_t n = be16(len);
    if (n < 2) return std::nullopt;
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      unsigned char sof[5];
      if (!in.read(reinterpret_cast<char*>(sof), 5)) return std::nullopt;
      return ImageHeader{"jpeg", be16(sof + 3), be16(sof + 1)};
    }
    in.seekg(n - 2, std::ios::cur);
  }
  return std::nullopt;
}

std::optional<ImageHeader> tiff_header(std::ifstream& in, bool le) {
  auto u16 = [&](const unsigned char* p) { return le ? le16(p) : be16(p); };
  auto u32 = [&](const unsigned char* p) { return le ? le32(p) : be32(p); };
  unsigned char b[4];
  in.seekg(4);
  if (!in.read(reinterpret_cast<char*>(b), 4)) return std::nullopt;
  in.seekg(u32(b));
  unsigned char cnt[2];
  if (!in.read(reinterpret_cast<char*>(cnt), 2)) return std::nullopt;
  const uint32_t entries = u16(cnt);
  int64_t w = 0, h = 0;
  for (uint32_t i = 0; i < entries && i < 1024; ++i) {
    unsigned char e[12];
    if (!in.read(reinterpret_cast<char*>(e), 12)) break;
    const uint32_t tag = u16(e), type = u16(e + 2);
    const uint32_t value = type == 3 ? u16(e + 8) : u32(e + 8);  // SHORT or LONG
    if (tag == 256) w = value;
    if (tag == 257) h = value;
  }
  if (w <= 0 || h <= 0) return std::nullopt;
  return ImageHeader{"tiff", w, h};
}

/// The next PNM header token (skipping whitespace and # comments).
std::optional<int64_t> pnm_number(std::ifstream& in) {
  int c = in.get();
  for (;;) {
    if (c == '#') {
      while (c != '\n' && c != EOF) c = in.get();
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      c = in.get();
    } else {
      break;
    }
  }
  int64_t v = 0;
  int digits = 0;
  while (c >= '0' && c <= '9' && digits < 12) {
    v = v * 10 + (c - '0');
    ++digits;
    c = in.get();
  }
  if (digits == 0) return std::nullopt;
  return v;
}

}  // namespace

std::optional<ImageHeader> read_image_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::array<unsigned char, 32> h{};
  in.read(reinterpret_cast<char*>(h.data()), h.size());
  const auto got = in.gcount();
  in.clear();
  const unsigned char* p = h.data();
  if (got >= 24 && std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 && std::memcmp(p + 12, "IHDR", 4) == 0) {
    return ImageHeader{"png", be32(p + 16), be32(p + 20)};
  }
  if (got >= 4 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return jpeg_header(in);
  if (got >= 26 && p[0] == 'B' && p[1] == 'M') {
    const uint32_t dib = le32(p + 14);
    if (dib == 12) return ImageHeader{"bmp", le16(p + 18), le16(p + 20)};
    const auto w = static_cast<int32_t>(le32(p + 18)), hh = static_cast<int32_t>(le32(p + 22));
    return ImageHeader{"bmp", std::abs(static_cast<int64_t>(w)), std::abs(static_cast<int64_t>(hh))};
  }
  if (got >= 10 && (std::memcmp(p, "GIF87a", 6) == 0 || std::memcmp(p, "GIF89a", 6) == 0)) {
    return ImageHeader{"gif", le16(p + 6), le16(p + 8)};
  }
  if (got >= 30 && std::memcmp(p, "RIFF", 4) == 0 && std::memcmp(p + 8, "WEBP", 4) == 0) {
    if (std::memcmp(p + 12, "VP8 ", 4) == 0) return ImageHeader{"webp", le16(p + 26) & 0x3FFF, le16(p + 28) & 0x3FFF};
    if (std::memcmp(p + 12, "VP8L", 4) == 0) {
      const uint32_t b = le32(p + 21);
      return ImageHeader{"webp", (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1};
    }
    if (std::memcmp(p + 12, "VP8X", 4) == 0) {
      const int64_t w = 1 + (p[24] | (p[25] << 8) | (p[26] << 16));
      const int64_t hh = 1 + (p[27] | (p[28] << 8) | (p[29] << 16));
      return ImageHeader{"webp", w, hh};
    }
    return std::nullopt;
  }
  if (got >= 4 && ((p[0] == 'I' && p[1] == 'I' && p[2] == 42 && p[3] == 0) ||
                   (p[0] == 'M' && p[1] == 'M' && p[2] == 0 && p[3] == 42))) {
    return tiff_header(in, p[0] == 'I');
  }
  if (got >= 3 && p[0] == 'P' && p[1] >= '1' && p[1] <= '6') {
    in.seekg(2);
    const auto w = pnm_number(in), hh = pnm_number(in);
    if (w && hh) return ImageHeader{"pnm", *w, *hh};
  }
  return std::nullopt;
}

int64_t max_image_pixels() { return limit().load(); }

void set_max_image_pixels(int64_t pixels) {
  FER_CHECK(pixels > 0, ConfigError, "the image pixel limit must be positive (got {})", pixels);
  limit().store(pixels);
  // Child processes (fer kfold's folds) and OpenCV's own guard for formats read here without a
  // header check follow the same limit.
  const std::string mp = fmt::format("{}", static_cast<double>(pixels) / 1e6);
  setenv("FER_MAX_MEGAPIXELS", mp.c_str(), 1);
  setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(pixels).c_str(), 1);
}

void check_frame_pixels(const std::string& what, int64_t width, int64_t height) {
  const int64_t max = max_image_pixels();
  FER_CHECK(width <= 0 || height <= 0 || static_cast<double>(width) * static_cast<double>(height) <= static_cast<double>(max), DataError,
            "{}: {}x{} pixels ({:.1f} megapixels) is over the limit of {:.1f} megapixels (raise it with "
            "--max-megapixels or FER_MAX_MEGAPIXELS)",
            what, width, height, static_cast<double>(width) * static_cast<double>(height) / 1e6,
            static_cast<double>(max) / 1e6);
}

bool jpeg_complete(const std::vector<unsigned char>& b) {
  if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8) return true;
  // Walk the segments (APPn holds the EXIF thumbnail, a JPEG of its own) to the first SOS.
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (b[i] != 0xFF) return false;  // lost in the segment structure: a broken file
    const unsigned char marker = b[i + 1];
    if (marker == 0xFF) {
      ++i;
      continue;
    }
    if (marker == 0xD9) return true;  // an end before any scan (decoders fail on it anyway)
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += 2;
      continue;
    }
    const size_t len = (size_t{b[i + 2]} << 8) | b[i + 3];
    if (marker == 0xDA) {
      i += 2 + len;
      break;
    }
    i += 2 + len;
  }
  // Entropy-coded data never holds FF D9 (an FF there is followed by 00 or a restart marker).
  for (; i + 1 < b.size(); ++i) {
    if (b[i] == 0xFF && b[i + 1] == 0xD9) return true;
  }
  return false;
}

cv::Mat read_image(const std::string& path, int flags) {
  check_image_pixels(path);
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  if (size <= 0) return {};
  std::vector<unsigned char> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) return {};
  FER_CHECK(jpeg_complete(bytes), DataError,
            "{}: truncated JPEG (no end-of-image marker after its image data): the file is cut short; replace "
            "or remove it",
            path);
  return cv::imdecode(bytes, flags);
}

void check_image_pixels(const std::string& path) {
  const auto h = read_image_header(path);
  if (!h) return;
  check_frame_pixels(fmt::format("{} ({} header)", path, h->format), h->width, h->height);
}

}  // namespace fer::io
