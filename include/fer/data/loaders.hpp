#pragma once
// Dataset loaders, one per published format, and the dataset registry.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fer/data/dataset.hpp"

namespace fer::data {

/// Kaggle FER2013 CSV: header `emotion,pixels,Usage`, 2304 space-separated gray values per row.
/// Classes: angry disgust fear happy sad surprise neutral (ids 0..6). Usage kept per sample.
/// Ids are "row:<n>" with n the 1-based data row. Errors name the file and line.
Dataset load_fer2013_csv(const std::string& path);

/// The seed code's FER2013 HDF5 (`Training_pixel`/`Training_label`, `PublicTest_*`,
/// `PrivateTest_*`; pixels [N,2304] or [N,48,48] uint8, labels integer). Usage = group prefix.
Dataset load_fer2013_h5(const std::string& path);

/// CK+ HDF5 (`data_pixel` [N,48,48] uint8, `data_label` int64 [N]). Classes: anger disgust fear
/// happy sadness surprise contempt (ids 0..6). File order is kept (the seed folds rely on it).
Dataset load_ck_plus_h5(const std::string& path);

/// `root/<class>/<image>` with png/jpg/jpeg/bmp/tif/tiff/webp/pgm/ppm files; classes and files
/// sorted by name; images decoded lazily. Ids are "<class>/<file>".
Dataset load_image_folder(const std::string& root);

/// Element type of write_h5_array.
enum class H5Type { kUInt8, kInt32, kInt64, kFloat32 };

/// Writes one array as dataset `name` at the root of the HDF5 file `path` (created when absent,
/// else added to); `data` holds prod(dims) elements of `type`, row-major. For format converters
/// and test fixtures (HDF5 headers are private to fer_core). Throws IoError.
void write_h5_array(const std::string& path, const std::string& name, H5Type type,
                    const void* data, const std::vector<uint64_t>& dims);

/// A registered dataset format.
struct DatasetFormat {
  std::string name;         ///< config value of data.format
  std::string description;  ///< one line for `fer list datasets`
  std::function<Dataset(const std::string&)> load;
};

/// The built-in formats, in a fixed order.
const std::vector<DatasetFormat>& dataset_formats();

/// Loads `path` with the format `name`; an unknown name is a ConfigError listing the known ones.
Dataset load_dataset(const std::string& name, const std::string& path);

/// Applies a label map (source class -> new class; classes not in a non-empty map are dropped)
/// and then keeps only `classes` in that order (empty = keep all, new names in first-seen
/// order of the map values, else original order). Unknown class names are ConfigErrors.
Dataset remap_classes(Dataset ds, const std::map<std::string, std::string>& label_map,
                      const std::vector<std::string>& classes);

}  // namespace fer::data
