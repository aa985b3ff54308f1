#pragma once
// File helpers that never leave a half-written file where a good one was.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace fer {

/// Where an output named `path` is written: a regular file or a new name is replaced atomically
/// (a symlink is followed, so the link stays and its target gets the content); a character
/// device, FIFO or socket (/dev/stdout, /dev/null, a pipe) is written through, never replaced.
/// Throws UsageError when `path` is a directory.
struct OutputTarget {
  std::string path;     ///< the file to write (a symlink's resolved target)
  bool direct = false;  ///< write straight into it (no temporary file and rename)
};
OutputTarget output_target(const std::string& path);

/// Writes `content` to `path` through a temporary file in the same folder and a rename, so
/// readers see the old file or the new one, never a partial one (output_target: symlinks are
/// followed, devices and pipes written through). Throws IoError (UsageError for a directory).
void write_file_atomic(const std::string& path, const std::string& content);

/// Reads a whole file. Throws IoError naming the file when it is missing or unreadable.
std::string read_file(const std::string& path);

/// Reads and parses a JSON file: IoError as read_file, DataError naming the file and where the
/// parser stopped when it is not valid JSON (a run's split.json or config.json cut short).
nlohmann::json read_json_file(const std::string& path);

/// One CSV field, RFC 4180: quoted (with doubled quotes) only when it holds a comma, a quote or
/// a line break.
std::string csv_field(const std::string& s);

/// Whether `path` names an image file OpenCV reads, by its extension (any case): png, jpg, jpeg,
/// bmp, tif, tiff, webp, pgm, ppm, pbm, jp2. Image folders, alignment and inference use this one list.
bool is_image_file(const std::string& path);

/// Why a write into `path` failed, for a message: "no space left on device (N free)" when its
/// file system is full or has less free than the `needed` bytes (whatever errno the writer saw:
/// a full disk shows up as EIO from some copy paths), else strerror(err_no).
std::string write_failure_reason(const std::string& path, int err_no, uintmax_t needed = 0);

/// Copies `from` onto `to` through a temporary file and a rename (`to` is the old file or the
/// whole new one). Throws IoError naming `to` and the reason (write_failure_reason).
void copy_file_atomic(const std::string& from, const std::string& to);

/// Temporary name used for atomic writes of `path` (rename it onto `path` when complete).
std::string temp_path_for(const std::string& path);

}  // namespace fer
