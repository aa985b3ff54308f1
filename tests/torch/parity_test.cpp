// Numerical parity with torchvision: the same weights and input give the same logits.
// The weights come from Debian's python3-torchvision through scripts/export_torchvision_weights.py
// (random initialisation; no download). Skipped, with a message, when /usr/bin/python3 lacks it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

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
