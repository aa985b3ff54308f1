#include "fer/train/bench.hpp"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>

#include "fer/data/loader.hpp"
#include "fer/data/loaders.hpp"
#include "fer/data/synth.hpp"
#include "fer/models/model.hpp"
#include "fer/train/engine.hpp"
#include "fer/train/precision.hpp"
#include "fer/train/runtime.hpp"

namespace fer::train {
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// 2 x multiply-adds of one forward pass of the bench's ResNet-18 (3x3 stride-1 stem, no
/// max-pool, global pool): every convolution, the 1x1 downsamples and the linear layer.
double resnet18_forward_gflop(int width, int side, int in_channels, int classes) {
  double macs = 9.0 * in_channels * width * side * side;  // the stem
  int s = side, c = width;
  for (int stage = 0; stage < 4; ++stage) {
    const int co = width << stage;
    for (int block = 0; block < 2; ++block) {
      const int stride = stage > 0 && block == 0 ? 2 : 1;
      const int so = (s - 1) / stride + 1;  // 3x3 with padding 1, and the 1x1 downsample alike
      macs += 9.0 * c * co * so * so + 9.0 * co * co * so * so;
      if (stride != 1 || c != co) macs += 1.0 * c * co * so * so;
      c = co;
      s = so;
    }
  }
  macs += 1.0 * c * classes;
  return 2.0 * macs / 1e9;
}

/// GFLOP/s of torch::mm on two 2048 x 2048 matrices in `precision` on `device`.
double mm_gflops(const std::string& precision, const torch::Device& device) {
  const auto dtype = precision == "bf16" ? torch::kBFloat16 : precision == "fp16" ? torch::kHalf : torch::kFloat32;
  const int64_t n = 2048;
  auto a = torch::randn({n, n}).to(device, dtype);
  auto b = torch::randn({n, n}).to(device, dtype);
  torch::Tensor c;
  for (int i = 0; i < 2; ++i) c = torch::mm(a, b);
  c.sum().item<float>();  // waits for the device
  const int reps = device.is_cuda() ? 50 : 6;
  const auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) c = torch::mm(a, b);
  c.sum().item<float>();
  return reps * 2.0 * n * n * n / since(t0) / 1e9;
}

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
  const std::string slow = check_precision(o.precision, r.device, "--precision");
  if (!slow.empty()) spdlog::warn("{}", slow);
  r.precision = describe_precision(o.precision, r.device);
  r.host = host_description();
  r.mm_gflops_fp32 = mm_gflops("fp32", device);
  r.mm_gflops = o.precision == "fp32" ? r.mm_gflops_fp32 : mm_gflops(o.precision, device);
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
  const int classes = static_cast<int>(ds.class_names.size());
  auto model = models::create_model(mc, {3, o.crop, classes});
  r.forward_gflop = resnet18_forward_gflop(o.width, o.crop, 3, classes);
  model->to(device);
  if (o.channels_last) to_channels_last(*model);
  model->train();
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
  const auto memory_format = o.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  auto step = [&](const torch::Tensor& x, const torch::Tensor& y) {
    opt.zero_grad();
    torch::Tensor logits;
    {
      const AutocastScope autocast(o.precision, r.device);
      logits = model->forward(x.contiguous(memory_format));
    }
    auto loss = torch::nn::functional::cross_entropy(logits.to(torch::kFloat32), y);
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

  // 4. Inference alone: the forward pass in eval mode on a ready batch.
  {
    torch::NoGradGuard no_grad;
    model->eval();
    auto x = torch::randn({o.batch, 3, o.crop, o.crop}).to(device).contiguous(memory_format);
    auto forward = [&] {
      const AutocastScope autocast(o.precision, r.device);
      return model->forward(x).to(torch::kFloat32).sum().item<float>();  // waits for the device
    };
    for (int i = 0; i < o.warmup; ++i) forward();
    const auto t0 = Clock::now();
    for (int i = 0; i < o.iters; ++i) forward();
    r.inference = static_cast<double>(o.iters) * o.batch / since(t0);
  }

  // 5. Evaluation with ten-crop.
  {
    std::vector<size_t> eval_idx(idx.begin(), idx.begin() + std::min<size_t>(idx.size(), 4 * o.batch));
    predict(*model, ds, std::vector<size_t>(eval_idx.begin(), eval_idx.begin() + o.batch), pipeline,
            augment::Tta::kTenCrop, o.batch, 0, device, true, o.precision);  // warm-up
    const auto t0 = Clock::now();
    auto p = predict(*model, ds, eval_idx, pipeline, augment::Tta::kTenCrop, o.batch, 0, device, true, o.precision);
    r.eval_ten_crop = p.truth.size() / since(t0);
  }
  return r;
}

}  // namespace fer::train
