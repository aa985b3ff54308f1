// CUDA smoke test (run by hand on a GPU machine; see CMakeLists.txt here). Prints PASS/FAIL lines
// and the model-alone training throughput on the GPU; exits 1 on any failure.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/runtime.hpp"

namespace {
int failures = 0;
void check(bool ok, const char* what, double value = 0) {
  std::printf("%s: %s (%g)\n", ok ? "PASS" : "FAIL", what, value);
  if (!ok) ++failures;
}
}  // namespace

int main() {
  const std::string dev = fer::train::resolve_device("auto");
  std::printf("device %s, %s\n", dev.c_str(), ("LibTorch " + fer::train::torch_version()).c_str());
  check(dev.rfind("cuda", 0) == 0, "auto resolves to CUDA on a GPU machine");
  if (failures) {
    std::printf("no CUDA device visible: nothing else to check here\n");
    return 1;
  }
  const torch::Device cuda(dev);

  // Same weights on CPU and GPU give the same logits.
  fer::config::ModelConfig mc;
  mc.se = true;
  torch::manual_seed(0);
  auto cpu_model = fer::models::create_model(mc, {3, 44, 7});
  auto x = torch::randn({8, 3, 44, 44});
  const std::string ckpt = (std::filesystem::temp_directory_path() / "fer_cuda_smoke.pt").string();
  fer::train::save_checkpoint(ckpt, *cpu_model, nullptr, {{"note", "cpu"}});
  auto gpu_model = fer::models::create_model(mc, {3, 44, 7});
  fer::train::load_checkpoint(ckpt, *gpu_model, nullptr, false);
  gpu_model->to(cuda);
  cpu_model->eval();
  gpu_model->eval();
  {
    torch::NoGradGuard ng;
    const double diff = (cpu_model->forward(x) - gpu_model->forward(x.to(cuda)).cpu()).abs().max().item<double>();
    check(diff < 1e-3, "CPU and CUDA logits agree (max abs diff)", diff);
  }

  // Training steps on the GPU overfit a batch; a checkpoint saved from the GPU loads on the CPU.
  gpu_model->train();
  torch::optim::SGD opt(gpu_model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  auto y = torch::arange(8, torch::kInt64).remainder(7).to(cuda);
  auto xg = x.to(cuda);
  double first = 0, last = 0;
  for (int i = 0; i < 40; ++i) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(gpu_model->forward(xg), y);
    loss.backward();
    opt.step();
    last = loss.item<double>();
    if (i == 0) first = last;
  }
  check(last < 0.1 * first, "40 SGD steps on CUDA overfit one batch (final/first loss)", last / first);
  fer::train::save_checkpoint(ckpt, *gpu_model, &opt, {{"note", "gpu"}});
  auto back = fer::models::create_model(mc, {3, 44, 7});
  torch::optim::SGD opt_back(back->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  auto meta = fer::train::load_checkpoint(ckpt, *back, &opt_back, false);
  back->eval();
  gpu_model->eval();
  {
    torch::NoGradGuard ng;
    const double diff = (back->forward(x) - gpu_model->forward(xg).cpu()).abs().max().item<double>();
    check(diff < 1e-3 && meta.at("note") == "gpu", "GPU checkpoint reloads on CPU (max abs diff)", diff);
  }

  // Model-alone throughput on the GPU (the fer bench workload: 44 px, batch 64, SGD).
  torch::manual_seed(1);
  auto bench = fer::models::create_model(fer::config::ModelConfig{}, {3, 44, 7});
  bench->to(cuda);
  bench->train();
  torch::optim::SGD bopt(bench->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
  auto bx = torch::randn({64, 3, 44, 44}).to(cuda);
  auto by = torch::randint(0, 7, {64}, torch::kInt64).to(cuda);
  auto step = [&] {
    bopt.zero_grad();
    torch::nn::functional::cross_entropy(bench->forward(bx), by).backward();
    bopt.step();
  };
  for (int i = 0; i < 10; ++i) step();
  torch::cuda::synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  const int iters = 100;
  for (int i = 0; i < iters; ++i) step();
  torch::cuda::synchronize();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("model alone on %s: %.0f img/s (ResNet-18, 44x44, batch 64, fp32)\n", dev.c_str(), iters * 64 / s);
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
