#pragma once
// Private helpers shared by the HDF5 loaders (fer2013.cpp, ck_plus.cpp). Not installed: it
// includes H5Cpp.h, which only fer_core's sources can see. Every HDF5 exception is turned into
// a fer error naming the file and the dataset.
#include <H5Cpp.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fer/core/error.hpp"

namespace fer::data::h5 {

/// Opens `path` read-only. IoError when it is missing or not an HDF5 file.
inline H5::H5File open_read(const std::string& path) {
  H5::Exception::dontPrint();
  FER_CHECK(std::filesystem::exists(path), IoError, "{}: file not found", path);
  FER_CHECK(!std::filesystem::is_directory(path), IoError, "{}: is a folder, expected an HDF5 file", path);
  try {
    return H5::H5File(path, H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    throw IoError(fmt::format("{}: not a readable HDF5 file ({})", path, e.getDetailMsg()));
  }
}

/// True when `name` exists at the file's root and is a dataset.
inline bool has_dataset(const H5::H5File& file, const std::string& name) {
  if (H5Lexists(file.getId(), name.c_str(), H5P_DEFAULT) <= 0) return false;
  return file.childObjType(name) == H5O_TYPE_DATASET;
}

/// "[981,48,48]".
inline std::string dims_str(const std::vector<hsize_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

/// Shape of a dataset.
inline std::vector<hsize_t> dims_of(const H5::DataSet& ds) {
  const H5::DataSpace space = ds.getSpace();
  std::vector<hsize_t> dims(static_cast<size_t>(space.getSimpleExtentNdims()));
  if (!dims.empty()) space.getSimpleExtentDims(dims.data());
  return dims;
}

/// Element type in numpy words: "uint8", "int64", "float32", "string", ...
inline std::string type_str(const H5::DataSet& ds) {
  switch (ds.getTypeClass()) {
    case H5T_INTEGER: {
      const H5::IntType t = ds.getIntType();
      return fmt::format("{}int{}", t.getSign() == H5T_SGN_NONE ? "u" : "", t.getSize() * 8);
    }
    case H5T_FLOAT:
      return fmt::format("float{}", ds.getFloatType().getSize() * 8);
    case H5T_STRING:
      return "string";
    default:
      return "a non-numeric type";
  }
}

/// True for 8-bit unsigned integers (the only pixel type the loaders take).
inline bool is_uint8(const H5::DataSet& ds) {
  if (ds.getTypeClass() != H5T_INTEGER) return false;
  const H5::IntType t = ds.getIntType();
  return t.getSize() == 1 && t.getSign() == H5T_SGN_NONE;
}

/// Before a dataset of `path` is read whole: every filter it was written with must be in this
/// HDF5 library (h5py's lzf is not: "H5Dread failed" otherwise), and its declared size must be
/// one the file can hold (a header declaring 10^9 rows would end in std::bad_alloc). DataError
/// naming the file and the dataset.
inline void check_readable(const H5::DataSet& ds, const std::string& path, const std::string& name,
                           const std::vector<hsize_t>& dims, size_t element_bytes) {
  const H5::DSetCreatPropList dcpl = ds.getCreatePlist();
  const int filters = dcpl.getNfilters();
  for (int i = 0; i < filters; ++i) {
    unsigned int flags = 0, config = 0;
    size_t nvalues = 8;
    unsigned int values[8] = {};
    char fname[64] = {};
    const H5Z_filter_t id = dcpl.getFilter(i, flags, nvalues, values, sizeof(fname), fname, config);
    FER_CHECK(H5Zfilter_avail(id) > 0, DataError,
              "{}: \"{}\" is compressed with the HDF5 filter \"{}\" (id {}{}), which this HDF5 library does "
              "not have; re-save the file with gzip or without compression (h5py: compression=\"gzip\")",
              path, name, fname[0] ? fname : "unnamed", id, id == 32000 ? ", h5py's lzf" : "");
  }
  double bytes = static_cast<double>(element_bytes);
  for (hsize_t d : dims) bytes *= static_cast<double>(d);
  std::error_code ec;
  const double file_bytes = static_cast<double>(std::filesystem::file_size(path, ec));
  // Uncompressed data lies in the file; compressed data at most ~1000 times its size (zlib's limit).
  const double most = ec ? 0 : file_bytes * (filters > 0 ? 1100.0 : 1.0) + 4096;
  FER_CHECK(ec || bytes <= most, DataError,
            "{}: \"{}\" declares shape {} ({:.1f} GB), more than a {:.1f} MB file can hold{}: the file is damaged "
            "or its header is wrong",
            path, name, dims_str(dims), bytes / 1e9, file_bytes / 1e6, filters > 0 ? " even compressed" : "");
}

/// Reads a whole uint8 dataset (the caller has checked the type and shape).
inline std::vector<uint8_t> read_uint8(const H5::DataSet& ds, size_t count) {
  std::vector<uint8_t> out(count);
  if (count) ds.read(out.data(), H5::PredType::NATIVE_UINT8);
  return out;
}

/// Reads a whole integer dataset of any width and sign as int64.
inline std::vector<int64_t> read_int64(const H5::DataSet& ds, size_t count) {
  std::vector<int64_t> out(count);
  if (count) ds.read(out.data(), H5::PredType::NATIVE_INT64);
  return out;
}

}  // namespace fer::data::h5
