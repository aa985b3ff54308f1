#pragma once
// Dataset loaders, one per published format, and the dataset registry.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/core/registry.hpp"
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

/// Paired visible + infrared folders (formats paired_folder, viri, nvie), read with
/// cfg.path, cfg.format, cfg.paired and cfg.subject_pattern. Layouts
/// ROOT/<modality>/<class>/<file> (modality_first) and ROOT/<class>/<modality>/<file>
/// (class_first), detected when paired.layout is "auto". Files of a class are paired by stem, or
/// by group 1 of the modality's paired.stem_patterns regex (searched in the stem). Samples are
/// sorted by class, then key; ids are "<class>/<key>". With paired.use "all" each sample has
/// modality_paths / modality_channels (load_image stacks them); with one modality name it is an
/// ordinary single-file sample of that modality. DataErrors (listing up to 10 files and a
/// count): unpaired files (paired.unpaired "error"; "drop" drops them with a warning), a key in
/// different classes in the two modalities, a missing modality folder, a class in one modality
/// only, two files with the same key, a subject_pattern that does not match.
Dataset load_paired_folder(const config::DataConfig& cfg);

/// One sample of an unlabelled paired folder (pair_folder_files).
struct PairedFiles {
  std::string key;                 ///< "<group>/<key>", or "<key>" for files straight in ROOT/<modality>
  std::vector<std::string> paths;  ///< one file per modality (paired.modalities order); "" = missing
  std::string note;                ///< why a file has no partner when it cannot have one, else ""
};

/// The image files of a folder to classify with a fused model, paired the way
/// load_paired_folder pairs them (same paired.modalities, layout, stem_patterns) but without
/// labels: ROOT/<modality>/[<group>/]<file> (modality_first; auto when ROOT has a modality
/// folder) or ROOT/[<group>/]<modality>/<file> (class_first). Files pair when their group (a
/// class folder, or none) and key match; a file without a partner is returned alone (its other
/// path ""): a sample with a missing modality. Sorted by group, then key; files whose stem does
/// not match the stem pattern come last, with a note. IoError when ROOT is not a folder;
/// DataError when it has no modality folder, or when two files of one modality share a key
/// (listing them).
std::vector<PairedFiles> pair_folder_files(const std::string& root, const config::PairedConfig& paired);

/// True for the registered formats read by load_paired_folder (paired_folder, viri, nvie).
bool is_paired_format(const std::string& format);

/// Channels of each stacked modality of the data a config describes: data.paired.channels for a
/// paired format with paired.use "all", else {} (one ordinary image). Pass it to
/// augment::Pipeline::set_modality_channels.
std::vector<int> modality_channels(const config::DataConfig& cfg);

/// Sets each sample's subject to group 1 of `pattern` searched in its file name (the first
/// modality's file name for paired samples, then the others). `pattern` is a regex or a preset
/// name (config::subject_regex: "ck_plus" S010_004_00000017.png -> S010, "jaffe"
/// KA.AN1.39.tiff -> KA). DataError naming the pattern when it matches no file, or when some
/// files do not match (listing them); ConfigError when the samples have no files (HDF5/CSV
/// formats). No-op for "".
void assign_subjects(Dataset& ds, const std::string& pattern);

/// Element type of write_h5_array.
enum class H5Type { kUInt8, kInt32, kInt64, kFloat32 };

/// Writes one array as dataset `name` at the root of the HDF5 file `path` (created when absent,
/// else added to); `data` holds prod(dims) elements of `type`, row-major. For format converters
/// and test fixtures (HDF5 headers are private to fer_core). Throws IoError.
void write_h5_array(const std::string& path, const std::string& name, H5Type type,
                    const void* data, const std::vector<uint64_t>& dims);

/// How a registered dataset format (data.format) is read.
struct DatasetFormat {
  std::function<Dataset(const std::string&)> load;  ///< from a path alone (paired: default data.paired)
  /// Loader that reads the whole data section (paired formats); empty for the others.
  std::function<Dataset(const config::DataConfig&)> load_config;
  bool paired = false;  ///< visible + infrared pairs (load_paired_folder)
};

/// The built-in formats, in a fixed order (`fer list datasets`). The config reader accepts exactly
/// these names and paired flags (DataRegistry.* ties them: config sits a layer below data/).
const Registry<DatasetFormat>& dataset_formats();

/// Loads `path` with the format `name`; an unknown name is a ConfigError listing the known ones
/// and the closest.
/// Paired formats get the default data.paired settings.
Dataset load_dataset(const std::string& name, const std::string& path);
/// Loads cfg.path with cfg.format, passing the whole data section to formats that use it.
Dataset load_dataset(const config::DataConfig& cfg);

/// Applies a label map (source class -> new class; classes not in a non-empty map are dropped)
/// and then keeps only `classes` in that order (empty = keep all, new names in first-seen
/// order of the map values, else original order). Unknown class names are ConfigErrors, which
/// name where the name was written when `classes_at` / `label_map_at` say (DataConfig's fields).
Dataset remap_classes(Dataset ds, const std::map<std::string, std::string>& label_map,
                      const std::vector<std::string>& classes, const std::vector<std::string>& classes_at = {},
                      const std::map<std::string, std::string>& label_map_at = {});

}  // namespace fer::data
