#include "fer/train/checkpoint.hpp"

#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <filesystem>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"

namespace fer::train {

namespace {
constexpr const char* kFormat = "fer-checkpoint-1";

torch::serialize::InputArchive open_archive(const std::string& path) {
  FER_CHECK(std::filesystem::exists(path), IoError, "{}: checkpoint not found", path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw DataError(fmt::format("{}: not a fer checkpoint (cannot be read: {})", path,
                                std::string(e.what_without_backtrace()).substr(0, 160)));
  }
  return archive;
}

nlohmann::json read_meta(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue value;
  try {
    archive.read("meta", value);
  } catch (const c10::Error&) {
    throw DataError(fmt::format("{}: not a fer checkpoint (no \"meta\" record)", path));
  }
  FER_CHECK(value.isString(), DataError, "{}: not a fer checkpoint (bad \"meta\" record)", path);
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(value.toStringRef());
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: corrupt checkpoint record: {}", path, e.what()));
  }
  FER_CHECK(meta.value("format", "") == kFormat, DataError, "{}: checkpoint format \"{}\", expected \"{}\"", path,
            meta.value("format", ""), kFormat);
  return meta;
}
std::map<std::string, torch::Tensor> read_weights(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue weights;
  FER_CHECK(archive.try_read("weights", weights) && weights.isGenericDict(), DataError,
            "{}: checkpoint has no weights", path);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& item : weights.toGenericDict()) {
    tensors.emplace(item.key().toStringRef(), item.value().toTensor());
  }
  return tensors;
}
}  // namespace

void save_checkpoint(const std::string& path, models::Classifier& model, torch::optim::Optimizer* optimizer,
                     const nlohmann::json& meta) {
  torch::serialize::OutputArchive archive;
  nlohmann::json m = meta;
  m["format"] = kFormat;
  archive.write("meta", c10::IValue(m.dump()));
  // Weights as one flat name -> tensor dict (torchvision-style names), so a checkpoint of
  // another architecture can be diagnosed key by key.
  c10::Dict<std::string, at::Tensor> weights;
  // Contiguous (NCHW) whatever the memory order in training (to_channels_last).
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    weights.insert(p.key(), p.value().detach().cpu().contiguous());
  }
  for (const auto& b : model.named_buffers(/*recurse=*/true)) {
    weights.insert(b.key(), b.value().detach().cpu().contiguous());
  }
  archive.write("weights", c10::IValue(weights));
  if (optimizer) {
    torch::serialize::OutputArchive opt_archive;
    optimizer->save(opt_archive);
    archive.write("optimizer", opt_archive);
  }
  auto gen = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    archive.write("rng_cpu", gen.get_state());
  }
  const std::string tmp = temp_path_for(path);
  try {
    archive.save_to(tmp);
  } catch (const c10::Error& e) {
    const int err = errno;
    const std::string reason = write_failure_reason(path, err);  // before the partial file goes
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw IoError(fmt::format("{}: cannot write checkpoint: {} ({})", path, reason,
                              std::string(e.what_without_backtrace()).substr(0, 160)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  FER_CHECK(!ec, IoError, "{}: cannot replace checkpoint: {}", path, ec.message());
}

nlohmann::json read_checkpoint_meta(const std::string& path) {
  auto archive = open_archive(path);
  return read_meta(archive, path);
}

CheckpointContents read_checkpoint(const std::string& path) {
  auto archive = open_archive(path);
  CheckpointContents c;
  c.meta = read_meta(archive, path);
  c.weights = read_weights(archive, path);
  return c;
}

nlohmann::json load_checkpoint(const std::string& path, models::Classifier& model,
                               torch::optim::Optimizer* optimizer, bool restore_rng) {
  auto archive = open_archive(path);
  auto meta = read_meta(archive, path);
  const auto tensors = read_weights(archive, path);
  try {
    models::load_named_tensors(model, tensors, /*strict=*/true);
  } catch (const DataError& e) {
    throw DataError(fmt::format("{}: {}", path, e.what()));
  }
  if (optimizer) {
    torch::serialize::InputArchive opt_archive;
    FER_CHECK(archive.try_read("optimizer", opt_archive), DataError, "{}: checkpoint has no optimizer state",
              path);
    optimizer->load(opt_archive);
  }
  if (restore_rng) {
    torch::Tensor state;
    if (archive.try_read("rng_cpu", state)) {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state);
    }
  }
  return meta;
}

}  // namespace fer::train
