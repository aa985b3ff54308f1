// CK+ in the seed code's HDF5 layout, and the small HDF5 array writer used by converters and
// test fixtures.
#include <spdlog/spdlog.h>

#include <cstring>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>

#include "fer/core/error.hpp"
#include "fer/data/loaders.hpp"
#include "h5_util.hpp"

namespace fer::data {
namespace {

constexpr int kClasses = 7;
constexpr const char* kExpected = "expected data_pixel [N,48,48] uint8 and data_label [N]";
constexpr size_t kFramesPerSequence = 3;

// The seed's CK_data.h5 holds the last 3 frames of each labelled sequence, one after the other
// (class counts 135, 177, ... are all multiples of 3, and so are the seed's fold blocks). Frames
// of one sequence are near-duplicates, so a split that puts them on both sides leaks: when every
// aligned triplet shares one label, each triplet becomes a group ("sequence") that splits keep
// whole. Grouping frames that are not one sequence only makes a split coarser, never leaky.
void group_frame_triplets(Dataset& ds) {
  const size_t n = ds.samples.size();
  bool aligned = n % kFramesPerSequence == 0;
  for (size_t i = 0; aligned && i < n; i += kFramesPerSequence) {
    for (size_t j = 1; j < kFramesPerSequence; ++j)
      aligned = aligned && ds.samples[i + j].label == ds.samples[i].label;
  }
  if (!aligned) {
    spdlog::warn(
        "{}: the samples are not aligned 3-frame sequences (the seed's CK+ layout), so frames of one "
        "sequence may fall on both sides of a split",
        ds.source);
    return;
  }
  for (size_t i = 0; i < n; ++i) ds.samples[i].subject = fmt::format("seq{:04d}", i / kFramesPerSequence);
  ds.group_unit = "sequence";
  spdlog::info("{}: {} sequences of {} consecutive frames; splits keep each sequence on one side", ds.source,
               n / kFramesPerSequence, kFramesPerSequence);
}

}  // namespace

Dataset load_ck_plus_h5(const std::string& path) {
  H5::H5File file = h5::open_read(path);
  for (const char* name : {"data_pixel", "data_label"}) {
    FER_CHECK(h5::has_dataset(file, name), DataError, "{}: no dataset \"{}\" ({})", path, name, kExpected);
  }

  Dataset ds;
  ds.format = "ck_plus_h5";
  ds.source = path;
  ds.class_names = {"anger", "disgust", "fear", "happy", "sadness", "surprise", "contempt"};

  std::string current = "data_pixel";
  try {
    const H5::DataSet px = file.openDataSet("data_pixel");
    const std::vector<hsize_t> pd = h5::dims_of(px);
    FER_CHECK(pd.size() == 3 && pd[1] > 0 && pd[2] > 0, DataError,
              "{}: data_pixel has shape {}, expected [N,H,W] ({})", path, h5::dims_str(pd), kExpected);
    FER_CHECK(h5::is_uint8(px), DataError, "{}: data_pixel is {}, expected uint8", path, h5::type_str(px));

    current = "data_label";
    const H5::DataSet lb = file.openDataSet("data_label");
    const std::vector<hsize_t> ld = h5::dims_of(lb);
    FER_CHECK(ld.size() == 1 || (ld.size() == 2 && ld[1] == 1), DataError,
              "{}: data_label has shape {}, expected [N]", path, h5::dims_str(ld));
    FER_CHECK(lb.getTypeClass() == H5T_INTEGER, DataError, "{}: data_label is {}, expected integer labels",
              path, h5::type_str(lb));
    FER_CHECK(ld[0] == pd[0], DataError, "{}: data_pixel has {} images but data_label has {} labels", path,
              pd[0], ld[0]);

    const size_t n = static_cast<size_t>(pd[0]);
    const int h = static_cast<int>(pd[1]);
    const int w = static_cast<int>(pd[2]);
    const size_t plane = static_cast<size_t>(h) * static_cast<size_t>(w);
    h5::check_readable(lb, path, "data_label", ld, lb.getDataType().getSize());
    h5::check_readable(px, path, "data_pixel", pd, 1);
    const std::vector<int64_t> labels = h5::read_int64(lb, n);
    for (size_t i = 0; i < n; ++i) {
      FER_CHECK(labels[i] >= 0 && labels[i] < kClasses, DataError,
                "{}: data_label[{}] = {}, expected a label 0..{} (anger disgust fear happy "
                "sadness surprise contempt)",
                path, i, labels[i], kClasses - 1);
    }
    current = "data_pixel";
    const std::vector<uint8_t> pixels = h5::read_uint8(px, n * plane);

    ds.samples.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      Sample s;
      s.id = "idx:" + std::to_string(i);
      s.label = static_cast<int>(labels[i]);
      s.image = cv::Mat(h, w, CV_8UC1);
      std::memcpy(s.image.data, pixels.data() + i * plane, plane);
      ds.samples.push_back(std::move(s));
    }
  } catch (const H5::Exception& e) {
    throw IoError(fmt::format("{}: HDF5 error reading \"{}\": {}", path, current, e.getDetailMsg()));
  }
  FER_CHECK(!ds.samples.empty(), DataError, "{}: data_pixel holds no images", path);
  group_frame_triplets(ds);
  return ds;
}

void write_h5_array(const std::string& path, const std::string& name, H5Type type, const void* data,
                    const std::vector<uint64_t>& dims) {
  H5::Exception::dontPrint();
  try {
    const bool exists = std::filesystem::exists(path);
    H5::H5File file(path, exists ? H5F_ACC_RDWR : H5F_ACC_TRUNC);
    const std::vector<hsize_t> hd(dims.begin(), dims.end());
    const H5::DataSpace space(static_cast<int>(hd.size()), hd.data());
    const H5::PredType* file_type = &H5::PredType::STD_U8LE;
    const H5::PredType* mem_type = &H5::PredType::NATIVE_UINT8;
    switch (type) {
      case H5Type::kUInt8:
        break;
      case H5Type::kInt32:
        file_type = &H5::PredType::STD_I32LE;
        mem_type = &H5::PredType::NATIVE_INT32;
        break;
      case H5Type::kInt64:
        file_type = &H5::PredType::STD_I64LE;
        mem_type = &H5::PredType::NATIVE_INT64;
        break;
      case H5Type::kFloat32:
        file_type = &H5::PredType::IEEE_F32LE;
        mem_type = &H5::PredType::NATIVE_FLOAT;
        break;
    }
    H5::DataSet ds = file.createDataSet(name, *file_type, space);
    ds.write(data, *mem_type);
  } catch (const H5::Exception& e) {
    throw IoError(fmt::format("{}: cannot write HDF5 dataset \"{}\": {}", path, name, e.getDetailMsg()));
  }
}

}  // namespace fer::data
