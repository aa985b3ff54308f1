// A guard against images whose header declares more pixels than anyone means to decode: a
// 431 KB PNG can declare 20000x20000 pixels, and decoding it takes 1.2 GB per plane and minutes.
// Every reader checks the header first (image folders, paired folders, fer align, fer infer,
// video frames) and refuses such a file with a message naming it. Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace fer::io {

/// Width and height a file's header declares, read from its first bytes without decoding.
struct ImageHeader {
  std::string format;  ///< png, jpeg, bmp, gif, webp, pnm, tiff
  int64_t width = 0;
  int64_t height = 0;
};

/// The header of a PNG, JPEG, BMP, GIF, WebP, PNM or TIFF file; nullopt for another format or a
/// file too short to hold one (the decoder then says what is wrong).
std::optional<ImageHeader> read_image_header(const std::string& path);

/// The most pixels (width x height) an image or video frame may have. The default is 50
/// megapixels; the FER_MAX_MEGAPIXELS environment variable or set_max_image_pixels (the
/// `--max-megapixels` option) changes it for the process and its child processes.
int64_t max_image_pixels();
void set_max_image_pixels(int64_t pixels);

/// Throws DataError naming `path` when its header declares more than max_image_pixels().
void check_image_pixels(const std::string& path);

/// Decodes an image file as cv::imread(path, flags) does (EXIF orientation included), after
/// check_image_pixels, and refuses a truncated JPEG (no end-of-image marker after its first
/// scan): libjpeg decodes one with a grey bottom and only a "Premature end of JPEG file"
/// without the name. DataError for both, naming the file; an empty Mat when OpenCV cannot
/// decode the bytes (the caller says so). The header is read first, then the whole file once.
cv::Mat read_image(const std::string& path, int flags);

/// True when `bytes` (a JPEG file) hold an end-of-image marker after the main image's first
/// start-of-scan (an EXIF thumbnail's marker does not count; data appended after the image,
/// as phones do, is allowed). Non-JPEG bytes: true.
bool jpeg_complete(const std::vector<unsigned char>& bytes);

/// Throws DataError naming `what` (a video, a camera) when frames of width x height exceed it.
void check_frame_pixels(const std::string& what, int64_t width, int64_t height);

}  // namespace fer::io
