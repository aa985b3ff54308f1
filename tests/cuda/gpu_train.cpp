// A FER2013-sized training run on the GPU, for scripts/gpu_check.sh: fer's ResNet-18 (3x3 stem,
// 1-channel 48 px faces, 44 px random crops and flips) trained with SGD for a few minutes on raw
// uint8 faces, printing images/s and PublicTest accuracy per epoch. Needs only LibTorch and fer's
// model code (no OpenCV, dlib or HDF5: a GPU machine may lack them).
//
//   fer_gpu_train DIR MINUTES PRECISION [DEVICE [MAX_STEPS]]
//
// At least one epoch runs; MAX_STEPS > 0 cuts every epoch (and the evaluation, to 512 faces)
// short, for the rehearsal on a CPU.
//
// DIR holds train.u8 / train_labels.u8 / test.u8 / test_labels.u8 (N x 48 x 48 pixels and N
// labels, as scripts/gpu_check.sh --prepare writes them); PRECISION is fp32 | bf16 (fp16 needs
// fer train's loss scaling, which this standalone check does not carry).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fer/models/model.hpp"
#include "fer/train/precision.hpp"
#include "fer/train/runtime.hpp"

namespace {

torch::Tensor read_u8(const std::string& path, std::vector<int64_t> shape_tail) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error(path + ": cannot open");
  const int64_t bytes = in.tellg();
  int64_t per = 1;
  for (auto d : shape_tail) per *= d;
  if (bytes % per != 0) throw std::runtime_error(path + ": size is not a multiple of one sample");
  std::vector<int64_t> shape{bytes / per};
  shape.insert(shape.end(), shape_tail.begin(), shape_tail.end());
  auto t = torch::empty(shape, torch::kUInt8);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(t.data_ptr<uint8_t>()), bytes);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s DIR MINUTES fp32|bf16 [DEVICE]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const double minutes = std::stod(argv[2]);
  const std::string precision = argv[3];
  if (precision != "fp32" && precision != "bf16") {
    std::fprintf(stderr, "precision: expected fp32 or bf16, got %s\n", precision.c_str());
    return 2;
  }
  const std::string dev = fer::train::resolve_device(argc > 4 ? argv[4] : "auto");
  const torch::Device device(dev);
  const int64_t max_steps = argc > 5 ? std::stoll(argv[5]) : 0;
  const std::string slow = fer::train::check_precision(precision, dev, "precision");
  if (!slow.empty()) std::printf("note: %s\n", slow.c_str());

  // The whole dataset lives on the device as uint8; batches are cut, cropped and flipped there.
  auto x_train = read_u8(dir + "/train.u8", {48, 48}).to(device);
  auto y_train = read_u8(dir + "/train_labels.u8", {}).to(torch::kInt64).to(device);
  auto x_test = read_u8(dir + "/test.u8", {48, 48}).to(device);
  auto y_test = read_u8(dir + "/test_labels.u8", {}).to(torch::kInt64).to(device);
  if (max_steps > 0) {
    x_test = x_test.slice(0, 0, 512);
    y_test = y_test.slice(0, 0, 512);
  }
  const int64_t n = x_train.size(0);
  std::printf("%s: %lld training faces, %lld PublicTest faces, 48 px -> 44 px crops, %s, %s, %s\n", dir.c_str(),
              static_cast<long long>(n), static_cast<long long>(x_test.size(0)), dev.c_str(), precision.c_str(),
              ("LibTorch " + fer::train::torch_version()).c_str());

  torch::manual_seed(1);
  fer::config::ModelConfig mc;  // resnet18, width 64; the 3x3 stem for 44 px inputs
  mc.dropout = 0.5;
  auto model = fer::models::create_model(mc, {1, 44, 7});
  model->to(device);
  const int64_t batch = 128;
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));

  auto evaluate = [&] {
    torch::NoGradGuard ng;
    model->eval();
    int64_t correct = 0;
    for (int64_t i = 0; i < x_test.size(0); i += 512) {
      auto xb = x_test.slice(0, i, std::min(i + 512, x_test.size(0)));
      xb = xb.slice(1, 2, 46).slice(2, 2, 46).unsqueeze(1).to(torch::kFloat32).div_(255.0);
      fer::train::AutocastScope autocast(precision, device.type() == torch::kCUDA ? "cuda" : "cpu");
      auto logits = model->forward(xb).to(torch::kFloat32);
      correct += logits.argmax(1).eq(y_test.slice(0, i, i + xb.size(0))).sum().item<int64_t>();
    }
    model->train();
    return 100.0 * static_cast<double>(correct) / static_cast<double>(x_test.size(0));
  };

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  double best = 0;
  int epoch = 0;
  model->train();
  do {
    ++epoch;
    if (device.is_cuda()) torch::cuda::synchronize();
    const double t0 = elapsed();
    auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kInt64).device(device));
    double loss_sum = 0;
    int64_t seen = 0, steps = 0, sampled = 0;
    for (int64_t i = 0; i + batch <= n; i += batch) {
      if (max_steps > 0 && steps >= max_steps) break;
      auto idx = order.slice(0, i, i + batch);
      const int64_t ox = torch::randint(0, 5, {1}).item<int64_t>(), oy = torch::randint(0, 5, {1}).item<int64_t>();
      auto xb = x_train.index_select(0, idx).slice(1, oy, oy + 44).slice(2, ox, ox + 44);
      auto flip = torch::rand({batch, 1, 1}, torch::TensorOptions().device(device)).lt(0.5);
      xb = torch::where(flip, xb.flip({2}), xb).unsqueeze(1).to(torch::kFloat32).div_(255.0);
      opt.zero_grad();
      torch::Tensor loss;
      {
        fer::train::AutocastScope autocast(precision, device.is_cuda() ? "cuda" : "cpu");
        loss = torch::nn::functional::cross_entropy(model->forward(xb).to(torch::kFloat32), y_train.index_select(0, idx));
      }
      loss.backward();
      opt.step();
      if (++steps % 10 == 1) {  // the loss of every 10th step: one sync per 10 steps
        loss_sum += loss.item<double>();
        ++sampled;
      }
      seen += batch;
    }
    if (device.is_cuda()) torch::cuda::synchronize();
    const double seconds = elapsed() - t0;
    const double acc = evaluate();
    best = std::max(best, acc);
    std::printf("epoch %d: %.1f s, %.0f img/s, train loss %.3f, PublicTest %.2f%%\n", epoch, seconds,
                static_cast<double>(seen) / seconds, sampled > 0 ? loss_sum / static_cast<double>(sampled) : 0.0, acc);
    std::fflush(stdout);
  } while (elapsed() < minutes * 60.0);
  std::printf("RESULT %s %s: %d epochs in %.0f s, best PublicTest %.2f%%\n", dev.c_str(), precision.c_str(), epoch,
              elapsed(), best);
  return 0;
}
