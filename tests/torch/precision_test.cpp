// Mixed precision (issue 21): a bf16 forward agrees with fp32 within a stated tolerance, the
// autocast scope is undone at its end, channels-last changes no value, checkpoints stay fp32,
// and a precision a device cannot run is refused with a message.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "fer/core/cpu.hpp"
#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/engine.hpp"
#include "fer/train/precision.hpp"
#include "test_util.hpp"

using fer::train::AutocastScope;

namespace {

std::shared_ptr<fer::models::Classifier> resnet(int width = 16) {
  fer::config::ModelConfig m;
  m.width = width;
  torch::manual_seed(3);
  auto net = fer::models::create_model(m, {3, 44, 7});
  net->eval();
  return net;
}

}  // namespace

// bf16 keeps 8 bits of mantissa (relative rounding 2^-9 = 0.2%); through 18 layers the logits
// of a ResNet-18 drift by a few percent of their range. Stated tolerance: every logit within 5%
// of the fp32 logits' range, and the same top class for at least 90% of the inputs.
TEST(Precision, Bf16ForwardAgreesWithFp32) {
  torch::NoGradGuard no_grad;
  auto net = resnet();
  torch::manual_seed(4);
  const auto x = torch::randn({32, 3, 44, 44});
  const auto ref = net->forward(x);
  torch::Tensor low;
  {
    const AutocastScope autocast("bf16", "cpu");
    low = net->forward(x);
  }
  EXPECT_EQ(low.scalar_type(), torch::kBFloat16);  // autocast really ran the layers in bf16
  low = low.to(torch::kFloat32);
  const double range = (ref.max() - ref.min()).item<double>();
  const double worst = (low - ref).abs().max().item<double>();
  EXPECT_LE(worst, 0.05 * range) << "range " << range;
  EXPECT_GT(worst, 0.0);  // and it is not fp32 in disguise
  const double same_top = ref.argmax(1).eq(low.argmax(1)).to(torch::kFloat32).mean().item<double>();
  EXPECT_GE(same_top, 0.9);
}

TEST(Precision, ScopeEndsAutocastAndFp32DoesNothing) {
  torch::NoGradGuard no_grad;
  torch::nn::Linear lin(8, 4);
  const auto x = torch::randn({2, 8});
  {
    const AutocastScope outer("bf16", "cpu");
    EXPECT_EQ(lin->forward(x).scalar_type(), torch::kBFloat16);
    {
      const AutocastScope inner("fp32", "cpu");  // fp32 leaves the outer scope in force
      EXPECT_EQ(lin->forward(x).scalar_type(), torch::kBFloat16);
    }
  }
  EXPECT_EQ(lin->forward(x).scalar_type(), torch::kFloat32);
  const auto logits = fer::train::forward_views(*resnet(8), torch::randn({4, 3, 44, 44}), 2, 2);
  EXPECT_EQ(logits.scalar_type(), torch::kFloat32);
}

TEST(Precision, ChannelsLastChangesNoValueAndCheckpointsStayContiguous) {
  torch::NoGradGuard no_grad;
  auto a = resnet(8);
  auto b = resnet(8);  // same seed: same weights
  fer::train::to_channels_last(*b);
  std::string name;  // the first convolution's weight
  torch::Tensor conv;
  for (const auto& p : b->named_parameters()) {
    if (p.value().dim() == 4) {
      name = p.key();
      conv = p.value();
      break;
    }
  }
  ASSERT_TRUE(conv.defined());
  EXPECT_TRUE(conv.is_contiguous(torch::MemoryFormat::ChannelsLast));
  const auto x = torch::randn({4, 3, 44, 44});
  EXPECT_TRUE(torch::allclose(a->forward(x), b->forward(x.contiguous(torch::MemoryFormat::ChannelsLast)), 1e-4, 1e-5));

  fer::test::TempDir dir;
  const std::string path = dir.str("cl.pt");
  fer::train::save_checkpoint(path, *b, nullptr, {{"config", nlohmann::json::object()}});
  const auto saved = fer::train::read_checkpoint(path).weights.at(name);
  EXPECT_TRUE(saved.is_contiguous());
  EXPECT_EQ(saved.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(saved, conv.contiguous()));
}

TEST(Precision, UnsupportedPrecisionIsRefusedWithAMessage) {
  EXPECT_HAS(fer::test::error_of<fer::ConfigError>([] { fer::train::check_precision("fp16", "cpu", "--precision"); }),
             "--precision: fp16 mixed precision needs a CUDA device (device cpu)");
  EXPECT_HAS(fer::test::error_of<fer::ConfigError>([] { fer::train::check_precision("fp64", "cpu", "train.precision"); }),
             "train.precision: expected \"fp32\", \"bf16\" or \"fp16\", got \"fp64\"");
  EXPECT_EQ(fer::train::check_precision("fp32", "cpu", "x"), "");
  // bf16 runs on every CPU; without the instructions it comes with a warning that says why.
  const std::string warning = fer::train::check_precision("bf16", "cpu", "--precision");
  EXPECT_EQ(warning.empty(), fer::cpu_bf16_support().native()) << warning;
  if (!torch::cuda::is_available()) {
    EXPECT_HAS(fer::test::error_of<fer::ConfigError>([] { fer::train::check_precision("bf16", "cuda:0", "p"); }),
               "LibTorch sees no CUDA device");
  }
}
