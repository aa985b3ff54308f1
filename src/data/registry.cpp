// The dataset registry and class remapping.
#include <algorithm>
#include <string>

#include "fer/core/error.hpp"
#include "fer/core/registry.hpp"
#include "fer/data/loaders.hpp"

namespace fer::data {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? "(none)" : out;
}

DatasetFormat paired(const std::string& name) {
  DatasetFormat f;
  f.load = [name](const std::string& path) {
    config::DataConfig cfg;
    cfg.format = name;
    cfg.path = path;
    return load_paired_folder(cfg);
  };
  f.load_config = [](const config::DataConfig& cfg) { return load_paired_folder(cfg); };
  f.paired = true;
  return f;
}

// Filled once, explicitly (static self-registration is dropped from static libs).
Registry<DatasetFormat> register_builtins() {
  Registry<DatasetFormat> r("dataset format");
  r.add("image_folder", "root/<class>/<image> folders (png jpg bmp tif webp pgm ...), decoded lazily",
        {load_image_folder, {}});
  r.add("fer2013_csv", "Kaggle fer2013.csv: emotion,pixels,Usage with 48x48 gray pixels",
        {load_fer2013_csv, {}});
  r.add("fer2013_h5", "FER2013 as HDF5 (Training_/PublicTest_/PrivateTest_ pixel and label)",
        {load_fer2013_h5, {}});
  r.add("ck_plus_h5", "CK+ as HDF5 (data_pixel [N,48,48] uint8, data_label [N]), seed layout",
        {load_ck_plus_h5, {}});
  r.add("paired_folder",
        "paired visible + infrared image folders, ROOT/<modality>/<class>/<file> or "
        "ROOT/<class>/<modality>/<file>; "
        "pairs by file stem (data.paired), channels stacked",
        paired("paired_folder"));
  r.add("viri",
        "VIRI (visible + infrared faces): paired_folder with the dataset's folder names set in data.paired "
        "(e.g. modalities [\"Vis\", \"IR\"])",
        paired("viri"));
  r.add("nvie",
        "NVIE (USTC natural visible and infrared expressions): paired_folder with the dataset's folder names "
        "set in "
        "data.paired",
        paired("nvie"));
  return r;
}

}  // namespace

const Registry<DatasetFormat>& dataset_formats() {
  static const Registry<DatasetFormat> formats = register_builtins();
  return formats;
}

Dataset load_dataset(const std::string& name, const std::string& path) {
  return dataset_formats().get(name, "data.format").value.load(path);
}

Dataset load_dataset(const config::DataConfig& cfg) {
  const DatasetFormat& f = dataset_formats().get(cfg.format, "data.format").value;
  return f.load_config ? f.load_config(cfg) : f.load(cfg.path);
}

bool is_paired_format(const std::string& format) {
  const auto* f = dataset_formats().find(format);
  return f != nullptr && f->value.paired;
}

std::vector<int> modality_channels(const config::DataConfig& cfg) {
  if (!is_paired_format(cfg.format) || cfg.paired.use != "all") return {};
  return cfg.paired.channels;
}

Dataset remap_classes(Dataset ds, const std::map<std::string, std::string>& label_map,
                      const std::vector<std::string>& classes, const std::vector<std::string>& classes_at,
                      const std::map<std::string, std::string>& label_map_at) {
  const std::vector<std::string> source = ds.class_names;
  auto index_in = [](const std::vector<std::string>& v, const std::string& name) {
    return static_cast<int>(std::find(v.begin(), v.end(), name) - v.begin());
  };

  // old label -> intermediate label (-1 = dropped), and the intermediate class names.
  std::vector<int> step1(source.size());
  std::vector<std::string> mid;
  if (label_map.empty()) {
    for (size_t i = 0; i < source.size(); ++i) step1[i] = static_cast<int>(i);
    mid = source;
  } else {
    for (const auto& [from, to] : label_map) {
      const auto at = label_map_at.find(from);
      FER_CHECK(index_in(source, from) < static_cast<int>(source.size()), ConfigError,
                "{}: unknown class \"{}\" in {}; its classes are: {}",
                at == label_map_at.end() ? std::string("data.label_map") : at->second, from, ds.source,
                join(source));
      FER_CHECK(!to.empty(), ConfigError, "data.label_map: \"{}\" maps to an empty name", from);
    }
    // New names in first-seen order while walking the source classes in their own order.
    for (size_t i = 0; i < source.size(); ++i) {
      const auto it = label_map.find(source[i]);
      if (it == label_map.end()) {
        step1[i] = -1;
        continue;
      }
      int j = index_in(mid, it->second);
      if (j == static_cast<int>(mid.size())) mid.push_back(it->second);
      step1[i] = j;
    }
  }

  // intermediate label -> final label.
  std::vector<int> step2(mid.size());
  std::vector<std::string> final_names;
  if (classes.empty()) {
    for (size_t i = 0; i < mid.size(); ++i) step2[i] = static_cast<int>(i);
    final_names = mid;
  } else {
    std::fill(step2.begin(), step2.end(), -1);
    for (size_t k = 0; k < classes.size(); ++k) {
      const std::string& c = classes[k];
      const int j = index_in(mid, c);
      FER_CHECK(j < static_cast<int>(mid.size()), ConfigError, "{}: unknown class \"{}\"; available{}: {}",
                k < classes_at.size() ? classes_at[k] : std::string("data.classes"), c,
                label_map.empty() ? "" : " after data.label_map", join(mid));
      FER_CHECK(step2[j] < 0, ConfigError, "data.classes: \"{}\" is listed twice", c);
      step2[j] = static_cast<int>(final_names.size());
      final_names.push_back(c);
    }
  }

  std::vector<Sample> kept;
  kept.reserve(ds.samples.size());
  for (auto& s : ds.samples) {
    FER_CHECK(s.label >= 0 && static_cast<size_t>(s.label) < source.size(), DataError,
              "{}: sample {} has label {} outside 0..{}", ds.source, s.id, s.label,
              static_cast<int>(source.size()) - 1);
    const int m = step1[s.label];
    const int f = m < 0 ? -1 : step2[m];
    if (f < 0) continue;
    s.label = f;
    kept.push_back(std::move(s));
  }
  FER_CHECK(!kept.empty(), DataError,
            "{}: no samples left after data.label_map / data.classes (kept classes: {})", ds.source,
            join(final_names));
  ds.samples = std::move(kept);
  ds.class_names = std::move(final_names);
  return ds;
}

}  // namespace fer::data
