// The attention variants of the ResNet-18 family (model.attention) and the self-cure
// importance branch (model.importance_weighting): CBAM against its formula, parameter names,
// every model's embed/classify split, training with the importance-weighted loss and
// checkpoint round trips.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "../../src/models/backbone.hpp"
#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/losses.hpp"
#include "test_util.hpp"

using fer::config::ModelConfig;
using fer::models::create_model;
using fer::models::InputSpec;

namespace {

ModelConfig small_resnet(bool se, bool cbam, bool gate) {
  ModelConfig m;
  m.width = 8;
  m.se = se;
  m.cbam = cbam;
  m.feature_gate = gate;
  m.se_reduction = 4;
  return m;
}

bool has_param(fer::models::Classifier& m, const std::string& name) {
  return m.named_parameters().contains(name);
}

}  // namespace

TEST(Cbam, MatchesTheFormula) {
  torch::manual_seed(1);
  fer::models::detail::Cbam cbam(8, 2);
  cbam->eval();  // batch norm on its (initial) running statistics: (v - 0) / sqrt(1 + eps)
  auto x = torch::randn({3, 8, 5, 5});
  torch::NoGradGuard ng;
  auto mlp = [&](const torch::Tensor& v) {
    return torch::relu(v.matmul(cbam->fc1->weight.t()) + cbam->fc1->bias).matmul(cbam->fc2->weight.t()) +
           cbam->fc2->bias;
  };
  auto ch = torch::sigmoid(mlp(x.mean({2, 3})) + mlp(x.amax({2, 3})));
  auto y = x * ch.view({3, 8, 1, 1});
  auto maps = torch::cat({y.mean(1, true), y.amax(1, true)}, 1);
  auto s = torch::conv2d(maps, cbam->spatial_conv->weight, {}, 1, 3) / std::sqrt(1.0 + 1e-5);
  auto expected = y * torch::sigmoid(s);
  EXPECT_TRUE(torch::allclose(cbam->forward(x), expected, 1e-5, 1e-6));
}

TEST(Attention, OneKeyChoosesTheVariantAndNamesItsParameters) {
  const InputSpec in{1, 32, 4};
  struct Case {
    bool se, cbam, gate;
    std::vector<std::string> present, absent;
  };
  const std::vector<Case> cases = {
      {false,
       false,
       false,
       {"layer1.0.conv1.weight"},
       {"layer1.0.se.fc1.weight", "layer1.0.cbam.fc1.weight", "gate.fc.weight"}},
      {true, false, false, {"layer4.1.se.fc2.weight"}, {"layer1.0.cbam.fc1.weight", "gate.fc.weight"}},
      {false,
       true,
       false,
       {"layer4.1.cbam.fc1.weight", "layer2.0.cbam.spatial_conv.weight", "layer3.1.cbam.spatial_bn.weight"},
       {"layer1.0.se.fc1.weight", "gate.fc.weight"}},
      {false, true, true, {"layer1.1.cbam.fc2.bias", "gate.fc.weight"}, {"layer1.0.se.fc1.weight"}},
  };
  for (const auto& c : cases) {
    torch::manual_seed(0);
    auto m = create_model(small_resnet(c.se, c.cbam, c.gate), in);
    for (const auto& p : c.present) EXPECT_TRUE(has_param(*m, p)) << p;
    for (const auto& p : c.absent) EXPECT_FALSE(has_param(*m, p)) << p;
    m->eval();
    torch::NoGradGuard ng;
    EXPECT_EQ(m->forward(torch::randn({2, 1, 32, 32})).sizes(), (std::vector<int64_t>{2, 4}));
  }
  EXPECT_HAS(
      fer::test::error_of<fer::ConfigError>([&] { create_model(small_resnet(true, true, false), in); }),
      "/model/attention: SE and CBAM");
  ModelConfig vgg;
  vgg.name = "vgg19";
  vgg.cbam = true;
  EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] {
               create_model(vgg, {1, 44, 4});
             }),
             "/model/attention: vgg19 has no residual blocks for CBAM");
}

TEST(Attention, CbamResNetOverfitsASmallBatch) {
  torch::manual_seed(3);
  auto m = create_model(small_resnet(false, true, true), {1, 24, 4});
  auto x = torch::randn({16, 1, 24, 24});
  auto y = torch::arange(16, torch::kInt64).remainder(4);
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(3e-3));
  m->train();
  double loss = 0;
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    auto l = torch::nn::functional::cross_entropy(m->forward(x), y);
    l.backward();
    opt.step();
    loss = l.item<double>();
  }
  m->eval();
  torch::NoGradGuard ng;
  EXPECT_LT(loss, 0.1);
  EXPECT_TRUE(m->forward(x).argmax(1).equal(y));
}

TEST(Embedding, EveryModelButFusionLateSplitsIntoEmbedAndClassify) {
  struct Case {
    ModelConfig cfg;
    InputSpec in;
    int64_t dim;
    std::string head;
  };
  auto named = [](const std::string& n) {
    ModelConfig m;
    m.name = n;
    return m;
  };
  ModelConfig vit = named("vit_se");
  vit.vit_patch = 8, vit.vit_dim = 32, vit.vit_depth = 1, vit.vit_heads = 2, vit.vit_mlp_dim = 64;
  ModelConfig paper = small_resnet(false, false, true);
  paper.head = "infrared";
  ModelConfig feature = small_resnet(false, false, false);
  feature.name = "fusion_feature";
  const std::vector<Case> cases = {
      {small_resnet(false, false, false), {1, 32, 3}, 64, "fc."},
      {paper, {1, 32, 3}, 64, "head.5."},
      {named("vgg19"), {1, 44, 3}, 512, "classifier."},
      {named("compact_cnn"), {1, 48, 3}, 1024, "classifier.6."},
      {vit, {3, 32, 3}, 32, "heads.head."},
      {feature, {4, 32, 3, {3, 1}}, 128, "fc."},
  };
  for (const auto& c : cases) {
    torch::manual_seed(0);
    auto m = create_model(c.cfg, c.in);
    EXPECT_EQ(m->embed_dim(), c.dim) << c.cfg.name;
    EXPECT_EQ(m->head_prefix(), c.head) << c.cfg.name;
    EXPECT_TRUE(has_param(*m, c.head + "weight")) << c.cfg.name;
    m->eval();
    torch::NoGradGuard ng;
    auto x = torch::randn({2, c.in.channels, c.in.size, c.in.size});
    auto f = m->embed(x);
    EXPECT_EQ(f.sizes(), (std::vector<int64_t>{2, c.dim})) << c.cfg.name;
    EXPECT_TRUE(torch::allclose(m->classify(f), m->forward(x), 1e-5, 1e-6)) << c.cfg.name;
  }
  ModelConfig late = small_resnet(false, false, false);
  late.name = "fusion_late";
  late.importance_weighting = true;
  EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] {
               create_model(late, {4, 32, 3, {3, 1}});
             }),
             "/model/importance_weighting: this model has no single embedding");
}

TEST(SelfCure, ImportanceBranchWeightsSamplesAndTrainsWithTheWeightedLoss) {
  ModelConfig cfg = small_resnet(false, false, false);
  cfg.importance_weighting = true;
  torch::manual_seed(4);
  auto m = create_model(cfg, {1, 24, 4});
  ASSERT_TRUE(m->has_importance_branch());
  EXPECT_EQ(m->named_parameters()["importance.weight"].sizes(), (std::vector<int64_t>{1, 64}));
  auto x = torch::randn({16, 1, 24, 24});
  auto y = torch::arange(16, torch::kInt64).remainder(4);
  {
    m->eval();
    torch::NoGradGuard ng;
    auto [logits, alpha] = m->forward_weighted(x);
    EXPECT_EQ(alpha.sizes(), (std::vector<int64_t>{16}));
    EXPECT_GT(alpha.min().item<double>(), 0.0);
    EXPECT_LT(alpha.max().item<double>(), 1.0);
    EXPECT_TRUE(torch::allclose(logits, m->forward(x), 1e-5, 1e-6));  // unscaled: inference ignores alpha
  }
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(3e-3));
  m->train();
  const auto w0 = m->named_parameters()["importance.weight"].clone();
  double ce = 0;
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    auto [logits, alpha] = m->forward_weighted(x);
    auto loss = fer::train::importance_weighted_loss(logits, alpha, y, 0.7, 0.15, 1.0);
    loss.total.backward();
    opt.step();
    ce = torch::nn::functional::cross_entropy(logits, y).item<double>();
  }
  EXPECT_FALSE(m->named_parameters()["importance.weight"].equal(w0)) << "the importance branch must learn";
  EXPECT_LT(ce, 0.2);
  m->eval();
  torch::NoGradGuard ng;
  EXPECT_TRUE(m->forward(x).argmax(1).equal(y));

  // the branch is saved with the model
  fer::test::TempDir dir;
  fer::train::save_checkpoint(dir.str("m.pt"), *m, nullptr, {{"epoch", 1}});
  torch::manual_seed(9);
  auto b = create_model(cfg, {1, 24, 4});
  fer::train::load_checkpoint(dir.str("m.pt"), *b, nullptr, false);
  b->eval();
  EXPECT_TRUE(torch::equal(std::get<1>(m->forward_weighted(x)), std::get<1>(b->forward_weighted(x))));
  ModelConfig plain = small_resnet(false, false, false);
  auto c = create_model(plain, {1, 24, 4});
  EXPECT_HAS(fer::test::error_of<fer::DataError>(
                 [&] { fer::train::load_checkpoint(dir.str("m.pt"), *c, nullptr, false); }),
             "importance.weight");
}
