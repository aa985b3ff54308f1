// The single-image model zoo beside ResNet-18: vgg19 (the seed's VGG-19 with batch norm) and
// compact_cnn (Kuo et al. 2018). Shapes on every supported input, hand-counted parameters (so
// the architectures are pinned), overfitting a small generated batch, checkpoint round trips and
// clear errors for unsupported input or options.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/models/registry.hpp"
#include "fer/train/checkpoint.hpp"
#include "test_util.hpp"

using fer::config::ModelConfig;
using fer::models::Classifier;
using fer::models::create_model;
using fer::models::InputSpec;

namespace {

ModelConfig named(const std::string& name, double dropout = 0.0) {
  ModelConfig m;
  m.name = name;
  m.dropout = dropout;
  return m;
}

int64_t count_parameters(Classifier& net) {
  int64_t n = 0;
  for (const auto& p : net.parameters()) n += p.numel();
  return n;
}

/// Trains on `n` generated images with fixed labels (4 classes) until the training batch is
/// classified perfectly (train mode) with a loss below 0.1; returns the number of Adam steps
/// taken (max_steps + 1 = never).
int steps_to_fit(Classifier& net, int channels, int size, int n, int max_steps, double lr) {
  auto x = torch::randn({n, channels, size, size});
  auto y = torch::arange(n, torch::kInt64).remainder(4);
  torch::optim::Adam opt(net.parameters(), torch::optim::AdamOptions(lr));
  net.train();
  for (int step = 1; step <= max_steps; ++step) {
    opt.zero_grad();
    auto logits = net.forward(x);
    auto loss = torch::nn::functional::cross_entropy(logits, y);
    if (logits.argmax(1).equal(y) && loss.item<double>() < 0.1) return step - 1;
    loss.backward();
    opt.step();
  }
  return max_steps + 1;
}

/// Saves `a` with the project's checkpoint functions, loads into a freshly initialised `b`
/// and compares eval-mode outputs.
void expect_round_trip(const ModelConfig& cfg, const InputSpec& in) {
  fer::test::TempDir dir;
  torch::manual_seed(5);
  auto a = create_model(cfg, in);
  // One training step so batch-norm statistics (vgg19) and PReLU slopes differ from init.
  a->train();
  auto x = torch::randn({4, in.channels, in.size, in.size});
  torch::optim::SGD opt(a->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  torch::nn::functional::cross_entropy(a->forward(x), torch::tensor({0, 1, 2, 0})).backward();
  opt.step();
  const std::string path = dir.str("m.pt");
  // Weights and buffers only: the optimizer state would double the file (80 MB for vgg19).
  fer::train::save_checkpoint(path, *a, nullptr, {{"epoch", 1}});

  torch::manual_seed(77);
  auto b = create_model(cfg, in);
  fer::train::load_checkpoint(path, *b, nullptr, false);
  a->eval();
  b->eval();
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
}

}  // namespace

TEST(ModelZoo, RegistryListsEveryModelOnceInAFixedOrder) {
  EXPECT_EQ(fer::models::model_registry().names(),
            (std::vector<std::string>{"resnet18", "fusion_early", "fusion_feature", "fusion_late", "vgg19",
                                      "compact_cnn", "vit", "vit_se"}));
  for (const auto& e : fer::models::model_registry().entries()) {
    EXPECT_FALSE(e.description.empty()) << e.name;
    EXPECT_TRUE(static_cast<bool>(e.value.build)) << e.name;
  }
  // Registering a name twice is a programming error, not a silent replacement.
  fer::models::ModelRegistry r("model");
  r.add("a", "first", {});
  EXPECT_THROW(r.add("a", "again", {}), std::logic_error);
}

TEST(ModelZoo, UnknownNameNamesWhereItWasWrittenAndTheClosestModel) {
  const fer::config::Config cfg = fer::config::parse_config(R"({"data": {"path": "x"},
  "model": {"name": "resnet"}})",
                                                            "t.json");
  EXPECT_EQ(cfg.model.name_at, "t.json:2: /model/name");
  try {
    fer::models::check_model_name(cfg.model);
    FAIL() << "resnet was accepted";
  } catch (const fer::ConfigError& e) {
    EXPECT_EQ(
        std::string(e.what()),
        "t.json:2: /model/name: expected one of \"resnet18\", \"fusion_early\", \"fusion_feature\", "
        "\"fusion_late\", \"vgg19\", \"compact_cnn\", \"vit\", \"vit_se\", got \"resnet\" (did you mean "
        "\"resnet18\"?)");
  }
  // create_model refuses it the same way.
  EXPECT_THROW(fer::models::create_model(cfg.model, {3, 48, 7}), fer::ConfigError);
}

// ---------------------------------------------------------------------------------- vgg19

TEST(Vgg19, OutputShapeForGrayAndColourAt44And48Px) {
  torch::NoGradGuard ng;
  for (int channels : {1, 3}) {
    for (int size : {44, 48}) {
      auto net = create_model(named("vgg19", 0.5), {channels, size, 7});
      net->eval();
      EXPECT_EQ(net->forward(torch::randn({2, channels, size, size})).sizes(), (std::vector<int64_t>{2, 7}))
          << channels << " channels, " << size << " px";
    }
  }
  // Outside 32..63 px the last map is not 1x1 and is average-pooled: any side >= 32 works.
  auto big = create_model(named("vgg19"), {3, 64, 5});
  big->eval();
  EXPECT_EQ(big->forward(torch::randn({1, 3, 64, 64})).sizes(), (std::vector<int64_t>{1, 5}));
}

TEST(Vgg19, ParameterCountAndTorchvisionNames) {
  // Convolutions (3x3 weights + bias), in -> out channels:
  //   c->64: 576c+64 | 64->64: 36,928 | 64->128: 73,856 | 128->128: 147,584 | 128->256: 295,168
  //   256->256 x3: 1,770,240 | 256->512: 1,180,160 | 512->512 x7: 16,518,656
  //   sum after the first: 20,022,592; first conv 1,792 (c=3) or 640 (c=1)
  // BatchNorm weight + bias: 2 x (2x64 + 2x128 + 4x256 + 8x512) = 11,008
  // classifier Linear(512, 7): 3,591
  // c=3: 20,038,983 (features 20,035,392 = torchvision vgg19_bn's 143,678,248 minus its
  // 123,642,856-parameter classifier); c=1: 20,037,831.
  auto rgb = create_model(named("vgg19"), {3, 44, 7});
  EXPECT_EQ(count_parameters(*rgb), 20038983);
  auto gray = create_model(named("vgg19"), {1, 44, 7});
  EXPECT_EQ(count_parameters(*gray), 20037831);

  const auto params = rgb->named_parameters();
  const auto buffers = rgb->named_buffers();
  // torchvision vgg19_bn indices: conv i, bn i+1, relu i+2; pools at 6, 13, 26, 39, 52.
  for (int conv : {0, 3, 7, 10, 14, 17, 20, 23, 27, 30, 33, 36, 40, 43, 46, 49}) {
    EXPECT_TRUE(params.contains(fmt::format("features.{}.weight", conv))) << conv;
    EXPECT_TRUE(params.contains(fmt::format("features.{}.bias", conv))) << conv;
    EXPECT_TRUE(buffers.contains(fmt::format("features.{}.running_var", conv + 1))) << conv + 1;
  }
  EXPECT_EQ(params["features.49.weight"].sizes(), (std::vector<int64_t>{512, 512, 3, 3}));
  EXPECT_EQ(params["classifier.weight"].sizes(), (std::vector<int64_t>{7, 512}));
  EXPECT_EQ(params.size(), 16 * 4 + 2);
}

TEST(Vgg19, OverfitsASmallGeneratedBatch) {
  // 32 px (the smallest side, same 1x1 final map as 44 px) keeps this to seconds on 2 cores.
  torch::manual_seed(1);
  auto net = create_model(named("vgg19"), {1, 32, 4});
  const int steps = steps_to_fit(*net, 1, 32, 8, 60, 1e-3);
  RecordProperty("adam_steps", steps);
  EXPECT_LE(steps, 60);
}

TEST(Vgg19, CheckpointRoundTripGivesIdenticalOutputs) { expect_round_trip(named("vgg19", 0.5), {3, 44, 3}); }

TEST(Vgg19, TooSmallInputIsAConfigError) {
  const auto msg = fer::test::error_of<fer::ConfigError>([] { create_model(named("vgg19"), {3, 28, 7}); });
  EXPECT_HAS(msg, "vgg19");
  EXPECT_HAS(msg, "at least 32x32");
  EXPECT_HAS(msg, "28x28");
}

// ---------------------------------------------------------------------------- compact_cnn

TEST(CompactCnn, OutputShapeFor48PxGrayAnd96PxColour) {
  torch::NoGradGuard ng;
  struct Case {
    int channels, size;
  };
  for (const Case c : {Case{1, 48}, Case{3, 96}, Case{1, 44}, Case{3, 48}}) {
    auto net = create_model(named("compact_cnn", 0.5), {c.channels, c.size, 7});
    net->eval();
    EXPECT_EQ(net->forward(torch::randn({2, c.channels, c.size, c.size})).sizes(),
              (std::vector<int64_t>{2, 7}))
        << c.channels << " channels, " << c.size << " px";
  }
}

TEST(CompactCnn, ParameterCountPinsBothVariants) {
  // 48 px, 1 channel, unpadded: 48 -1x1-> 48 -3x3-> 46 -5x5-> 42 -pool-> 21 -3x3-> 19 -5x5-> 15
  // -pool-> 7, so fc1 sees 7x7x64 = 3,136 features.
  //   conv 1x1 1->32: 64 | conv 3x3 32->64: 18,496 | conv 5x5 64->64: 102,464
  //   conv 3x3 64->64: 36,928 | conv 5x5 64->64: 102,464 | 4 PReLU x 64 slopes: 256
  //   fc1 3136->2048: 6,424,576 | fc2 2048->1024: 2,098,176 | fc3 1024->7: 7,175
  //   total 8,790,599
  auto gray48 = create_model(named("compact_cnn"), {1, 48, 7});
  EXPECT_EQ(count_parameters(*gray48), 8790599);
  // 96 px, 3 channels, padded: 96 -> 48 -> 24, fc1 sees 24x24x64 = 36,864 features.
  //   conv 1x1 3->32: 128 | the other convolutions and PReLUs as above: 260,608
  //   fc1 36864->2048: 75,499,520 | fc2: 2,098,176 | fc3: 7,175   total 77,865,607
  auto colour96 = create_model(named("compact_cnn"), {3, 96, 7});
  EXPECT_EQ(count_parameters(*colour96), 77865607);

  const auto params = gray48->named_parameters();
  EXPECT_EQ(params["features.4.weight"].sizes(), (std::vector<int64_t>{64, 64, 5, 5}));
  EXPECT_EQ(params["features.5.weight"].sizes(), (std::vector<int64_t>{64}));  // PReLU slopes
  EXPECT_EQ(params["classifier.0.weight"].sizes(), (std::vector<int64_t>{2048, 3136}));
  EXPECT_EQ(params["classifier.6.weight"].sizes(), (std::vector<int64_t>{7, 1024}));
}

TEST(CompactCnn, OverfitsASmallGeneratedBatchAt48PxGray) {
  torch::manual_seed(2);
  auto net = create_model(named("compact_cnn"), {1, 48, 4});
  const int steps = steps_to_fit(*net, 1, 48, 8, 60, 1e-3);
  RecordProperty("adam_steps", steps);
  EXPECT_LE(steps, 60);
}

TEST(CompactCnn, CheckpointRoundTripGivesIdenticalOutputs) {
  expect_round_trip(named("compact_cnn", 0.5), {1, 48, 3});
}

TEST(CompactCnn, TooSmallInputIsAConfigError) {
  const auto msg = fer::test::error_of<fer::ConfigError>([] {
    create_model(named("compact_cnn"), {1, 20, 7});
  });
  EXPECT_HAS(msg, "compact_cnn");
  EXPECT_HAS(msg, "at least 22x22");
  // 22 px is the smallest side that still leaves a 1x1 map.
  auto net = create_model(named("compact_cnn"), {1, 22, 7});
  net->eval();
  torch::NoGradGuard ng;
  EXPECT_EQ(net->forward(torch::randn({1, 1, 22, 22})).sizes(), (std::vector<int64_t>{1, 7}));
}

// ------------------------------------------------------------------------------- both models

TEST(ModelZoo, PairedOrOddChannelInputIsAConfigError) {
  for (const std::string name : {"vgg19", "compact_cnn"}) {
    auto msg = fer::test::error_of<fer::ConfigError>([&] { create_model(named(name), {4, 48, 7, {3, 1}}); });
    EXPECT_HAS(msg, "/model/name");
    EXPECT_HAS(msg, name + " takes a single image");
    msg = fer::test::error_of<fer::ConfigError>([&] { create_model(named(name), {2, 48, 7}); });
    EXPECT_HAS(msg, "1 or 3 channels, got 2");
  }
}

TEST(ModelZoo, ResNetOnlyOptionsAreConfigErrorsNamingTheKey) {
  for (const std::string name : {"vgg19", "compact_cnn"}) {
    const InputSpec in{1, 48, 7};
    ModelConfig se = named(name);
    se.se = true;
    EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] { create_model(se, in); }),
               "/model/attention: " + name + " has no residual blocks for squeeze-and-excitation");
    ModelConfig width = named(name);
    width.width = 32;
    EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] { create_model(width, in); }),
               "/model/width: " + name);
    ModelConfig head = named(name);
    head.head = "visible";
    EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] { create_model(head, in); }),
               "/model/head: " + name);
    ModelConfig gate = named(name);
    gate.feature_gate = true;
    EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] { create_model(gate, in); }),
               "/model/attention: " + name + " has no feature gate");
    ModelConfig stem = named(name);
    stem.stem = "3x3";
    EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] { create_model(stem, in); }),
               "/model/stem: " + name);
  }
}
