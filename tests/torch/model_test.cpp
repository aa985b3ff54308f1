#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "test_util.hpp"

using fer::config::ModelConfig;
using fer::models::create_model;

namespace {
ModelConfig tiny(int width = 8) {
  ModelConfig m;
  m.width = width;
  return m;
}
}  // namespace

TEST(ResNet18, OutputShapesForBothStemsAndChannelCounts) {
  torch::NoGradGuard ng;
  for (int channels : {1, 3}) {
    auto m48 = create_model(tiny(), {channels, 44, 7});
    m48->eval();
    EXPECT_EQ(m48->forward(torch::randn({2, channels, 44, 44})).sizes(), (std::vector<int64_t>{2, 7}));
    auto m224 = create_model(tiny(), {channels, 224, 5});
    m224->eval();
    EXPECT_EQ(m224->forward(torch::randn({1, channels, 224, 224})).sizes(), (std::vector<int64_t>{1, 5}));
  }
}

TEST(ResNet18, StandardWidthHasTorchvisionParameterCount) {
  ModelConfig m;
  m.stem = "7x7";
  auto net = create_model(m, {3, 224, 1000});
  int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  EXPECT_EQ(n, 11689512);  // torchvision.models.resnet18().parameters(), summed
  // Names follow torchvision, so state dicts map one to one.
  auto params = net->named_parameters();
  EXPECT_TRUE(params.contains("layer1.0.conv1.weight"));
  EXPECT_TRUE(params.contains("layer2.0.downsample.0.weight"));
  EXPECT_TRUE(params.contains("fc.bias"));
  EXPECT_TRUE(net->named_buffers().contains("layer4.1.bn2.running_var"));
}

TEST(ResNet18, SqueezeExcitationAddsParametersAndKeepsShape) {
  auto plain = create_model(tiny(16), {3, 32, 3});
  ModelConfig se = tiny(16);
  se.se = true;
  se.se_reduction = 4;
  auto with_se = create_model(se, {3, 32, 3});
  EXPECT_GT(with_se->parameters().size(), plain->parameters().size());
  EXPECT_TRUE(with_se->named_parameters().contains("layer1.0.se.fc1.weight"));
  with_se->eval();
  EXPECT_EQ(with_se->forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 3}));
}

TEST(ResNet18, UnknownModelNameListsKnownOnes) {
  ModelConfig m;
  m.name = "resnet19";
  try {
    create_model(m, {3, 48, 7});
    FAIL();
  } catch (const fer::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("resnet18"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("resnet19"), std::string::npos);
  }
}

TEST(ResNet18, OverfitsOneSmallBatch) {
  torch::manual_seed(1);
  auto net = create_model(tiny(8), {1, 16, 4});
  auto x = torch::randn({16, 1, 16, 16});
  auto y = torch::arange(16, torch::kInt64).remainder(4);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
  net->train();
  double first = 0, last = 0;
  for (int i = 0; i < 60; ++i) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
    if (i == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  EXPECT_LT(last, 0.05 * first);
  net->eval();
  torch::NoGradGuard ng;
  EXPECT_TRUE(net->forward(x).argmax(1).equal(y));
}

TEST(Checkpoint, RoundTripGivesIdenticalOutputsAndRecord) {
  fer::test::TempDir dir;
  torch::manual_seed(3);
  auto a = create_model(tiny(), {3, 24, 3});
  torch::optim::SGD opt(a->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  // One step so the optimizer and batch-norm statistics have state.
  a->train();
  auto x = torch::randn({4, 3, 24, 24});
  opt.zero_grad();
  torch::nn::functional::cross_entropy(a->forward(x), torch::tensor({0, 1, 2, 0})).backward();
  opt.step();
  const std::string path = dir.str("m.pt");
  fer::train::save_checkpoint(path, *a, &opt, {{"class_names", {"a", "b", "c"}}, {"epoch", 1}});

  torch::manual_seed(99);
  auto b = create_model(tiny(), {3, 24, 3});
  torch::optim::SGD opt_b(b->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  auto meta = fer::train::load_checkpoint(path, *b, &opt_b, false);
  EXPECT_EQ(meta.at("class_names")[2], "c");
  EXPECT_EQ(fer::train::read_checkpoint_meta(path).at("epoch"), 1);
  a->eval();
  b->eval();
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
}

TEST(Checkpoint, OtherArchitectureIsAClearError) {
  fer::test::TempDir dir;
  auto a = create_model(tiny(8), {3, 24, 3});
  fer::train::save_checkpoint(dir.str("a.pt"), *a, nullptr, nlohmann::json::object());
  auto b = create_model(tiny(16), {3, 24, 3});
  try {
    fer::train::load_checkpoint(dir.str("a.pt"), *b, nullptr, false);
    FAIL();
  } catch (const fer::DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("a.pt"), std::string::npos);
    EXPECT_NE(msg.find("shape mismatch"), std::string::npos);
    EXPECT_NE(msg.find("conv1.weight"), std::string::npos);
  }
}

TEST(Checkpoint, NotACheckpointIsAClearError) {
  fer::test::TempDir dir;
  std::ofstream(dir.str("junk.pt")) << "not a checkpoint";
  auto a = create_model(tiny(8), {3, 24, 3});
  EXPECT_THROW(fer::train::load_checkpoint(dir.str("junk.pt"), *a, nullptr, false), fer::DataError);
  EXPECT_THROW(fer::train::read_checkpoint_meta(dir.str("missing.pt")), fer::IoError);
}
