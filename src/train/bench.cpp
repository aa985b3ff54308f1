#include "fer/train/bench.hpp"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>

#include "fer/data/loader.hpp"
#include "fer/data/loaders.hpp"
#include "fer/data/synth.hpp"
#include "fer/models/model.hpp"
#include "fer/train/engine.hpp"
#include "fer/train/runtime.hpp"

namespace fer::train {
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

data::Dataset bench_dataset(const BenchOptions& o) {
  if (!o.data.empty()) return data::load_dataset(o.format, o.data);
  data::Dataset ds;
  ds.format = "synthetic";
  ds.class_names = data::synth_class_names();
  for (int i = 0; i < 981; ++i) {
    data::Sample s;
    s.id = "synth:" + std::to_string(i);
    s.label = i % 7;
    s.image = data::render_synthetic_face(s.label, 48, static_cast<uint64_t>(i), true);
    ds.samples.push_back(s);
  }
  return ds;
}
}  // namespace

BenchResult run_bench(const BenchOptions& o) {
  BenchResult r;
  r.threads = configure_threads(o.threads);
  r.device = resolve_device(o.device);
  const torch::Device device(r.device);
  data::Dataset ds = bench_dataset(o);
  std::vector<size_t> all(ds.samples.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  // Enough indices for warm-up + timed batches, cycling over the data.
  std::vector<size_t> idx;
  const size_t need = static_cast<size_t>(o.batch) * (o.iters + o.warmup);
  while (idx.size() < need) idx.insert(idx.end(), all.begin(), all.end());
  idx.resize(need);

  config::PreprocessConfig pre;
  pre.size = 48;
  pre.channels = 3;
  pre.normalize = "none";
  config::AugmentConfig aug;
  aug.crop = o.crop;
  aug.hflip = 0.5;
  augment::Pipeline pipeline(pre, aug);
  data::LoaderOptions lo;
  lo.batch_size = o.batch;
  lo.mode = data::LoaderMode::kTrain;
  lo.shuffle = true;

  // 1. The data pipeline alone.
  {
    data::BatchLoader loader(ds, idx, pipeline, lo);
    data::Batch b;
    for (int i = 0; i < o.warmup; ++i) loader.next(b);
    const auto t0 = Clock::now();
    int64_t n = 0;
    while (loader.next(b)) n += b.n;
    r.pipeline = n / since(t0);
  }

  config::ModelConfig mc;
  mc.width = o.width;
  mc.stem = "3x3";
  torch::manual_seed(0);
  auto model = models::create_model(mc, {3, o.crop, static_cast<int>(ds.class_names.size())});
  model->to(device);
  model->train();
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
  auto step = [&](const torch::Tensor& x, const torch::Tensor& y) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    opt.step();
    return loss.item<double>();
  };

  // 2. The model alone on a ready batch.
  {
    auto x = torch::randn({o.batch, 3, o.crop, o.crop}).to(device);
    auto y = torch::randint(0, static_cast<int64_t>(ds.class_names.size()), {o.batch}, torch::kInt64).to(device);
    for (int i = 0; i < o.warmup; ++i) step(x, y);
    const auto t0 = Clock::now();
    for (int i = 0; i < o.iters; ++i) step(x, y);
    r.model = static_cast<double>(o.iters) * o.batch / since(t0);
  }

  // 3. The real training loop: the loader prefetches while the model trains.
  {
    lo.epoch = 1;
    data::BatchLoader loader(ds, idx, pipeline, lo);
    data::Batch b;
    int i = 0;
    Clock::time_point t0;
    int64_t n = 0;
    while (loader.next(b)) {
      if (i++ == o.warmup) t0 = Clock::now();
      auto x = images_to_tensor(b, device);
      auto y = torch::from_blob(b.labels.data(), {b.n}, torch::kInt64).to(device);
      step(x, y);
      if (i > o.warmup) n += b.n;
    }
    r.train_loop = n / since(t0);
  }

  // 4. Evaluation with ten-crop.
  {
    std::vector<size_t> eval_idx(idx.begin(), idx.begin() + std::min<size_t>(idx.size(), 4 * o.batch));
    predict(*model, ds, std::vector<size_t>(eval_idx.begin(), eval_idx.begin() + o.batch), pipeline,
            augment::Tta::kTenCrop, o.batch, 0, device);  // warm-up
    const auto t0 = Clock::now();
    auto p = predict(*model, ds, eval_idx, pipeline, augment::Tta::kTenCrop, o.batch, 0, device);
    r.eval_ten_crop = p.truth.size() / since(t0);
  }
  return r;
}

}  // namespace fer::train
