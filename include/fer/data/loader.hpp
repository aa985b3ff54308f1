#pragma once
// Parallel, prefetching batch loader (no torch): worker threads decode and augment whole
// batches ahead of the consumer; batches come out in order. Each sample's randomness is seeded
// by (seed, epoch, sample index), so the output does not depend on the number of workers.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "fer/augment/transforms.hpp"
#include "fer/data/dataset.hpp"

namespace fer::data {

/// A collated batch: float images [n * crops, channels, size, size] (sample-major, crops
/// contiguous) and labels [n].
struct Batch {
  std::vector<float> images;
  std::vector<int64_t> labels;
  std::vector<size_t> indices;  ///< dataset indices of the samples
  int n = 0, crops = 1, channels = 0, size = 0;
};

/// How a loader transforms samples: training augmentation, or the evaluation views of
/// LoaderOptions::tta.
enum class LoaderMode { kTrain, kEval };

/// Options of one pass over a list of samples.
struct LoaderOptions {
  int batch_size = 64;
  LoaderMode mode = LoaderMode::kEval;
  augment::Tta tta = augment::Tta::kNone;  ///< kEval: views per sample (Batch::crops)
  bool shuffle = false;
  uint64_t seed = 0;   ///< run seed
  int epoch = 0;       ///< mixed into the shuffle and augmentation seeds
  int workers = 0;     ///< 0 = hardware concurrency
  int prefetch = 4;    ///< batches in flight
  bool drop_last = false;
};

/// One pass (epoch) over `indices` of `ds`. Not copyable; joins its workers on destruction.
/// Errors in workers (an undecodable image) are rethrown by next().
class BatchLoader {
 public:
  BatchLoader(const Dataset& ds, std::vector<size_t> indices, const augment::Pipeline& pipeline,
              const LoaderOptions& opts);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  /// Number of batches in this pass.
  size_t size() const { return batches_.size(); }
  /// Fills `out` with the next batch; false when the pass is over.
  bool next(Batch& out);

 private:
  void worker_loop();
  void build(size_t b, Batch& out) const;

  const Dataset& ds_;
  const augment::Pipeline& pipeline_;
  LoaderOptions opts_;
  std::vector<std::vector<size_t>> batches_;

  std::mutex mu_;
  std::condition_variable cv_;
  size_t next_to_build_ = 0, next_to_return_ = 0;
  std::vector<std::unique_ptr<Batch>> ready_;
  std::vector<std::exception_ptr> errors_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace fer::data
