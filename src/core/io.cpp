#include "fer/core/io.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fer/core/error.hpp"

namespace fer {

std::string temp_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

std::string write_failure_reason(const std::string& path, int err_no, uintmax_t needed) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(path, ec).parent_path();
  const auto space = std::filesystem::space(dir, ec);
  // A full file system: ENOSPC, or EIO/other from copy paths, with (almost) nothing left.
  if (err_no == ENOSPC || (!ec && space.available < std::max<uintmax_t>(64 * 1024, needed))) {
    return fmt::format("no space left on device ({} KB free in {})", ec ? 0 : space.available / 1024,
                       dir.string());
  }
  return err_no != 0 ? std::strerror(err_no) : "unknown error";
}

void copy_file_atomic(const std::string& from, const std::string& to) {
  const std::string tmp = temp_path_for(to);
  std::error_code ec;
  std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing, ec);
  if (!ec) std::filesystem::rename(tmp, to, ec);
  if (ec) {
    const int err = ec.value();
    std::error_code ignore;
    std::filesystem::remove(tmp, ignore);
    const uintmax_t needed = std::filesystem::file_size(from, ignore);
    throw IoError(fmt::format("{}: cannot write (a copy of {}): {}", to, from,
                              write_failure_reason(to, err, ignore ? 0 : needed)));
  }
}

OutputTarget output_target(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  OutputTarget t{path, false};
  if (fs::is_symlink(fs::symlink_status(path, ec))) {
    t.path = fs::weakly_canonical(path, ec).string();  // the link stays; its target is written
    if (ec) t.path = path;
  }
  const fs::file_status st = fs::status(t.path, ec);
  FER_CHECK(!fs::is_directory(st), UsageError, "{}: is a directory; give a file name", path);
  t.direct = fs::exists(st) && !fs::is_regular_file(st);  // a device, FIFO or socket
  return t;
}

void write_file_atomic(const std::string& path_in, const std::string& content) {
  const OutputTarget target = output_target(path_in);
  const std::string& path = target.path;
  if (target.direct) {
    std::ofstream out(path, std::ios::binary);
    FER_CHECK(out.good(), IoError, "{}: cannot open for writing: {}", path, std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    FER_CHECK(out.good(), IoError, "{}: write failed: {}", path, std::strerror(errno));
    return;
  }
  const std::string tmp = temp_path_for(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    FER_CHECK(out.good(), IoError, "{}: cannot open for writing (its temporary file {}): {}", path, tmp, std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out.good()) {
      const int err = errno;
      const std::string reason = write_failure_reason(path, err);  // before the partial file goes
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw IoError(fmt::format("{}: write failed: {}", path, reason));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw IoError(fmt::format("{}: cannot replace: {}", path, ec.message()));
  }
}

std::string read_file(const std::string& path) {
  FER_CHECK(std::filesystem::exists(path), IoError, "{}: file not found", path);
  std::ifstream in(path, std::ios::binary);
  FER_CHECK(in.good(), IoError, "{}: cannot open: {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(fmt::format("{}: not valid JSON (byte {} of {}): {}; the file is damaged or cut short", path,
                                e.byte, text.size(), e.what()));
  }
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool is_image_file(const std::string& path) {
  static const char* const kExts[] = {".png",  ".jpg", ".jpeg", ".bmp", ".tif", ".tiff",
                                      ".webp", ".pgm", ".ppm",  ".pbm", ".jp2"};
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(kExts), std::end(kExts), ext) != std::end(kExts);
}

}  // namespace fer
