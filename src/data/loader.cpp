#include "fer/data/loader.hpp"

#include <algorithm>
#include <numeric>
#include <random>

#include "fer/core/cpu.hpp"
#include "fer/core/error.hpp"
#include "fer/core/rng.hpp"

namespace fer::data {

BatchLoader::BatchLoader(const Dataset& ds, std::vector<size_t> indices, const augment::Pipeline& pipeline,
                         const LoaderOptions& opts)
    : ds_(ds), pipeline_(pipeline), opts_(opts) {
  FER_CHECK(opts.batch_size >= 1, ConfigError, "batch size must be >= 1, got {}", opts.batch_size);
  if (opts.shuffle) {
    std::mt19937_64 rng(derive_seed(opts.seed, Stream::kShuffle, static_cast<uint64_t>(opts.epoch)));
    std::shuffle(indices.begin(), indices.end(), rng);
  }
  const size_t bs = static_cast<size_t>(opts.batch_size);
  for (size_t i = 0; i < indices.size(); i += bs) {
    const size_t end = std::min(indices.size(), i + bs);
    if (opts.drop_last && end - i < bs && !batches_.empty()) break;
    batches_.emplace_back(indices.begin() + static_cast<std::ptrdiff_t>(i),
                          indices.begin() + static_cast<std::ptrdiff_t>(end));
  }
  ready_.resize(batches_.size());
  errors_.resize(batches_.size());
  const int workers =
      std::max(1, std::min<int>(threads_or_all(opts.workers), static_cast<int>(batches_.size())));
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void BatchLoader::worker_loop() {
  const size_t window = static_cast<size_t>(std::max(1, opts_.prefetch));
  for (;;) {
    size_t b;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || next_to_build_ >= batches_.size() || next_to_build_ < next_to_return_ + window;
      });
      if (stop_ || next_to_build_ >= batches_.size()) return;
      b = next_to_build_++;
    }
    auto batch = std::make_unique<Batch>();
    std::exception_ptr err;
    try {
      build(b, *batch);
    } catch (...) {
      err = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_[b] = std::move(batch);
      errors_[b] = err;
    }
    cv_.notify_all();
  }
}

void BatchLoader::build(size_t b, Batch& out) const {
  const auto& idx = batches_[b];
  const int size = pipeline_.output_size();
  const int channels = pipeline_.channels();
  const size_t per_image = static_cast<size_t>(channels) * size * size;
  out.n = static_cast<int>(idx.size());
  out.crops = opts_.mode == LoaderMode::kEval ? augment::tta_views(opts_.tta) : 1;
  out.channels = channels;
  out.size = size;
  out.indices = idx;
  out.labels.resize(idx.size());
  out.images.assign(per_image * idx.size() * static_cast<size_t>(out.crops), 0.0f);
  for (size_t i = 0; i < idx.size(); ++i) {
    const Sample& s = ds_.samples[idx[i]];
    out.labels[i] = s.label;
    cv::Mat img = load_image(s, channels);
    float* dst = out.images.data() + i * per_image * static_cast<size_t>(out.crops);
    switch (opts_.mode) {
      case LoaderMode::kTrain:
        pipeline_.to_chw(pipeline_.train(img, derive_seed(opts_.seed, Stream::kAugment,
                                                          static_cast<uint64_t>(opts_.epoch), idx[i])),
                         dst);
        break;
      case LoaderMode::kEval: {
        const auto views = pipeline_.eval_views(img, opts_.tta);
        for (size_t c = 0; c < views.size(); ++c) pipeline_.to_chw(views[c], dst + c * per_image);
        break;
      }
    }
  }
}

bool BatchLoader::next(Batch& out) {
  std::unique_ptr<Batch> batch;
  std::exception_ptr err;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (next_to_return_ >= batches_.size()) return false;
    const size_t b = next_to_return_;
    cv_.wait(lock, [&] { return ready_[b] != nullptr; });
    batch = std::move(ready_[b]);
    err = errors_[b];
    ++next_to_return_;
  }
  cv_.notify_all();
  if (err) std::rethrow_exception(err);
  out = std::move(*batch);
  return true;
}

}  // namespace fer::data
