// deterministic: true — the same seed gives bit-identical weights on the CPU, through the whole
// training path (threaded loader, random augmentation, dropout, shuffling, two intra-op threads).
#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "fer/augment/transforms.hpp"
#include "fer/config/config.hpp"
#include "fer/data/synth.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/trainer.hpp"
#include "test_util.hpp"

namespace {

fer::config::Config tiny_config(const std::string& data, uint64_t seed) {
  fer::config::Config c;
  c.seed = seed;
  c.deterministic = true;
  c.threads = 2;
  c.data.format = "image_folder";
  c.data.path = data;
  c.data.workers = 2;
  c.data.split.scheme = "ratio";
  c.data.split.ratios = {0.6, 0.2, 0.2};
  c.preprocess.size = 32;
  c.preprocess.channels = 1;
  c.preprocess.normalize = "none";
  c.augment.crop = 28;
  c.augment.hflip = 0.5;
  c.augment.rotation = 10;
  c.model.name = "resnet18";
  c.model.width = 4;
  c.model.dropout = 0.3;
  c.train.epochs = 2;
  c.train.batch_size = 16;
  c.train.optimizer = "sgd";
  c.train.lr = 0.05;
  c.train.warmup_epochs = 0;
  c.train.scheduler = "none";
  return fer::config::parse_config(fer::config::to_json(c).dump(), "determinism test");  // validated
}

// The weights (parameters and buffers) of a run's last.pt.
std::shared_ptr<fer::models::Classifier> load_last(const fer::config::Config& c, const std::string& run) {
  const fer::augment::Pipeline p(c.preprocess, c.augment);
  auto m = fer::models::create_model(c.model, {c.preprocess.channels, p.output_size(), 4, {}});
  fer::train::load_checkpoint(run + "/last.pt", *m, nullptr, false);
  return m;
}

// Number of tensors (parameters and buffers) that are not bit-for-bit equal.
int differing_tensors(fer::models::Classifier& a, fer::models::Classifier& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  const auto ba = a.named_buffers(), bb = b.named_buffers();
  EXPECT_EQ(pa.size(), pb.size());
  int differ = 0;
  for (const auto& kv : pa) differ += torch::equal(kv.value(), pb[kv.key()]) ? 0 : 1;
  for (const auto& kv : ba) differ += torch::equal(kv.value(), bb[kv.key()]) ? 0 : 1;
  return differ;
}

}  // namespace

TEST(Determinism, SameSeedGivesBitIdenticalWeightsOnCpu) {
  fer::test::TempDir tmp;
  fer::data::SynthOptions so;
  so.out = tmp.str("data");
  so.classes = 4;
  so.per_class = 24;
  so.size = 32;
  so.seed = 5;
  fer::data::write_synthetic_dataset(so);

  const auto c = tiny_config(so.out, 11);
  for (const char* run : {"a", "b"}) {
    fer::train::RunOptions o;
    o.run_dir = tmp.str(run);
    o.progress = false;
    fer::train::train(c, o);
    // The request reaches LibTorch (on CUDA it also switches cuDNN to deterministic kernels).
    EXPECT_TRUE(at::globalContext().deterministicAlgorithms());
    EXPECT_FALSE(at::globalContext().benchmarkCuDNN());
  }
  auto a = load_last(c, tmp.str("a")), b = load_last(c, tmp.str("b"));
  EXPECT_EQ(differing_tensors(*a, *b), 0) << "two runs with the same seed differ";

  // The check can fail: another seed trains other weights.
  fer::train::RunOptions o;
  o.run_dir = tmp.str("c");
  o.progress = false;
  const auto other = tiny_config(so.out, 12);
  fer::train::train(other, o);
  auto c2 = load_last(other, tmp.str("c"));
  EXPECT_GT(differing_tensors(*a, *c2), 0);
}
