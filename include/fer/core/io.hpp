#pragma once
// File helpers that never leave a half-written file where a good one was.
#include <string>

namespace fer {

/// Writes `content` to `path` through a temporary file in the same folder and a rename, so
/// readers see the old file or the new one, never a partial one. Throws IoError.
void write_file_atomic(const std::string& path, const std::string& content);

/// Reads a whole file. Throws IoError naming the file when it is missing or unreadable.
std::string read_file(const std::string& path);

/// One CSV field, RFC 4180: quoted (with doubled quotes) only when it holds a comma, a quote or
/// a line break.
std::string csv_field(const std::string& s);

/// Whether `path` names an image file OpenCV reads, by its extension (any case): png, jpg, jpeg,
/// bmp, tif, tiff, webp, pgm, ppm, pbm, jp2. Image folders, alignment and inference use this one list.
bool is_image_file(const std::string& path);

/// Temporary name used for atomic writes of `path` (rename it onto `path` when complete).
std::string temp_path_for(const std::string& path);

}  // namespace fer
