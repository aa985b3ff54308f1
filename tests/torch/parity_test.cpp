// Numerical parity with torchvision: the same weights and input give the same logits.
// The weights come from Debian's python3-torchvision through scripts/export_torchvision_weights.py
// (random initialisation; no download). Skipped, with a message, when /usr/bin/python3 lacks it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "test_util.hpp"

namespace {

bool have_torchvision() {
  static const bool ok =
      std::system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") == 0;
  return ok;
}

void export_weights(const std::string& dir, const std::string& extra) {
  const std::string cmd = std::string("/usr/bin/python3 ") + FER_SOURCE_DIR +
                          "/scripts/export_torchvision_weights.py --arch resnet18 --num-classes 7 --seed 5 --out " +
                          dir + "/w.pt --sample-out " + dir + "/sample.pt " + extra + " >" + dir + "/log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "export failed: " << cmd;
}

double max_abs_diff_with_torchvision(const std::string& dir, const fer::config::ModelConfig& mc, int size) {
  auto weights = fer::models::read_pytorch_state_dict(dir + "/w.pt");
  auto sample = fer::models::read_pytorch_state_dict(dir + "/sample.pt");
  auto model = fer::models::create_model(mc, {3, size, 7});
  fer::models::load_named_tensors(*model, weights, /*strict=*/true);
  model->eval();
  torch::NoGradGuard ng;
  auto logits = model->forward(sample.at("input"));
  EXPECT_EQ(logits.sizes(), sample.at("logits").sizes());
  return (logits - sample.at("logits")).abs().max().item<double>();
}

}  // namespace

TEST(Parity, ResNet18With7x7StemMatchesTorchvision) {
  if (!have_torchvision()) GTEST_SKIP() << "/usr/bin/python3 has no torchvision (apt-get install python3-torchvision)";
  fer::test::TempDir dir;
  export_weights(dir.str(), "--size 224");
  fer::config::ModelConfig mc;
  mc.stem = "7x7";
  const double diff = max_abs_diff_with_torchvision(dir.str(), mc, 224);
  EXPECT_LT(diff, 1e-4);
}

TEST(Parity, ResNet18With3x3StemMatchesModifiedTorchvision) {
  if (!have_torchvision()) GTEST_SKIP() << "/usr/bin/python3 has no torchvision (apt-get install python3-torchvision)";
  fer::test::TempDir dir;
  export_weights(dir.str(), "--size 48 --stem3x3");
  fer::config::ModelConfig mc;
  mc.stem = "3x3";
  EXPECT_LT(max_abs_diff_with_torchvision(dir.str(), mc, 48), 1e-4);
}

TEST(Parity, WrongArchitectureListsTheKeys) {
  if (!have_torchvision()) GTEST_SKIP() << "/usr/bin/python3 has no torchvision (apt-get install python3-torchvision)";
  fer::test::TempDir dir;
  export_weights(dir.str(), "--size 224");
  auto weights = fer::models::read_pytorch_state_dict(dir.str() + "/w.pt");
  weights.erase("layer3.1.bn2.running_var");
  weights.emplace("extra.weight", torch::zeros({1}));
  fer::config::ModelConfig mc;
  mc.stem = "7x7";
  auto model = fer::models::create_model(mc, {3, 224, 7});
  try {
    fer::models::load_named_tensors(*model, weights, true);
    FAIL();
  } catch (const fer::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing: layer3.1.bn2.running_var"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unexpected: extra.weight"), std::string::npos) << e.what();
  }
}

// ---- the seed code's own ResNet18 (../shared/reference/seed_ck_plus/models/resnet.py) ----
namespace {

/// Runs tests/tools/export_seed_resnet.py into `dir`; "" when it ran, else why it cannot.
std::string export_seed_resnet(const std::string& dir) {
  const std::string seed_dir = std::string(FER_SHARED_DATA) + "/../reference/seed_ck_plus";
  if (!std::filesystem::exists(seed_dir + "/models/resnet.py")) return seed_dir + " is absent";
  if (!have_torchvision()) return "/usr/bin/python3 has no torch (apt-get install python3-torch)";
  const std::string cmd = std::string("/usr/bin/python3 ") + FER_SOURCE_DIR + "/tests/tools/export_seed_resnet.py " +
                          seed_dir + " " + dir + " --seed 3 >" + dir + "/log 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "export failed: " << cmd;
  return "";
}

fer::config::ModelConfig seed_resnet_config(const std::string& init, const std::string& pool) {
  fer::config::ModelConfig mc;
  mc.stem = "3x3";
  mc.dropout = 0.5;
  mc.init = init;
  mc.pool = pool;
  return mc;
}

}  // namespace

TEST(SeedParity, Avg4PoolGivesTheSeedResNetsLogits) {
  fer::test::TempDir dir;
  if (auto why = export_seed_resnet(dir.str()); !why.empty()) GTEST_SKIP() << why;
  auto weights = fer::models::read_pytorch_state_dict(dir.str() + "/w.pt");
  auto sample = fer::models::read_pytorch_state_dict(dir.str() + "/sample.pt");
  auto logits_with = [&](const std::string& pool) {
    auto model = fer::models::create_model(seed_resnet_config("pytorch", pool), {3, 44, 7});
    fer::models::load_named_tensors(*model, weights, /*strict=*/true);
    model->eval();
    torch::NoGradGuard ng;
    return model->forward(sample.at("input"));
  };
  const auto& want = sample.at("logits");
  EXPECT_LT((logits_with("avg4") - want).abs().max().item<double>(), 1e-4);
  // The whole-map pool fer uses by default reads all of the 6x6 map, the seed only its top-left
  // 4x4 corner: the same weights then give other logits.
  EXPECT_GT((logits_with("global") - want).abs().max().item<double>(), 1e-3);
}

TEST(SeedParity, PytorchInitHasTheSeedsWeightScaleLayerByLayer) {
  fer::test::TempDir dir;
  if (auto why = export_seed_resnet(dir.str()); !why.empty()) GTEST_SKIP() << why;
  auto seed_std = fer::models::read_pytorch_state_dict(dir.str() + "/init.pt");
  ASSERT_EQ(seed_std.size(), 21u);  // 17 3x3 convs + 3 shortcut 1x1 convs + the linear layer
  torch::manual_seed(3);
  auto pytorch_init = fer::models::create_model(seed_resnet_config("pytorch", "avg4"), {3, 44, 7});
  torch::manual_seed(3);
  auto model_init = fer::models::create_model(seed_resnet_config("model", "avg4"), {3, 44, 7});
  auto params = pytorch_init->named_parameters();
  auto tv_params = model_init->named_parameters();
  for (const auto& [key, value] : seed_std) {
    const std::string name = key.substr(0, key.size() - 4) + ".weight";  // "<layer>.std"
    ASSERT_TRUE(params.contains(name)) << name;
    const double ratio = params[name].std().item<double>() / value.item<double>();
    EXPECT_NEAR(ratio, 1.0, 0.1) << name;  // >= 1728 weights each: the estimate is within ~2%
    const auto& w = tv_params[name];
    if (w.dim() == 4) {
      // torchvision's Kaiming-normal fan-out, std sqrt(2 / fan_out), against PyTorch's default,
      // std 1 / sqrt(3 fan_in): sqrt(6 in / out) = 2.45x for the convolutions that keep the width.
      const double expected = std::sqrt(6.0 * static_cast<double>(w.size(1)) / static_cast<double>(w.size(0)));
      EXPECT_NEAR(w.std().item<double>() / value.item<double>(), expected, 0.1 * expected) << name;
    }
  }
}

TEST(SeedParity, Avg4PoolRefusesInputsWhoseMapItDoesNotFit) {
  for (int size : {16, 64, 224}) {
    const auto msg = fer::test::error_of<fer::ConfigError>(
        [&] { fer::models::create_model(seed_resnet_config("pytorch", "avg4"), {3, size, 7}); });
    EXPECT_HAS(msg, "/model/pool");
    EXPECT_HAS(msg, std::to_string(size) + " px inputs");
  }
  fer::config::ModelConfig vgg;
  vgg.name = "vgg19";
  vgg.pool = "avg4";
  EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] { fer::models::create_model(vgg, {3, 44, 7}); }),
             "/model/pool");
}
