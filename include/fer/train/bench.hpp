#pragma once
// Throughput benchmark of the training stack (prints figures; never part of the tests).
#include <string>

namespace fer::train {

/// What to measure. Data: an HDF5 CK+ file when `data` is set, else generated faces.
struct BenchOptions {
  std::string data;               ///< CK_data.h5 path, or "" for generated 48 px faces
  std::string format = "ck_plus_h5";
  int batch = 64;
  int crop = 44;                  ///< random crop side (the seed's CK+ protocol)
  int iters = 20;                 ///< timed batches per measurement
  int warmup = 3;                 ///< untimed batches first
  int threads = 0;
  int width = 64;                 ///< ResNet-18 width (64 = the real model)
  std::string device = "auto";
};

/// Images per second of each stage.
struct BenchResult {
  double pipeline = 0;       ///< decode + augment + collate alone
  double model = 0;          ///< forward + backward + SGD step on ready tensors
  double train_loop = 0;     ///< the real loop: loader feeding the model
  double eval_ten_crop = 0;  ///< evaluation with ten-crop (images, not crops, per second)
  int threads = 0;
  std::string device;
};

BenchResult run_bench(const BenchOptions& opts);

}  // namespace fer::train
