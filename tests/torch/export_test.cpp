// fer export-weights: a fer resnet18 checkpoint written as a state dict that torchvision's
// resnet18 loads strictly in Debian's /usr/bin/python3 (scripts/fer_torchvision.py for the 3x3
// stem, 1-channel input and the seed's 4x4 pool), giving fer's logits within 1e-4; models that
// torchvision's layout cannot hold are refused by name and exported with fer's names instead.
// Skipped, with a message, when /usr/bin/python3 lacks torchvision.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "fer/config/config.hpp"
#include "fer/core/error.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/pretrained.hpp"
#include "test_util.hpp"

namespace {

bool have_torchvision() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") == 0;
  return ok;
}

struct Exported {
  std::string checkpoint;
  torch::Tensor input, logits;
};

/// A fer model of `model_json` for `channels` x `size` inputs and 7 classes, with batch-norm
/// statistics moved off their defaults, saved as a run's checkpoint; its logits on a sample.
Exported make_checkpoint(const fer::test::TempDir& dir, const nlohmann::json& model_json, int channels,
                         int size) {
  const nlohmann::json cfg_json{{"data", {{"path", "x"}}},
                                {"preprocess", {{"size", size}, {"channels", channels}}},
                                {"model", model_json}};
  const fer::config::Config cfg = fer::config::parse_config(cfg_json.dump(), "export test");
  torch::manual_seed(11);
  auto model = fer::models::create_model(cfg.model, {channels, size, 7});
  model->train();
  {
    torch::NoGradGuard ng;
    for (int i = 0; i < 3; ++i) model->forward(torch::rand({8, channels, size, size}) * 2 + 0.5);
  }
  model->eval();
  Exported e;
  e.checkpoint = dir.str("best.pt");
  std::vector<std::string> classes{"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  fer::train::save_checkpoint(e.checkpoint, *model, nullptr,
                              {{"config", fer::config::to_json(cfg)}, {"class_names", classes}});
  e.input = torch::rand({4, channels, size, size});
  torch::NoGradGuard ng;
  e.logits = model->forward(e.input);
  c10::Dict<std::string, at::Tensor> sample;
  sample.insert("input", e.input);
  sample.insert("logits", e.logits);
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(sample));
  std::ofstream(dir.str("sample.pt"), std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return e;
}

int python(const std::string& args, const fer::test::TempDir& dir) {
  const std::string cmd = "/usr/bin/python3 " + args + " >" + dir.str("py.log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream log(dir.str("py.log"));
  std::cout << std::string(std::istreambuf_iterator<char>(log), {});
  return rc;
}

const std::string kHelper = std::string(FER_SOURCE_DIR) + "/scripts/fer_torchvision.py";

}  // namespace

TEST(ExportWeights, TorchvisionLoadsEveryResnet18VariantStrictlyWithFersLogits) {
  if (!have_torchvision())
    GTEST_SKIP() << "/usr/bin/python3 has no torchvision (apt-get install python3-torchvision)";
  struct Case {
    nlohmann::json model;
    int channels, size;
  };
  for (const Case& c :
       {Case{{{"name", "resnet18"}, {"stem", "3x3"}, {"dropout", 0.5}}, 1, 44},
        Case{{{"name", "resnet18"}, {"stem", "3x3"}, {"pool", "avg4"}, {"init", "pytorch"}}, 3, 44},
        Case{{{"name", "resnet18"}, {"stem", "7x7"}}, 3, 64}}) {
    SCOPED_TRACE(c.model.dump());
    fer::test::TempDir dir;
    const Exported e = make_checkpoint(dir, c.model, c.channels, c.size);
    fer::train::ExportOptions o;
    o.run = dir.path().string();
    o.output = dir.str("model.pth");
    const auto r = fer::train::export_weights(o);
    EXPECT_EQ(r.model_name, "resnet18");
    EXPECT_EQ(r.tensors, 122U);  // 62 parameters + 60 batch-norm buffers, as torchvision's
    EXPECT_GT(e.logits.abs().max().item<double>(), 0.05);
    EXPECT_EQ(python(kHelper + " " + o.output + " --check " + dir.str("sample.pt"), dir), 0);
    if (c.channels == 1) {  // the check can fail: logits off by 1e-3 are caught
      c10::Dict<std::string, at::Tensor> off;
      off.insert("input", e.input);
      off.insert("logits", e.logits + 1e-3);
      const std::vector<char> bytes = torch::pickle_save(c10::IValue(off));
      std::ofstream(dir.str("off.pt"), std::ios::binary)
          .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      EXPECT_NE(python(kHelper + " " + o.output + " --check " + dir.str("off.pt"), dir), 0);
    }
    if (c.model.at("stem") == "7x7") {  // torchvision's own resnet18, nothing adapted
      EXPECT_EQ(python("-c 'import torch, torchvision; m = torchvision.models.resnet18(num_classes=7); "
                       "m.load_state_dict(torch.load(\"" +
                           o.output + "\"), strict=True); print(\"strict load ok\")'",
                       dir),
                0);
    }
  }
}

TEST(ExportWeights, ModelsTorchvisionCannotHoldAreRefusedByNameAndExportedWithFersNames) {
  fer::test::TempDir dir;
  make_checkpoint(dir, {{"name", "resnet18"}, {"se", true}, {"width", 16}}, 1, 44);
  fer::train::ExportOptions o;
  o.run = dir.path().string();
  o.output = dir.str("model.pth");
  const std::string msg = fer::test::error_of<fer::UsageError>([&] { fer::train::export_weights(o); });
  EXPECT_HAS(msg, "width 16");
  EXPECT_HAS(msg, "layer1.0.se.");
  EXPECT_HAS(msg, "--format fer");
  EXPECT_FALSE(std::filesystem::exists(o.output));
  o.format = "fer";
  const auto r = fer::train::export_weights(o);
  EXPECT_GT(r.tensors, 122U);
  const auto back = fer::models::read_pytorch_state_dict(o.output);  // fer's reader of torch.save files
  EXPECT_EQ(back.size(), r.tensors);
  const auto ckpt = fer::train::read_checkpoint(dir.str("best.pt"));
  for (const auto& [name, t] : ckpt.weights) {
    ASSERT_TRUE(back.count(name)) << name;
    EXPECT_TRUE(torch::equal(back.at(name), t)) << name;
  }
  o.format = "onnx";
  EXPECT_HAS(fer::test::error_of<fer::UsageError>([&] { fer::train::export_weights(o); }),
             "torchvision or fer");
}
