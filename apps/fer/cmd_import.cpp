// fer import-weights: a torchvision state dict -> a checkpoint model.pretrained can start from.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "fer/train/pretrained.hpp"

namespace fer::app {

Runner add_import(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "import-weights",
      "Convert a PyTorch state dict of torchvision's resnet18, vgg19_bn or vit_b_16 "
      "(torch.save(model.state_dict(), "
      "f), e.g. from scripts/export_torchvision_weights.py) into a fer checkpoint for model.pretrained");
  auto o = std::make_shared<train::ImportOptions>();
  sub->add_option("--arch", o->arch, "Architecture of the file")
      ->required()
      ->check(CLI::IsMember(train::importable_archs()));
  sub->add_option("--in", o->input, "State dict written by torch.save")->required();
  sub->add_option("-o,--out", o->output, "fer checkpoint to write")->required();
  sub->add_option("--vit-heads", o->vit_heads, "vit_b_16: attention heads (not stored in a state dict)")
      ->capture_default_str();
  return [o]() {
    const train::ImportReport r = train::import_weights(*o);
    const auto& in = r.meta.at("input");
    spdlog::info("{}: {} tensors read, {} imported into fer's {} ({} channels, {} px, {} classes)", o->input,
                 r.file_tensors, r.imported, r.model_name, in.at("channels").get<int>(),
                 in.at("size").get<int>(), r.meta.at("classes").get<int>());
    if (!r.renamed.empty()) spdlog::info("renamed {}: {}", r.renamed.size(), fmt::join(r.renamed, ", "));
    if (!r.dropped.empty()) {
      spdlog::info("left out (no counterpart in fer's {}): {}", r.model_name, fmt::join(r.dropped, ", "));
    }
    if (!r.fresh.empty()) spdlog::info("initialised fresh: {}", fmt::join(r.fresh, ", "));
    spdlog::info(
        "wrote {}; start a run from it with \"model\": {{\"name\": \"{}\", \"pretrained\": \"{}\"}} "
        "(the classifier is re-initialised for the dataset's classes, the stem adapted to its input)",
        o->output, r.model_name, o->output);
    return 0;
  };
}

}  // namespace fer::app
