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
  std::string precision = "fp32";  ///< fp32 | bf16 | fp16 (autocast of the forward passes)
  bool channels_last = false;      ///< weights and inputs in NHWC memory order
};

/// Images per second of each stage.
struct BenchResult {
  double pipeline = 0;       ///< decode + augment + collate alone
  double model = 0;          ///< forward + backward + SGD step on ready tensors
  double train_loop = 0;     ///< the real loop: loader feeding the model
  double eval_ten_crop = 0;  ///< evaluation with ten-crop (images, not crops, per second)
  double inference = 0;      ///< forward alone in eval mode on ready batches (no grad)
  /// The model's work: 2 x multiply-adds of its convolutions and linear layer per image for a
  /// forward pass, 3 x that for a training step (the backward pass costs two forwards).
  double forward_gflop = 0;
  /// torch::mm of two 2048 x 2048 matrices in fp32 and in the benchmark's precision, measured in
  /// the same run: what the machine's cores can do (the denominator of the shares below).
  double mm_gflops_fp32 = 0;
  double mm_gflops = 0;
  int threads = 0;
  std::string device;
  std::string precision;  ///< as describe_precision says it
  std::string host;       ///< host_description()
};

BenchResult run_bench(const BenchOptions& opts);

}  // namespace fer::train
