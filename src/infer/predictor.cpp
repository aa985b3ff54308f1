#include "fer/infer/predictor.hpp"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <filesystem>

#include "fer/augment/transforms.hpp"
#include "fer/core/error.hpp"
#include "fer/data/dataset.hpp"
#include "fer/data/loaders.hpp"
#include "fer/models/model.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/engine.hpp"
#include "fer/train/precision.hpp"
#include "fer/train/runtime.hpp"

namespace fer::infer {
namespace fs = std::filesystem;

struct Predictor::Impl {
  nlohmann::json meta;
  config::Config cfg;
  std::vector<std::string> classes;
  std::shared_ptr<models::Classifier> model;
  std::unique_ptr<augment::Pipeline> pipeline;
  torch::Device device{torch::kCPU};
  std::string precision;
};

Predictor::Predictor(const std::string& checkpoint_path, const std::string& device, const std::string& precision)
    : impl_(new Impl) {
  auto& d = *impl_;
  d.meta = train::read_checkpoint_meta(checkpoint_path);
  try {
    d.cfg = config::parse_config(d.meta.at("config").dump(), checkpoint_path + " (stored config)");
    d.classes = d.meta.at("class_names").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: incomplete checkpoint record: {}", checkpoint_path, e.what()));
  }
  d.device = torch::Device(train::resolve_device(device));
  d.precision = precision.empty() ? d.cfg.train.precision.name() : precision;
  const std::string slow = train::check_precision(d.precision, d.device.str(), "--precision");
  if (!slow.empty()) spdlog::warn("{}", slow);
  const std::vector<int> modalities = data::modality_channels(d.cfg.data);
  d.pipeline = std::make_unique<augment::Pipeline>(d.cfg.preprocess, d.cfg.augment, modalities);
  d.model = models::create_model(d.cfg.model, {d.cfg.preprocess.channels, d.pipeline->output_size(),
                                               static_cast<int>(d.classes.size()), modalities});
  train::load_checkpoint(checkpoint_path, *d.model, nullptr, /*restore_rng=*/false);
  d.model->to(d.device);
  d.model->eval();
}

Predictor::~Predictor() = default;
Predictor::Predictor(Predictor&&) noexcept = default;
Predictor& Predictor::operator=(Predictor&&) noexcept = default;

const std::vector<std::string>& Predictor::class_names() const { return impl_->classes; }
const config::Config& Predictor::config() const { return impl_->cfg; }
const nlohmann::json& Predictor::meta() const { return impl_->meta; }
const std::string& Predictor::precision() const { return impl_->precision; }

std::vector<std::vector<float>> Predictor::predict(const std::vector<cv::Mat>& images, augment::Tta tta) {
  auto& d = *impl_;
  std::vector<std::vector<float>> out;
  if (images.empty()) return out;
  const int c = d.cfg.preprocess.channels, s = d.pipeline->output_size();
  const int crops = augment::tta_views(tta);
  const size_t per = static_cast<size_t>(c) * s * s;
  std::vector<float> buf(per * crops * images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    FER_CHECK(!images[i].empty(), DataError, "image {} is empty", i);
    cv::Mat img;
    if (d.pipeline->modality_channels().empty()) {
      data::Sample sample;
      sample.image = images[i];
      img = data::load_image(sample, c);
    } else {  // a fused model: the modalities already stacked (data::load_image of a paired sample)
      FER_CHECK(images[i].channels() == c && images[i].depth() == CV_8U, DataError,
                "image {}: {} channel(s) of depth {}, but this fused model takes its modalities stacked as {} 8-bit "
                "channels (data::load_image of a paired sample)",
                i, images[i].channels(), images[i].depth(), c);
      img = images[i];
    }
    const auto views = d.pipeline->eval_views(img, tta);
    for (int k = 0; k < crops; ++k) d.pipeline->to_chw(views[k], buf.data() + (i * crops + k) * per);
  }
  torch::NoGradGuard no_grad;
  auto x = torch::from_blob(buf.data(), {static_cast<int64_t>(images.size()) * crops, c, s, s}, torch::kFloat32)
               .to(d.device);
  torch::Tensor logits;
  {
    const train::AutocastScope autocast(d.precision, d.device.str());
    logits = train::forward_views(*d.model, x, static_cast<int64_t>(images.size()), crops);
  }
  auto probs = torch::softmax(logits, 1).to(torch::kCPU).contiguous();
  const int64_t k = probs.size(1);
  const float* p = probs.data_ptr<float>();
  for (size_t i = 0; i < images.size(); ++i) out.emplace_back(p + i * k, p + (i + 1) * k);
  return out;
}

}  // namespace fer::infer
