// model.init_streams: the streams of fusion_feature / fusion_late initialised from
// single-modality resnet18 checkpoints. Tiny models; runs in a second or two.
#include "fer/train/init_streams.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "test_util.hpp"

using fer::config::Config;
using fer::models::Classifier;
using fer::models::create_model;
using fer::train::init_streams;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kClasses = {"angry", "happy", "neutral", "sad"};

/// A paired-data config (visible 3 + infrared 1) for model `name`; use "all" or one modality.
Config paired_config(const std::string& name, const std::string& use, int width = 4, bool gate = true) {
  Config c;
  c.data.format = "paired_folder";
  c.data.path = "unused";
  c.data.paired.use = use;
  c.preprocess.size = 16;
  c.preprocess.channels = use == "all" ? 4 : use == "visible" ? 3 : 1;
  c.model.name = name;
  c.model.width = width;
  c.model.feature_gate = gate;
  return c;
}

std::shared_ptr<Classifier> build(const Config& c) {
  const std::vector<int> mc = c.data.paired.use == "all" ? std::vector<int>{3, 1} : std::vector<int>{};
  return create_model(c.model,
                      {c.preprocess.channels, c.preprocess.size, static_cast<int>(kClasses.size()), mc});
}

/// Trains a single-modality model for one step (so batch-norm statistics move away from their
/// initial values) and saves it as a checkpoint at `path` with its config and class names.
std::shared_ptr<Classifier> save_single(const Config& c, const std::string& path, uint64_t seed,
                                        const std::vector<std::string>& classes = kClasses) {
  torch::manual_seed(seed);
  auto m = build(c);
  torch::optim::SGD opt(m->parameters(), torch::optim::SGDOptions(0.1));
  m->train();
  opt.zero_grad();
  auto x = torch::randn({4, c.preprocess.channels, 16, 16});
  torch::nn::functional::cross_entropy(m->forward(x), torch::tensor({0, 1, 2, 3})).backward();
  opt.step();
  fs::create_directories(fs::path(path).parent_path());
  fer::train::save_checkpoint(path, *m, nullptr,
                              {{"config", fer::config::to_json(c)}, {"class_names", classes}});
  return m;
}

torch::Tensor param(Classifier& m, const std::string& name) {
  auto params = m.named_parameters(true);
  if (params.contains(name)) return params[name];
  auto buffers = m.named_buffers(true);
  EXPECT_TRUE(buffers.contains(name)) << name;
  return buffers.contains(name) ? buffers[name] : torch::Tensor();
}

size_t count_prefixed(Classifier& m, const std::string& prefix) {
  size_t n = 0;
  for (const auto& p : m.named_parameters(true)) n += p.key().rfind(prefix, 0) == 0;
  for (const auto& b : m.named_buffers(true)) n += b.key().rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST(InitStreams, CopiesBackboneGateAndStatisticsAndLeavesTheFusedHead) {
  fer::test::TempDir dir;
  const std::string vis_pt = dir.str("vis.pt");
  auto vis = save_single(paired_config("resnet18", "visible"), vis_pt, 1);
  auto ir = save_single(paired_config("resnet18", "infrared"), dir.str("runs/ir/best.pt"), 2);

  Config cfg = paired_config("fusion_feature", "all");
  cfg.model.init_streams = {vis_pt, dir.str("runs/ir")};  // a checkpoint and a run directory
  torch::manual_seed(3);
  auto fused = build(cfg);
  const auto head_before = param(*fused, "fc.weight").clone();
  const auto records = init_streams(*fused, cfg, kClasses);

  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].checkpoint, vis_pt);
  EXPECT_EQ(records[1].checkpoint, (fs::path(dir.str("runs/ir")) / "best.pt").string());
  EXPECT_EQ(records[0].parts, (std::vector<std::string>{"backbone", "gate"}));
  EXPECT_EQ(records[0].tensors, count_prefixed(*fused, "stream0."));
  EXPECT_EQ(records[1].tensors, count_prefixed(*fused, "stream1."));
  EXPECT_EQ(records[0].describe(),
            fmt::format("stream0 <- {}: {} tensors (backbone, gate)", vis_pt, records[0].tensors));

  for (const std::string name : {"conv1.weight", "bn1.running_mean", "bn1.running_var",
                                 "layer2.0.downsample.0.weight", "layer4.1.bn2.weight", "gate.fc.weight"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(torch::equal(param(*fused, "stream0." + name), param(*vis, name)));
    EXPECT_TRUE(torch::equal(param(*fused, "stream1." + name), param(*ir, name)));
  }
  // Batch-norm statistics came from the trained checkpoints, not the fresh initialisation.
  EXPECT_GT(param(*fused, "stream0.bn1.running_mean").abs().sum().item<double>(), 0.0);
  // The fused head is not touched (nothing loaded fits it).
  EXPECT_TRUE(torch::equal(param(*fused, "fc.weight"), head_before));

  // Stream 0 now computes the visible model's features: its head on them gives its logits.
  fused->eval();
  vis->eval();
  torch::NoGradGuard ng;
  auto x = torch::randn({2, 3, 16, 16});
  auto stream0 = std::dynamic_pointer_cast<Classifier>(fused->named_children()["stream0"]);
  ASSERT_TRUE(stream0);
  auto features = stream0->forward(x);  // headless stream: pooled, gated features
  ASSERT_EQ(features.size(1), 32);
  auto logits = torch::addmm(param(*vis, "fc.bias"), features, param(*vis, "fc.weight").t());
  EXPECT_TRUE(torch::allclose(logits, vis->forward(x), 1e-4, 1e-5));
}

TEST(InitStreams, EmptyEntryLeavesThatStreamRandom) {
  fer::test::TempDir dir;
  auto ir = save_single(paired_config("resnet18", "infrared"), dir.str("ir.pt"), 2);
  Config cfg = paired_config("fusion_feature", "all");
  cfg.model.init_streams = {"", dir.str("ir.pt")};
  torch::manual_seed(3);
  auto fused = build(cfg);
  const auto s0_before = param(*fused, "stream0.conv1.weight").clone();
  const auto records = init_streams(*fused, cfg, kClasses);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].stream, 1);
  EXPECT_TRUE(torch::equal(param(*fused, "stream0.conv1.weight"), s0_before));
  EXPECT_TRUE(torch::equal(param(*fused, "stream1.conv1.weight"), param(*ir, "conv1.weight")));
  // Nothing to do without init_streams.
  cfg.model.init_streams.clear();
  EXPECT_TRUE(init_streams(*fused, cfg, kClasses).empty());
}

TEST(InitStreams, LateFusionCopiesTheHeadsAndNeedsTheSameClasses) {
  fer::test::TempDir dir;
  auto vis = save_single(paired_config("resnet18", "visible", 4, false), dir.str("vis.pt"), 1);
  auto ir = save_single(paired_config("resnet18", "infrared", 4, false), dir.str("ir.pt"), 2);
  Config cfg = paired_config("fusion_late", "all", 4, false);
  cfg.model.init_streams = {dir.str("vis.pt"), dir.str("ir.pt")};
  torch::manual_seed(3);
  auto fused = build(cfg);
  const auto records = init_streams(*fused, cfg, kClasses);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].parts, (std::vector<std::string>{"backbone", "head"}));
  EXPECT_TRUE(torch::equal(param(*fused, "stream0.fc.weight"), param(*vis, "fc.weight")));
  EXPECT_TRUE(torch::equal(param(*fused, "stream1.fc.bias"), param(*ir, "fc.bias")));

  // Other classes (or another order): the heads would predict the wrong labels.
  save_single(paired_config("resnet18", "infrared", 4, false), dir.str("ir_other.pt"), 2,
              {"angry", "happy", "sad", "neutral"});
  cfg.model.init_streams = {"", dir.str("ir_other.pt")};
  const std::string msg = fer::test::error_of<fer::DataError>([&] { init_streams(*fused, cfg, kClasses); });
  EXPECT_HAS(msg, "model.init_streams[1] (stream1, infrared)");
  EXPECT_HAS(msg, dir.str("ir_other.pt"));
  EXPECT_HAS(msg,
             "classes [angry, happy, sad, neutral] differ from the dataset's [angry, happy, neutral, sad]");
}

TEST(InitStreams, MismatchesAreErrorsNamingTheCheckpoint) {
  fer::test::TempDir dir;
  save_single(paired_config("resnet18", "visible"), dir.str("vis.pt"), 1);
  save_single(paired_config("resnet18", "infrared"), dir.str("ir.pt"), 2);
  save_single(paired_config("resnet18", "visible", 8), dir.str("vis_w8.pt"), 1);
  save_single(paired_config("resnet18", "visible", 4, false), dir.str("vis_nogate.pt"), 1);
  save_single(paired_config("fusion_feature", "all"), dir.str("fused.pt"), 1);
  Config cfg = paired_config("fusion_feature", "all");
  torch::manual_seed(3);
  auto fused = build(cfg);
  const auto s0_before = param(*fused, "stream0.conv1.weight").clone();
  auto error = [&](const std::vector<std::string>& entries) {
    cfg.model.init_streams = entries;
    return fer::test::error_of<fer::DataError>([&] { init_streams(*fused, cfg, kClasses); });
  };

  // Wrong channel count: the infrared (1 channel) model for the visible (3 channel) stream.
  std::string msg = error({dir.str("ir.pt"), ""});
  EXPECT_HAS(msg, "model.init_streams[0] (stream0, visible): " + dir.str("ir.pt"));
  EXPECT_HAS(msg, "takes 1 input channel(s), but stream0 (visible) takes 3");

  // Wrong width: every mismatched tensor is listed (up to 10, then the count).
  msg = error({dir.str("vis_w8.pt"), ""});
  EXPECT_HAS(msg, dir.str("vis_w8.pt") + ": does not fit stream0 (visible) of fusion_feature");
  EXPECT_HAS(msg, "different shapes (");
  EXPECT_HAS(msg, "conv1.weight: checkpoint [8,3,3,3] vs stream [4,3,3,3]");
  EXPECT_HAS(msg, "in all)");

  // The stream has a feature gate, the checkpoint none.
  msg = error({dir.str("vis_nogate.pt"), ""});
  EXPECT_HAS(msg, "missing in the checkpoint (2): gate.fc.bias, gate.fc.weight");

  // Not a single-stream model.
  msg = error({dir.str("fused.pt"), ""});
  EXPECT_HAS(msg, dir.str("fused.pt") +
                      ": a fusion_feature model; stream0 (visible) needs the checkpoint of a "
                      "single-stream resnet18");

  // Nothing was copied by the failed attempts.
  EXPECT_TRUE(torch::equal(param(*fused, "stream0.conv1.weight"), s0_before));

  // A missing file or a run directory without best.pt.
  cfg.model.init_streams = {"", dir.str("no_such_run")};
  EXPECT_HAS(
      fer::test::error_of<fer::IoError>([&] { init_streams(*fused, cfg, kClasses); }),
      "model.init_streams[1] (stream1, infrared): " + dir.str("no_such_run") + ": no such run directory");
  fs::create_directories(dir.str("empty_run"));
  cfg.model.init_streams = {dir.str("empty_run"), ""};
  EXPECT_HAS(fer::test::error_of<fer::IoError>([&] { init_streams(*fused, cfg, kClasses); }), "no best.pt");

  // Not a two-stream model.
  Config early = paired_config("fusion_early", "all");
  early.model.init_streams = {dir.str("vis.pt"), ""};
  auto early_model = build(early);
  EXPECT_HAS(fer::test::error_of<fer::ConfigError>([&] { init_streams(*early_model, early, kClasses); }),
             "/model/init_streams: expected [] for model \"fusion_early\"");
}
