// fer import-weights and model.pretrained: torchvision state dicts (written by Debian's
// python3-torchvision through scripts/export_torchvision_weights.py, random initialisation)
// imported into fer's resnet18, vgg19 and vit give torchvision's logits; OrderedDict pickles
// and wrapped checkpoints read; wrong or truncated files fail listing what is wrong; the
// pretrained initialisation copies, adapts (stem, position embedding) and re-initialises the
// classifier as documented. Skipped, with a message, when /usr/bin/python3 lacks torchvision.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/pretrained.hpp"
#include "test_util.hpp"

using fer::models::create_model;

namespace {

bool have_torchvision() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") == 0;
  return ok;
}

#define REQUIRE_TORCHVISION() \
  if (!have_torchvision())    \
  GTEST_SKIP() << "/usr/bin/python3 has no torchvision (apt-get install python3-torchvision)"

/// Runs the export script: dir/w.pt (the state dict, an OrderedDict) and dir/sample.pt.
void export_arch(const fer::test::TempDir& dir, const std::string& arch, const std::string& extra) {
  const std::string cmd = std::string("/usr/bin/python3 ") + FER_SOURCE_DIR +
                          "/scripts/export_torchvision_weights.py --arch " + arch + " --out " +
                          dir.str("w.pt") + " --sample-out " + dir.str("sample.pt") + " " + extra + " >" +
                          dir.str("log") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "export failed: " << cmd;
}

/// Imports dir/w.pt and returns fer's model loaded strictly from the written checkpoint.
std::shared_ptr<fer::models::Classifier> imported_model(const fer::test::TempDir& dir,
                                                        const std::string& arch,
                                                        fer::train::ImportReport* report = nullptr) {
  fer::train::ImportOptions o;
  o.arch = arch;
  o.input = dir.str("w.pt");
  o.output = dir.str("fer.pt");
  auto r = fer::train::import_weights(o);
  if (report) *report = r;
  const auto ckpt = fer::train::read_checkpoint(o.output);
  // the model section of the imported checkpoint's record, read back as any config's
  const auto mc = fer::config::parse_config(
                      nlohmann::json{{"data", {{"path", "x"}}}, {"model", ckpt.meta.at("model")}}.dump(),
                      "imported model")
                      .model;
  auto model =
      create_model(mc, {ckpt.meta.at("input").at("channels").get<int>(),
                        ckpt.meta.at("input").at("size").get<int>(), ckpt.meta.at("classes").get<int>()});
  fer::models::load_named_tensors(*model, ckpt.weights, /*strict=*/true);
  model->eval();
  return model;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST(ImportParity, Resnet18FromAnOrderedDictMatchesTorchvision) {
  REQUIRE_TORCHVISION();
  fer::test::TempDir dir;
  export_arch(dir, "resnet18", "--num-classes 7 --seed 5 --size 64");
  fer::train::ImportReport rep;
  auto model = imported_model(dir, "resnet18", &rep);
  EXPECT_EQ(rep.model_name, "resnet18");
  EXPECT_EQ(rep.imported, 122u);  // 62 parameters + 60 batch-norm buffers
  EXPECT_EQ(rep.meta.at("model").at("stem"), "7x7");
  auto sample = fer::models::read_pytorch_state_dict(dir.str("sample.pt"));
  torch::NoGradGuard ng;
  EXPECT_GT(sample.at("logits").abs().max().item<double>(), 0.1);
  EXPECT_LT(max_diff(model->forward(sample.at("input")), sample.at("logits")), 1e-4);
}

TEST(ImportParity, Vgg19BnFeaturesMatchTorchvision) {
  REQUIRE_TORCHVISION();
  fer::test::TempDir dir;
  export_arch(dir, "vgg19_bn", "--num-classes 7 --seed 2 --size 48");
  fer::train::ImportReport rep;
  auto model = imported_model(dir, "vgg19_bn", &rep);
  EXPECT_EQ(rep.model_name, "vgg19");
  EXPECT_EQ(rep.dropped.size(), 6u);  // torchvision's classifier.0/3/6 weight and bias
  EXPECT_EQ(rep.fresh, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
  // fer's vgg19 = the imported features + the seed's single Linear on 1x1 features.
  auto sample = fer::models::read_pytorch_state_dict(dir.str("sample.pt"));
  fer::models::load_named_tensors(*model,
                                  {{"classifier.weight", sample.at("seed_head.weight")},
                                   {"classifier.bias", sample.at("seed_head.bias")}},
                                  /*strict=*/false);
  torch::NoGradGuard ng;
  EXPECT_GT(sample.at("seed_logits").abs().max().item<double>(), 0.05);
  EXPECT_LT(max_diff(model->forward(sample.at("input")), sample.at("seed_logits")), 1e-4);
}

TEST(ImportParity, VitB16MatchesTorchvision) {
  REQUIRE_TORCHVISION();
  fer::test::TempDir dir;
  export_arch(dir, "vit_b_16", "--num-classes 7 --seed 4 --size 64");
  fer::train::ImportReport rep;
  auto model = imported_model(dir, "vit_b_16", &rep);
  EXPECT_EQ(rep.model_name, "vit");
  EXPECT_EQ(rep.meta.at("model").at("vit_dim"), 768);
  EXPECT_EQ(rep.meta.at("model").at("vit_depth"), 12);
  EXPECT_EQ(rep.meta.at("input").at("size"), 64);  // from the 1 + 4x4 position embedding
  auto sample = fer::models::read_pytorch_state_dict(dir.str("sample.pt"));
  torch::NoGradGuard ng;
  // torchvision starts the ViT head and class token at zero; the export draws them at random so
  // that equal logits are not 0 = 0.
  EXPECT_GT(sample.at("logits").abs().max().item<double>(), 0.05);
  EXPECT_LT(max_diff(model->forward(sample.at("input")), sample.at("logits")), 1e-4);
}

TEST(ImportReader, OrderedDictsOneItemDictsWrappedAndDataParallelFiles) {
  REQUIRE_TORCHVISION();
  fer::test::TempDir dir;
  const std::string script = dir.str("w.py");
  std::ofstream(script)
      << "import collections, sys, torch\n"
         "d = sys.argv[1]\n"
         "torch.save(collections.OrderedDict([('a', torch.arange(3.))]), d + '/one.pt')\n"
         "big = collections.OrderedDict((f'k{i}', torch.full((2,), float(i))) for i in range(1001))\n"
         "torch.save(big, d + '/big.pt')\n"
         "torch.save({'state_dict': big, 'epoch': 3, 'acc': 0.5}, d + '/wrapped.pt')\n"
         "torch.save({'a': 1, 'b': 2}, d + '/notensors.pt')\n";
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " " + dir.str()).c_str()), 0);
  auto one = fer::models::read_pytorch_state_dict(dir.str("one.pt"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(one.at("a").equal(torch::arange(3.0)));
  auto big = fer::models::read_pytorch_state_dict(dir.str("big.pt"));
  ASSERT_EQ(big.size(), 1001u);
  EXPECT_EQ(big.at("k1000")[1].item<float>(), 1000.0f);
  std::string under;
  auto wrapped = fer::models::read_pytorch_state_dict(dir.str("wrapped.pt"), &under);
  EXPECT_EQ(under, "state_dict");
  EXPECT_EQ(wrapped.size(), 1001u);
  EXPECT_HAS(fer::test::error_of<fer::DataError>(
                 [&] { fer::models::read_pytorch_state_dict(dir.str("notensors.pt")); }),
             "found the keys [a, b]");
}

TEST(ImportErrors, TruncatedWrongAndIncompleteFilesListWhatIsWrong) {
  REQUIRE_TORCHVISION();
  fer::test::TempDir dir;
  export_arch(dir, "resnet18", "--num-classes 7 --seed 1 --size 64");
  {  // truncated
    std::ifstream in(dir.str("w.pt"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir.str("cut.pt"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  fer::train::ImportOptions o;
  o.arch = "resnet18";
  o.input = dir.str("cut.pt");
  o.output = dir.str("out.pt");
  EXPECT_HAS(fer::test::error_of<fer::DataError>([&] { fer::train::import_weights(o); }),
             dir.str("cut.pt") + ": not a PyTorch file written by torch.save");
  // a ResNet file imported as a ViT
  o.input = dir.str("w.pt");
  o.arch = "vit_b_16";
  EXPECT_HAS(fer::test::error_of<fer::DataError>([&] { fer::train::import_weights(o); }),
             "not a vit_b_16 state dict: missing \"conv_proj.weight\"");
  // a tensor missing and one unknown: both listed
  auto w = fer::models::read_pytorch_state_dict(dir.str("w.pt"));
  w.erase("layer3.1.bn2.running_var");
  c10::Dict<std::string, torch::Tensor> d;
  for (const auto& [k, t] : w) d.insert(k, t);
  d.insert("extra.weight", torch::zeros({2}));
  const auto bytes = torch::pickle_save(c10::IValue(d));
  std::ofstream(dir.str("bad.pt"), std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  o.arch = "resnet18";
  o.input = dir.str("bad.pt");
  const std::string msg = fer::test::error_of<fer::DataError>([&] { fer::train::import_weights(o); });
  EXPECT_HAS(msg, "missing (1): layer3.1.bn2.running_var");
  EXPECT_HAS(msg, "unexpected (1): extra.weight");
  EXPECT_FALSE(std::filesystem::exists(o.output)) << "a failed import must not write a checkpoint";
}

TEST(Pretrained, AdaptsTheStemReinitialisesTheClassifierAndCopiesTheRest) {
  REQUIRE_TORCHVISION();
  fer::test::TempDir dir;
  export_arch(dir, "resnet18", "--num-classes 1000 --seed 3 --size 64");
  fer::train::ImportOptions o{"resnet18", dir.str("w.pt"), dir.str("r18.pt")};
  fer::train::import_weights(o);
  const auto src = fer::models::read_pytorch_state_dict(dir.str("w.pt"));

  fer::config::Config cfg;  // 48 px gray faces: 3x3 stem, 1 channel, 5 classes, SE blocks
  cfg.model.stem = "3x3";
  cfg.model.se = true;
  cfg.model.pretrained = dir.str();  // a directory without best.pt is an error...
  torch::manual_seed(0);
  auto model = create_model(cfg.model, {1, 48, 5});
  EXPECT_HAS(fer::test::error_of<fer::IoError>([&] { fer::train::init_from_pretrained(*model, cfg); }),
             "no best.pt");
  cfg.model.pretrained = o.output;
  const auto fc_before = model->named_parameters()["fc.weight"].clone();
  const auto init = fer::train::init_from_pretrained(*model, cfg);
  auto params = model->named_parameters();
  auto buffers = model->named_buffers();
  // copied
  EXPECT_TRUE(params["layer2.0.conv1.weight"].equal(src.at("layer2.0.conv1.weight")));
  EXPECT_TRUE(buffers["layer4.1.bn2.running_var"].equal(src.at("layer4.1.bn2.running_var")));
  // the stem: 7x7 RGB -> 3x3 gray
  const auto expected_stem =
      (torch::adaptive_avg_pool2d(src.at("conv1.weight"), {3, 3}) * (49.0 / 9.0)).sum(1, /*keepdim=*/true);
  EXPECT_TRUE(torch::allclose(params["conv1.weight"], expected_stem, 1e-6, 1e-7));
  ASSERT_EQ(init.adapted.size(), 1u);
  EXPECT_HAS(init.adapted[0],
             "conv1.weight: 7x7 kernel area-resampled to 3x3 (x 49/9), 3 -> 1 input channels");
  // the classifier keeps its fresh initialisation for 5 classes; the SE blocks are new
  EXPECT_TRUE(params["fc.weight"].equal(fc_before));
  EXPECT_NE(std::find(init.fresh.begin(), init.fresh.end(), "fc.weight"), init.fresh.end());
  EXPECT_NE(std::find(init.fresh.begin(), init.fresh.end(), "layer1.0.se.fc1.weight"), init.fresh.end());
  EXPECT_EQ(std::find(init.unused.begin(), init.unused.end(), "fc.weight"), init.unused.end())
      << "the file's fc is replaced, not unused";
  EXPECT_EQ(init.copied + init.adapted.size() + 2, 122u);  // all but the file's fc.weight / fc.bias

  // another family, and the two-stream models
  cfg.model = fer::config::ModelConfig{};
  cfg.model.name = "vgg19";
  cfg.model.pretrained = o.output;
  auto vgg = create_model(cfg.model, {1, 48, 5});
  EXPECT_HAS(fer::test::error_of<fer::DataError>([&] { fer::train::init_from_pretrained(*vgg, cfg); }),
             "holds a resnet18 model, which cannot initialise model \"vgg19\"");
}

TEST(Pretrained, VitPositionEmbeddingIsInterpolatedForAnotherSize) {
  REQUIRE_TORCHVISION();
  fer::test::TempDir dir;
  export_arch(dir, "vit_b_16", "--num-classes 7 --seed 4 --size 64");
  fer::train::ImportOptions o{"vit_b_16", dir.str("w.pt"), dir.str("vit.pt")};
  fer::train::import_weights(o);
  const auto src = fer::models::read_pytorch_state_dict(dir.str("w.pt"));
  fer::config::Config cfg;
  cfg.model.name = "vit_se";
  cfg.model.pretrained = o.output;
  auto model = create_model(cfg.model, {3, 96, 3});  // 6x6 patches instead of 4x4
  const auto init = fer::train::init_from_pretrained(*model, cfg);
  const auto pos = model->named_parameters()["encoder.pos_embedding"];
  ASSERT_EQ(pos.sizes(), (std::vector<int64_t>{1, 37, 768}));
  EXPECT_TRUE(pos.narrow(1, 0, 1).equal(src.at("encoder.pos_embedding").narrow(1, 0, 1)));  // class token
  // bicubic with aligned corners keeps the grid's corners
  const auto grid_src = src.at("encoder.pos_embedding").narrow(1, 1, 16).reshape({4, 4, 768});
  const auto grid = pos.narrow(1, 1, 36).reshape({6, 6, 768});
  EXPECT_TRUE(torch::allclose(grid[0][0], grid_src[0][0], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(grid[5][5], grid_src[3][3], 1e-5, 1e-6));
  EXPECT_HAS(fmt::format("{}", fmt::join(init.adapted, "; ")), "encoder.pos_embedding: 17 -> 37 tokens");
  EXPECT_NE(std::find(init.fresh.begin(), init.fresh.end(), "se.fc1.weight"), init.fresh.end());
  // and it runs
  torch::NoGradGuard ng;
  model->eval();
  EXPECT_EQ(model->forward(torch::randn({2, 3, 96, 96})).sizes(), (std::vector<int64_t>{2, 3}));
}
