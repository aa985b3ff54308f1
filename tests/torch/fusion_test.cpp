// Visible + infrared fusion models (fusion_early, fusion_feature, fusion_late), the feature
// gate and the paper's MLP heads. Tiny models on generated tensors; the whole file runs in
// seconds.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "test_util.hpp"

using fer::config::ModelConfig;
using fer::models::Classifier;
using fer::models::create_model;
using fer::models::InputSpec;
namespace nn = torch::nn;

namespace {

ModelConfig tiny(const std::string& name, int width = 4) {
  ModelConfig m;
  m.name = name;
  m.width = width;
  return m;
}

/// Visible (3 channels) + infrared (1 channel), stacked.
InputSpec paired(int size = 16, int classes = 4) { return {4, size, classes, {3, 1}}; }

std::shared_ptr<nn::Module> child(nn::Module& m, const std::string& name) {
  auto children = m.named_children();
  EXPECT_TRUE(children.contains(name)) << name;
  return children.contains(name) ? children[name] : nullptr;
}

/// The layers of a head (a Sequential), for inspection.
std::vector<std::shared_ptr<nn::Module>> head_layers(nn::Module& model) {
  auto head = child(model, "head");
  if (!head) return {};
  return head->children();
}

double dropout_p(const std::shared_ptr<nn::Module>& m) {
  auto* d = m->as<nn::Dropout>();
  EXPECT_NE(d, nullptr) << m->name();
  return d ? d->options.p() : -1;
}

std::pair<int64_t, int64_t> linear_shape(const std::shared_ptr<nn::Module>& m) {
  auto* l = m->as<nn::Linear>();
  EXPECT_NE(l, nullptr) << m->name();
  return l ? std::make_pair(l->options.in_features(), l->options.out_features()) : std::pair<int64_t, int64_t>(-1, -1);
}

/// Every variant of every model that takes paired input.
std::vector<ModelConfig> all_variants() {
  std::vector<ModelConfig> out;
  for (const std::string name : {"resnet18", "fusion_early", "fusion_feature", "fusion_late"}) {
    for (const std::string head : {"linear", "visible", "infrared"}) {
      for (bool gate : {false, true}) {
        for (int option = 0; option < 2; ++option) {
          ModelConfig m = tiny(name);
          m.head = head;
          m.feature_gate = gate;
          m.dropout = 0.3;
          if (name == "fusion_feature") {
            m.fusion_features = option ? "interleave" : "concat";
          } else if (name == "fusion_late") {
            m.late_combine = option ? "learned" : "mean";
          } else if (option) {
            continue;
          }
          out.push_back(m);
        }
      }
    }
  }
  return out;
}

std::string describe(const ModelConfig& m) {
  return m.name + " head=" + m.head + " gate=" + std::to_string(m.feature_gate) + " " + m.fusion_features + " " +
         m.late_combine;
}

// ---- data where each modality holds half of the signal ----------------------------------------

struct Batch {
  torch::Tensor x, y;
};

/// 4 classes, class = 2a + b. Bit a lives only in the 3 visible channels (a bright or a dark
/// 6x6 blob at a random place), bit b only in the infrared channel (horizontal or vertical
/// stripes, random phase). Gaussian noise everywhere.
Batch half_signal_data(int n, int size, uint64_t seed) {
  torch::manual_seed(seed);
  auto y = torch::randint(0, 4, {n}, torch::kInt64);
  auto x = 0.5 * torch::randn({n, 4, size, size});
  auto pos = torch::randint(0, size - 6, {n, 2}, torch::kInt64);
  auto phase = torch::randint(0, 4, {n}, torch::kInt64);
  auto xa = x.accessor<float, 4>();
  auto ya = y.accessor<int64_t, 1>();
  auto pa = pos.accessor<int64_t, 2>();
  auto ph = phase.accessor<int64_t, 1>();
  for (int i = 0; i < n; ++i) {
    const int a = static_cast<int>(ya[i] / 2), b = static_cast<int>(ya[i] % 2);
    const float sign = a ? 1.5f : -1.5f;
    for (int c = 0; c < 3; ++c)
      for (int r = 0; r < 6; ++r)
        for (int q = 0; q < 6; ++q) xa[i][c][pa[i][0] + r][pa[i][1] + q] += sign;
    for (int r = 0; r < size; ++r) {
      for (int q = 0; q < size; ++q) {
        const int k = static_cast<int>((b ? r : q) + ph[i]);
        xa[i][3][r][q] += (k / 2) % 2 ? 1.0f : -1.0f;
      }
    }
  }
  return {x, y};
}

/// Trains with Adam on `train` (mini-batches of 32, `steps` steps) and returns the held-out
/// accuracy in eval mode. `select` picks input channels (single-stream baselines).
double train_and_test(Classifier& net, const Batch& train, const Batch& test, int steps, double lr,
                      const std::function<torch::Tensor(const torch::Tensor&)>& select) {
  torch::optim::Adam opt(net.parameters(), torch::optim::AdamOptions(lr));
  net.train();
  const int64_t n = train.x.size(0), bs = 32;
  for (int s = 0; s < steps; ++s) {
    const int64_t start = (s * bs) % n;
    auto xb = select(train.x.narrow(0, start, bs));
    auto yb = train.y.narrow(0, start, bs);
    opt.zero_grad();
    nn::functional::cross_entropy(net.forward(xb), yb).backward();
    opt.step();
  }
  net.eval();
  torch::NoGradGuard ng;
  auto pred = net.forward(select(test.x)).argmax(1);
  return pred.eq(test.y).to(torch::kDouble).mean().item<double>();
}

torch::Tensor all_channels(const torch::Tensor& x) { return x; }
torch::Tensor visible_only(const torch::Tensor& x) { return x.narrow(1, 0, 3); }
torch::Tensor infrared_only(const torch::Tensor& x) { return x.narrow(1, 3, 1); }

}  // namespace

TEST(Fusion, EveryVariantGivesLogitsOfTheRightShapeAndIsDeterministicInEval) {
  torch::manual_seed(7);
  auto x = torch::randn({5, 4, 16, 16});
  for (const auto& mc : all_variants()) {
    SCOPED_TRACE(describe(mc));
    auto net = create_model(mc, paired(16, 6));
    net->train();
    auto train_out = net->forward(x);  // train mode (dropout, batch statistics) runs too
    EXPECT_EQ(train_out.sizes(), (std::vector<int64_t>{5, 6}));
    net->eval();
    torch::NoGradGuard ng;
    auto out = net->forward(x);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{5, 6}));
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
    EXPECT_TRUE(torch::equal(out, net->forward(x)));
    // Logits, not probabilities: negative values, rows not summing to 1.
    EXPECT_LT(out.min().item<double>(), 0.0);
    EXPECT_GT((out.sum(1) - 1).abs().max().item<double>(), 1e-3);
  }
}

TEST(Fusion, SingleStreamDefaultKeepsTorchvisionLayout) {
  auto net = create_model(tiny("resnet18"), {3, 16, 4});
  std::vector<std::string> names;
  for (const auto& c : net->named_children()) names.push_back(c.key());
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "dropout", "fc"}));
  ModelConfig gated = tiny("resnet18");
  gated.feature_gate = true;
  gated.head = "infrared";
  auto g = create_model(gated, {1, 16, 4});
  auto params = g->named_parameters();
  EXPECT_TRUE(params.contains("gate.fc.weight"));
  EXPECT_TRUE(params.contains("head.1.weight"));
  EXPECT_FALSE(params.contains("fc.weight"));
}

TEST(Fusion, EarlyFusionIsOneResNetOverStackedChannels) {
  auto net = create_model(tiny("fusion_early"), paired());
  auto params = net->named_parameters();
  EXPECT_EQ(params["conv1.weight"].sizes(), (std::vector<int64_t>{4, 4, 3, 3}));
  EXPECT_FALSE(params.contains("stream0.conv1.weight"));
  // Same parameters as resnet18 on the stacked input.
  auto single = create_model(tiny("resnet18"), paired());
  EXPECT_EQ(net->parameters().size(), single->parameters().size());
}

TEST(Fusion, StreamsHaveStandaloneResNetNamesUnderAPrefix) {
  for (const std::string name : {"fusion_feature", "fusion_late"}) {
    for (const std::string head : {"linear", "infrared"}) {
      SCOPED_TRACE(name);
      SCOPED_TRACE(head);
      ModelConfig mc = tiny(name);
      mc.head = head;
      mc.feature_gate = true;
      auto fused = create_model(mc, paired());
      auto fused_params = fused->named_parameters();
      // Stream 0: the visible image (3 channels), stream 1: the infrared one (1 channel).
      for (const auto& [prefix, channels] : std::vector<std::pair<std::string, int>>{{"stream0.", 3}, {"stream1.", 1}}) {
        ModelConfig single_cfg = mc;
        single_cfg.name = "resnet18";
        // fusion_late with a paper head: the visible head on stream 0, the infrared one on stream 1.
        if (name == "fusion_late" && head != "linear") single_cfg.head = channels == 3 ? "visible" : "infrared";
        auto single = create_model(single_cfg, {channels, 16, 4});
        std::map<std::string, torch::Tensor> prefixed;
        int in_backbone = 0;
        for (const auto& p : single->named_parameters()) {
          const bool head_param = p.key().rfind("fc.", 0) == 0 || p.key().rfind("head.", 0) == 0;
          if (name == "fusion_feature" && head_param) continue;  // feature streams have no head
          ++in_backbone;
          ASSERT_TRUE(fused_params.contains(prefix + p.key())) << prefix + p.key();
          EXPECT_EQ(fused_params[prefix + p.key()].sizes(), p.value().sizes()) << p.key();
          prefixed[prefix + p.key()] = p.value();
        }
        for (const auto& b : single->named_buffers()) {
          if (b.key().rfind("head.", 0) == 0 && name == "fusion_feature") continue;
          prefixed[prefix + b.key()] = b.value();
        }
        EXPECT_GT(in_backbone, 60);
        // A single-modality model initialises a stream by prefix: nothing unexpected or mismatched.
        auto report = fer::models::load_named_tensors(*fused, prefixed, /*strict=*/false);
        EXPECT_TRUE(report.unexpected.empty()) << report.unexpected.front();
        EXPECT_TRUE(report.mismatched.empty()) << report.mismatched.front();
        torch::NoGradGuard ng;
        EXPECT_TRUE(torch::equal(fused->named_parameters()[prefix + "layer2.0.conv1.weight"],
                                 single->named_parameters()["layer2.0.conv1.weight"]));
      }
      // Only the two streams and the fusion's own head / combination weights besides.
      for (const auto& p : fused_params) {
        const auto& k = p.key();
        const bool ok = k.rfind("stream0.", 0) == 0 || k.rfind("stream1.", 0) == 0 || k.rfind("fc.", 0) == 0 ||
                        k.rfind("head.", 0) == 0;
        EXPECT_TRUE(ok) << k;
      }
    }
  }
}

TEST(Fusion, FeatureGateComputesXTimesSigmoidOfLinearOfXSquared) {
  // classes == F == 8 * width, so with fc = identity a model outputs its (gated) pooled features.
  const int width = 4, F = 8 * width;
  torch::manual_seed(1);
  ModelConfig plain_cfg = tiny("resnet18", width);
  ModelConfig gated_cfg = plain_cfg;
  gated_cfg.feature_gate = true;
  auto plain = create_model(plain_cfg, {3, 16, F});
  auto gated = create_model(gated_cfg, {3, 16, F});
  std::map<std::string, torch::Tensor> backbone;
  for (const auto& p : gated->named_parameters()) backbone[p.key()] = p.value();
  for (const auto& b : gated->named_buffers()) backbone[b.key()] = b.value();
  auto report = fer::models::load_named_tensors(*plain, backbone, false);
  EXPECT_EQ(report.unexpected, (std::vector<std::string>{"gate.fc.bias", "gate.fc.weight"}));
  torch::NoGradGuard ng;
  auto W = 0.2 * torch::randn({F, F});
  auto b = torch::randn({F});
  gated->named_parameters()["gate.fc.weight"].copy_(W);
  gated->named_parameters()["gate.fc.bias"].copy_(b);
  for (auto* m : {plain.get(), gated.get()}) {
    m->named_parameters()["fc.weight"].copy_(torch::eye(F));
    m->named_parameters()["fc.bias"].zero_();
    m->eval();
  }
  auto x = torch::randn({3, 3, 16, 16});
  auto f = plain->forward(x);
  auto expected = f * torch::sigmoid(torch::matmul(f * f, W.t()) + b);
  EXPECT_TRUE(torch::allclose(gated->forward(x), expected, 1e-5, 1e-6));
  EXPECT_GT((expected - f).abs().max().item<double>(), 1e-2);              // the gate does something
  EXPECT_GT((expected - 0.5 * f).abs().max().item<double>(), 1e-2);        // and depends on W, b
}

TEST(Fusion, FeatureFusionConcatenatesOrInterleavesTheStreams) {
  const int width = 4, F = 8 * width;
  torch::manual_seed(2);
  auto x = torch::randn({3, 4, 16, 16});
  for (const std::string mode : {"concat", "interleave"}) {
    SCOPED_TRACE(mode);
    ModelConfig mc = tiny("fusion_feature", width);
    mc.fusion_features = mode;
    mc.feature_gate = true;
    auto net = create_model(mc, paired(16, 2 * F));
    torch::NoGradGuard ng;
    net->named_parameters()["fc.weight"].copy_(torch::eye(2 * F));
    net->named_parameters()["fc.bias"].zero_();
    net->eval();
    auto fused = net->forward(x);
    // A feature stream without a head returns its gated, pooled features.
    auto s0 = std::dynamic_pointer_cast<Classifier>(child(*net, "stream0"));
    auto s1 = std::dynamic_pointer_cast<Classifier>(child(*net, "stream1"));
    ASSERT_TRUE(s0 && s1);
    auto f0 = s0->forward(x.narrow(1, 0, 3));
    auto f1 = s1->forward(x.narrow(1, 3, 1));
    ASSERT_EQ(f0.sizes(), (std::vector<int64_t>{3, F}));
    EXPECT_FALSE(torch::allclose(f0, f1));
    if (mode == "concat") {
      EXPECT_TRUE(torch::allclose(fused.narrow(1, 0, F), f0));
      EXPECT_TRUE(torch::allclose(fused.narrow(1, F, F), f1));
    } else {
      for (int k : {0, 1, 5, F - 1}) {
        EXPECT_TRUE(torch::allclose(fused.select(1, 2 * k), f0.select(1, k))) << k;
        EXPECT_TRUE(torch::allclose(fused.select(1, 2 * k + 1), f1.select(1, k))) << k;
      }
      EXPECT_TRUE(torch::allclose(fused, torch::stack({f0, f1}, 2).reshape({3, 2 * F})));
    }
  }
}

TEST(Fusion, LateFusionAveragesOrWeighsTheStreamLogits) {
  torch::manual_seed(4);
  auto x = torch::randn({3, 4, 16, 16});
  for (const std::string mode : {"mean", "learned"}) {
    SCOPED_TRACE(mode);
    ModelConfig mc = tiny("fusion_late");
    mc.late_combine = mode;
    auto net = create_model(mc, paired(16, 5));
    torch::NoGradGuard ng;
    net->eval();
    auto s0 = std::dynamic_pointer_cast<Classifier>(child(*net, "stream0"));
    auto s1 = std::dynamic_pointer_cast<Classifier>(child(*net, "stream1"));
    ASSERT_TRUE(s0 && s1);
    auto l0 = s0->forward(x.narrow(1, 0, 3));
    auto l1 = s1->forward(x.narrow(1, 3, 1));
    ASSERT_EQ(l0.sizes(), (std::vector<int64_t>{3, 5}));
    // Initially (learned weights equal) both combine to the mean.
    EXPECT_TRUE(torch::allclose(net->forward(x), 0.5 * (l0 + l1), 1e-5, 1e-6));
    if (mode == "learned") {
      auto params = net->named_parameters();
      ASSERT_TRUE(params.contains("late_logit_weights"));
      params["late_logit_weights"].copy_(torch::tensor({std::log(3.0f), 0.0f}));  // softmax = 0.75, 0.25
      EXPECT_TRUE(torch::allclose(net->forward(x), 0.75 * l0 + 0.25 * l1, 1e-5, 1e-6));
    } else {
      EXPECT_FALSE(net->named_parameters().contains("late_logit_weights"));
    }
  }
}

TEST(Fusion, PaperHeadsHaveTheSpecifiedLayersAndEndInALinearLayer) {
  const int width = 4, F = 8 * width, C = 7;
  {
    ModelConfig mc = tiny("resnet18", width);
    mc.head = "visible";
    auto net = create_model(mc, {3, 16, C});
    auto L = head_layers(*net);
    ASSERT_EQ(L.size(), 4u);
    EXPECT_DOUBLE_EQ(dropout_p(L[0]), 0.4);
    EXPECT_EQ(linear_shape(L[1]), (std::pair<int64_t, int64_t>(F, 256)));
    EXPECT_DOUBLE_EQ(dropout_p(L[2]), 0.4);
    EXPECT_EQ(linear_shape(L[3]), (std::pair<int64_t, int64_t>(256, C)));
  }
  auto check_mlp = [&](Classifier& net, int64_t in_features, double p_in, double p_hidden) {
    auto L = head_layers(net);
    ASSERT_EQ(L.size(), 6u);
    EXPECT_DOUBLE_EQ(dropout_p(L[0]), p_in);
    EXPECT_EQ(linear_shape(L[1]), (std::pair<int64_t, int64_t>(in_features, 256)));
    EXPECT_NE(L[2]->as<nn::ReLU>(), nullptr);
    ASSERT_NE(L[3]->as<nn::BatchNorm1d>(), nullptr);
    EXPECT_EQ(L[3]->as<nn::BatchNorm1d>()->options.num_features(), 256);
    EXPECT_DOUBLE_EQ(dropout_p(L[4]), p_hidden);
    EXPECT_EQ(linear_shape(L[5]), (std::pair<int64_t, int64_t>(256, C)));  // last: no dropout after it
  };
  {
    ModelConfig mc = tiny("resnet18", width);
    mc.head = "infrared";
    auto net = create_model(mc, {1, 16, C});
    check_mlp(*net, F, 0.7, 0.8);
    mc.head = "fused";  // the fused MLP on a single stream
    check_mlp(*create_model(mc, {1, 16, C}), F, 0.2, 0.2);
  }
  for (const std::string head : {"visible", "infrared", "fused"}) {
    ModelConfig mc = tiny("fusion_feature", width);
    mc.head = head;
    auto net = create_model(mc, paired(16, C));
    check_mlp(*net, 2 * F, 0.2, 0.2);  // the paper's fused head
  }
  {
    // fusion_late with any paper head: the visible head on stream 0, the infrared head on stream 1.
    for (const std::string head : {"visible", "infrared", "fused"}) {
      SCOPED_TRACE(head);
      ModelConfig mc = tiny("fusion_late", width);
      mc.head = head;
      auto net = create_model(mc, paired(16, C));
      auto s0 = std::dynamic_pointer_cast<Classifier>(child(*net, "stream0"));
      auto s1 = std::dynamic_pointer_cast<Classifier>(child(*net, "stream1"));
      ASSERT_TRUE(s0 && s1);
      auto L = head_layers(*s0);
      ASSERT_EQ(L.size(), 4u);
      EXPECT_DOUBLE_EQ(dropout_p(L[0]), 0.4);
      EXPECT_EQ(linear_shape(L[3]), (std::pair<int64_t, int64_t>(256, C)));
      check_mlp(*s1, F, 0.7, 0.8);
    }
  }
  {
    // Linear head of fusion_feature: dropout (model.dropout) + Linear(2F, C).
    ModelConfig mc = tiny("fusion_feature", width);
    mc.dropout = 0.35;
    auto net = create_model(mc, paired(16, C));
    EXPECT_DOUBLE_EQ(dropout_p(child(*net, "dropout")), 0.35);
    EXPECT_EQ(linear_shape(child(*net, "fc")), (std::pair<int64_t, int64_t>(2 * F, C)));
  }
}

TEST(Fusion, FusedModelsUseBothHalvesOfTheSignalWhereOneStreamCannot) {
  const int size = 16;
  const auto train = half_signal_data(512, size, 11);
  const auto test = half_signal_data(256, size, 12);
  const int steps = 64;
  const double lr = 3e-3;
  auto run = [&](const ModelConfig& mc, const InputSpec& in,
                 const std::function<torch::Tensor(const torch::Tensor&)>& select) {
    torch::manual_seed(21);
    auto net = create_model(mc, in);
    const double acc = train_and_test(*net, train, test, steps, lr, select);
    std::printf("  %-55s held-out accuracy %.3f\n", describe(mc).c_str(), acc);
    return std::make_pair(acc, net);
  };
  const double visible = run(tiny("resnet18"), {3, size, 4}, visible_only).first;
  const double infrared = run(tiny("resnet18"), {1, size, 4}, infrared_only).first;
  // One modality knows one bit: at best half of the 4 classes (and it does learn that bit).
  EXPECT_LT(visible, 0.60);
  EXPECT_GT(visible, 0.40);
  EXPECT_LT(infrared, 0.60);
  EXPECT_GT(infrared, 0.40);

  EXPECT_GT(run(tiny("fusion_early"), paired(size), all_channels).first, 0.85);
  EXPECT_GT(run(tiny("fusion_feature"), paired(size), all_channels).first, 0.85);
  EXPECT_GT(run(tiny("fusion_late"), paired(size), all_channels).first, 0.85);

  // The other variants train as well (beat chance, 0.25, clearly).
  ModelConfig paper = tiny("fusion_feature");
  paper.fusion_features = "interleave";
  paper.feature_gate = true;
  paper.head = "visible";
  EXPECT_GT(run(paper, paired(size), all_channels).first, 0.70);
  ModelConfig learned = tiny("fusion_late");
  learned.late_combine = "learned";
  learned.feature_gate = true;
  auto [acc, net] = run(learned, paired(size), all_channels);
  EXPECT_GT(acc, 0.70);
  auto w = net->named_parameters()["late_logit_weights"];
  EXPECT_GT(w.abs().max().item<double>(), 1e-4);  // the combination weights were trained
}

TEST(Fusion, CheckpointRoundTripGivesIdenticalOutputs) {
  fer::test::TempDir dir;
  auto x = torch::randn({4, 4, 16, 16});
  std::vector<ModelConfig> variants;
  ModelConfig feature = tiny("fusion_feature");
  feature.fusion_features = "interleave";
  feature.feature_gate = true;
  feature.head = "infrared";
  variants.push_back(feature);
  ModelConfig late = tiny("fusion_late");
  late.late_combine = "learned";
  late.head = "visible";
  variants.push_back(late);
  for (const auto& mc : variants) {
    SCOPED_TRACE(describe(mc));
    torch::manual_seed(5);
    auto a = create_model(mc, paired());
    torch::optim::Adam opt(a->parameters(), torch::optim::AdamOptions(1e-2));
    a->train();
    opt.zero_grad();
    nn::functional::cross_entropy(a->forward(x), torch::tensor({0, 1, 2, 3})).backward();
    opt.step();  // trained weights, batch-norm statistics, moved combination weights
    const std::string path = dir.str(mc.name + ".pt");
    fer::train::save_checkpoint(path, *a, &opt, {{"epoch", 1}});
    torch::manual_seed(99);
    auto b = create_model(mc, paired());
    a->eval();
    b->eval();
    torch::NoGradGuard ng;
    EXPECT_FALSE(torch::equal(a->forward(x), b->forward(x)));
    fer::train::load_checkpoint(path, *b, nullptr, false);
    EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  }
}

TEST(Fusion, CreateModelValidatesThePairedInput) {
  for (const std::string name : {"fusion_early", "fusion_feature", "fusion_late"}) {
    SCOPED_TRACE(name);
    auto msg = fer::test::error_of<fer::ConfigError>([&] { create_model(tiny(name), {3, 16, 4}); });
    EXPECT_HAS(msg, "/model/name");
    EXPECT_HAS(msg, name + " needs paired data");
    EXPECT_HAS(msg, "data.paired.use \"all\"");
    msg = fer::test::error_of<fer::ConfigError>([&] { create_model(tiny(name), {3, 16, 4, {3, 1}}); });
    EXPECT_HAS(msg, "sum to 4");
    EXPECT_HAS(msg, "has 3 channels");
    msg = fer::test::error_of<fer::ConfigError>([&] { create_model(tiny(name), {5, 16, 4, {3, 1, 1}}); });
    EXPECT_HAS(msg, "needs paired data");
    EXPECT_HAS(msg, "3 modalities");
    msg = fer::test::error_of<fer::ConfigError>([&] { create_model(tiny(name), {3, 16, 4, {3, 0}}); });
    EXPECT_HAS(msg, "1 to 8 channels");
  }
  // resnet18: 1 or 3 channels for one image; any 1..8 on stacked (paired) input.
  EXPECT_HAS(fer::test::error_of<fer::ConfigError>([] { create_model(tiny("resnet18"), {4, 16, 4}); }),
             "1 or 3 channels");
  EXPECT_NO_THROW(create_model(tiny("resnet18"), paired()));
  EXPECT_HAS(fer::test::error_of<fer::ConfigError>([] { create_model(tiny("resnet18"), {5, 16, 4, {3, 1}}); }),
             "sum to 4");
  ModelConfig bad_head = tiny("fusion_feature");
  // model.head is an enum: an unknown head cannot reach create_model.
  EXPECT_THROW(bad_head.head = "mlp", std::invalid_argument);
}
