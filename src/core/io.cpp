#include "fer/core/io.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fer/core/error.hpp"

namespace fer {

std::string temp_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = temp_path_for(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    FER_CHECK(out.good(), IoError, "{}: cannot open for writing: {}", tmp, std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out.good()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw IoError(fmt::format("{}: write failed (disk full?)", path));
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
