// Loading named tensors (state dicts written by PyTorch) into our modules.
#include <torch/csrc/api/include/torch/serialize.h>
#include <torch/nn/module.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "fer/core/error.hpp"
#include "fer/models/model.hpp"

namespace fer::models {

namespace {
std::string shape_str(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

std::string join(const std::vector<std::string>& v, size_t limit = 20) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < limit; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > limit) s += fmt::format(", ... ({} in all)", v.size());
  return s;
}
}  // namespace

LoadReport load_named_tensors(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
                              bool strict) {
  LoadReport report;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  auto assign = [&](const std::string& name, torch::Tensor& target) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      report.missing.push_back(name);
      return;
    }
    used.insert(name);
    if (it->second.sizes() != target.sizes()) {
      report.mismatched.push_back(name + ": file " + shape_str(it->second) + " vs model " + shape_str(target));
      return;
    }
    target.copy_(it->second.to(target.dtype()));
  };
  for (auto& p : module.named_parameters(/*recurse=*/true)) assign(p.key(), p.value());
  for (auto& b : module.named_buffers(/*recurse=*/true)) assign(b.key(), b.value());
  for (const auto& [name, t] : tensors) {
    if (!used.count(name)) report.unexpected.push_back(name);
  }
  if (strict && (!report.missing.empty() || !report.unexpected.empty() || !report.mismatched.empty())) {
    std::string msg = "weights do not match the model:";
    if (!report.missing.empty()) msg += "\n  missing: " + join(report.missing);
    if (!report.unexpected.empty()) msg += "\n  unexpected: " + join(report.unexpected);
    if (!report.mismatched.empty()) msg += "\n  shape mismatch: " + join(report.mismatched);
    throw DataError(msg);
  }
  return report;
}

std::map<std::string, torch::Tensor> read_pytorch_state_dict(const std::string& path) {
  FER_CHECK(std::filesystem::exists(path), IoError, "{}: file not found", path);
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    if (what.find("GenericDict") != std::string::npos) {
      throw DataError(fmt::format(
          "{}: holds an OrderedDict, which LibTorch's unpickler cannot read; save a plain dict instead: "
          "torch.save(dict(model.state_dict()), f) (scripts/export_torchvision_weights.py does this)",
          path));
    }
    throw DataError(fmt::format("{}: not a PyTorch state dict ({})", path, what.substr(0, 200)));
  }
  FER_CHECK(value.isGenericDict(), DataError, "{}: expected a dict of name -> tensor, got {}", path,
            value.tagKind());
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : value.toGenericDict()) {
    FER_CHECK(item.key().isString() && item.value().isTensor(), DataError,
              "{}: expected a dict of name -> tensor, found an entry of type {} -> {}", path,
              item.key().tagKind(), item.value().tagKind());
    out.emplace(item.key().toStringRef(), item.value().toTensor());
  }
  return out;
}

}  // namespace fer::models
