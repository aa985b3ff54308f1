// root/<class>/<image>: the layout of most published FER datasets once unpacked, of `fer synth`
// and of the thermal set. Images are decoded later, on demand.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "fer/core/error.hpp"
#include "fer/core/image_limits.hpp"
#include "fer/core/io.hpp"
#include "fer/data/loaders.hpp"

namespace fer::data {
namespace {

namespace fs = std::filesystem;

bool is_hidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

// Sorted names of the entries of `dir` that pass `keep`; hidden entries are skipped.
template <typename Keep>
std::vector<std::string> sorted_entries(const fs::path& dir, Keep keep) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!is_hidden(name) && keep(*it)) names.push_back(name);
  }
  FER_CHECK(!ec, IoError, "{}: cannot list folder: {}", dir.string(), ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Dataset load_image_folder(const std::string& root) {
  const fs::path root_path(root);
  FER_CHECK(fs::exists(root_path), IoError, "{}: folder not found", root);
  FER_CHECK(fs::is_directory(root_path), DataError,
            "{}: not a folder (image_folder expects <root>/<class>/<image>)", root);

  Dataset ds;
  ds.format = "image_folder";
  ds.source = root;
  ds.class_names = sorted_entries(root_path, [](const fs::directory_entry& e) {
    std::error_code ec;
    return e.is_directory(ec);
  });
  FER_CHECK(!ds.class_names.empty(), DataError,
            "{}: no class folders (image_folder expects <root>/<class>/<image>)", root);

  for (size_t c = 0; c < ds.class_names.size(); ++c) {
    const std::string& cls = ds.class_names[c];
    const std::vector<std::string> files = sorted_entries(root_path / cls, [](const fs::directory_entry& e) {
      std::error_code ec;
      return e.is_regular_file(ec) && is_image_file(e.path().string());
    });
    FER_CHECK(!files.empty(), DataError,
              "{}: class folder \"{}\" has no images (png jpg jpeg bmp tif tiff webp pgm ppm pbm)", root,
              cls);
    for (const std::string& f : files) {
      Sample s;
      s.id = fmt::format("{}/{}", cls, f);
      s.label = static_cast<int>(c);
      s.path = (root_path / cls / f).string();
      io::check_image_pixels(s.path);  // header only: refused now, not when a split reaches it
      ds.samples.push_back(std::move(s));
    }
  }
  return ds;
}

}  // namespace fer::data
