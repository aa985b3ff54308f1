// vit / vit_se: shapes, torchvision's ViT-B/16 parameter count and names, overfitting a tiny
// batch, checkpoint round trip, the config errors, and numerical parity with torchvision's
// VisionTransformer (weights from tests/tools/export_vit.py run by /usr/bin/python3; skipped,
// with a message, when it lacks torchvision).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>

#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "test_util.hpp"

using fer::config::ModelConfig;
using fer::models::create_model;

namespace {

/// The small ViT of the parity export: 48 px, patch 8 (36 patches), dim 32, 2 blocks of 2 heads.
ModelConfig small_vit(const std::string& name = "vit_se") {
  ModelConfig m;
  m.name = name;
  m.vit_patch = 8;
  m.vit_dim = 32;
  m.vit_depth = 2;
  m.vit_heads = 2;
  m.vit_mlp_dim = 64;
  return m;
}

int64_t count_parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

bool have_torchvision() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") == 0;
  return ok;
}

}  // namespace

TEST(Vit, OutputShapesForBothVariantsAndChannelCounts) {
  torch::NoGradGuard ng;
  for (const std::string name : {"vit", "vit_se"}) {
    for (int channels : {1, 3}) {
      SCOPED_TRACE(name + ", " + std::to_string(channels) + " channels");
      auto m = create_model(small_vit(name), {channels, 48, 7});
      m->eval();
      EXPECT_EQ(m->forward(torch::randn({3, channels, 48, 48})).sizes(), (std::vector<int64_t>{3, 7}));
      EXPECT_EQ(m->named_parameters()["conv_proj.weight"].sizes(),
                (std::vector<int64_t>{32, channels, 8, 8}));
      EXPECT_EQ(m->named_parameters()["encoder.pos_embedding"].sizes(), (std::vector<int64_t>{1, 37, 32}));
      EXPECT_EQ(m->named_parameters().contains("se.fc1.weight"), name == "vit_se");
    }
  }
}

TEST(Vit, BaseHasTorchvisionParameterCountAndNames) {
  ModelConfig m;  // the vit_* defaults are ViT-B/16
  m.name = "vit";
  auto net = create_model(m, {3, 224, 1000});
  // sum(p.numel() for p in torchvision.models.vit_b_16().parameters()), 1000 classes
  EXPECT_EQ(count_parameters(*net), 86567656);
  const auto params = net->named_parameters();
  for (const char* name :
       {"conv_proj.weight", "class_token", "encoder.pos_embedding",
        "encoder.layers.encoder_layer_0.ln_1.weight",
        "encoder.layers.encoder_layer_11.self_attention.in_proj_weight",
        "encoder.layers.encoder_layer_11.self_attention.in_proj_bias",
        "encoder.layers.encoder_layer_11.self_attention.out_proj.weight",
        "encoder.layers.encoder_layer_5.mlp.0.weight", "encoder.layers.encoder_layer_5.mlp.3.bias",
        "encoder.ln.bias", "heads.head.weight"}) {
    EXPECT_TRUE(params.contains(name)) << name;
  }
  EXPECT_EQ(params.size(), 152u);  // len(torchvision.models.vit_b_16().state_dict()): no buffers

  // vit_se, 7 classes: the head shrinks by (1000 - 7) * (768 + 1) = 763,617 and the SE block adds
  // fc1 768 * 192 + 192 and fc2 192 * 768 + 768 = 295,872.
  m.name = "vit_se";
  auto se = create_model(m, {3, 224, 7});
  EXPECT_EQ(count_parameters(*se), 86567656 - 763617 + 295872);
  se->eval();
  torch::NoGradGuard ng;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(se->forward(torch::randn({1, 3, 224, 224})).sizes(), (std::vector<int64_t>{1, 7}));
  std::cout << "ViT-B/16 + SE forward, 1 image: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
}

TEST(Vit, OverfitsATinyBatch) {
  torch::manual_seed(7);
  auto net = create_model(small_vit(), {1, 48, 4});
  auto x = torch::randn({16, 1, 48, 48});
  auto y = torch::arange(16, torch::kInt64).remainder(4);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  int steps = 0;
  double accuracy = 0;
  for (; steps < 200 && accuracy < 1.0; ++steps) {
    net->train();
    opt.zero_grad();
    auto logits = net->forward(x);
    torch::nn::functional::cross_entropy(logits, y).backward();
    opt.step();
    accuracy = logits.argmax(1).eq(y).to(torch::kFloat).mean().item<double>();
  }
  net->eval();
  torch::NoGradGuard ng;
  EXPECT_TRUE(net->forward(x).argmax(1).equal(y)) << "after " << steps << " steps";
  std::cout << "train accuracy 1.0 after " << steps << " steps\n";
}

TEST(Vit, CheckpointRoundTripGivesIdenticalOutputs) {
  fer::test::TempDir dir;
  torch::manual_seed(3);
  auto a = create_model(small_vit(), {3, 48, 3});
  torch::optim::AdamW opt(a->parameters(), torch::optim::AdamWOptions(1e-3));
  a->train();
  auto x = torch::randn({4, 3, 48, 48});
  opt.zero_grad();
  torch::nn::functional::cross_entropy(a->forward(x), torch::tensor({0, 1, 2, 0})).backward();
  opt.step();
  const std::string path = dir.str("vit.pt");
  fer::train::save_checkpoint(path, *a, &opt, {{"epoch", 1}});

  torch::manual_seed(99);
  auto b = create_model(small_vit(), {3, 48, 3});
  torch::optim::AdamW opt_b(b->parameters(), torch::optim::AdamWOptions(1e-3));
  fer::train::load_checkpoint(path, *b, &opt_b, false);
  a->eval();
  b->eval();
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
}

TEST(Vit, BadShapesAndResNetOptionsAreConfigErrors) {
  using fer::test::error_of;
  auto patch = small_vit();
  patch.vit_patch = 7;
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               create_model(patch, {3, 48, 7});
             }),
             "/model/vit_patch: must divide the input size 48");
  auto heads = small_vit();
  heads.vit_heads = 5;
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               create_model(heads, {3, 48, 7});
             }),
             "/model/vit_heads: must divide vit_dim 32, got 5");
  auto se = small_vit("vit");
  se.se = true;
  EXPECT_HAS(error_of<fer::ConfigError>([&] { create_model(se, {3, 48, 7}); }), "/model/attention:");
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               create_model(small_vit(), {4, 48, 7, {3, 1}});
             }),
             "vit_se takes a single image");
  EXPECT_HAS(error_of<fer::ConfigError>([&] {
               create_model(small_vit(), {2, 48, 7});
             }),
             "1 or 3 channels, got 2");
  // The position embedding fixes the input size.
  auto m = create_model(small_vit(), {3, 48, 7});
  EXPECT_HAS(error_of<fer::DataError>([&] {
               m->forward(torch::zeros({1, 3, 40, 40}));
             }),
             "vit_se: expected images of 48x48 px");
}

namespace {

/// Max |logits - torchvision's| for the exported small ViT, loaded strictly into our `vit`.
double parity_diff(int channels) {
  fer::test::TempDir dir;
  const std::string cmd = std::string("/usr/bin/python3 ") + FER_SOURCE_DIR +
                          "/tests/tools/export_vit.py --seed 3" + " --channels " + std::to_string(channels) +
                          " --out-dir " + dir.str() + " >" + dir.str("log") + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "export failed: " << cmd;
  auto weights = fer::models::read_pytorch_state_dict(dir.str("w.pt"));
  auto sample = fer::models::read_pytorch_state_dict(dir.str("sample.pt"));
  auto model = create_model(small_vit("vit"), {channels, 48, 5});
  fer::models::load_named_tensors(*model, weights, /*strict=*/true);
  model->eval();
  torch::NoGradGuard ng;
  auto logits = model->forward(sample.at("input"));
  EXPECT_EQ(logits.sizes(), sample.at("logits").sizes());
  EXPECT_GT(sample.at("logits").abs().max().item<double>(), 0.1);  // not a degenerate all-zero head
  return (logits - sample.at("logits")).abs().max().item<double>();
}

}  // namespace

TEST(VitParity, MatchesTorchvisionVisionTransformer) {
  if (!have_torchvision())
    GTEST_SKIP() << "/usr/bin/python3 has no torchvision (apt-get install python3-torchvision)";
  const double diff = parity_diff(3);
  std::cout << "max |logits - torchvision| = " << diff << "\n";
  EXPECT_LT(diff, 1e-4);
}

TEST(VitParity, OneChannelMatchesTorchvisionWithOneChannelProjection) {
  if (!have_torchvision())
    GTEST_SKIP() << "/usr/bin/python3 has no torchvision (apt-get install python3-torchvision)";
  EXPECT_LT(parity_diff(1), 1e-4);
}
