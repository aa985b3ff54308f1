// fer export-weights: a run's weights as a PyTorch state dict.
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "fer/train/pretrained.hpp"

namespace fer::app {

Runner add_export(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "export-weights",
      "Write a run's weights as a PyTorch state dict (torch.load reads it): torchvision's resnet18 names, or "
      "fer's own; OUT.json beside it holds the model settings, classes and preprocessing");
  auto o = std::make_shared<train::ExportOptions>();
  sub->add_option("-r,--run", o->run, "Run directory or checkpoint file (.pt)")->required();
  sub->add_option("--checkpoint", o->checkpoint, "best | last (with a run directory)")->capture_default_str();
  sub->add_option("-o,--out", o->output, "State dict to write, e.g. model.pth")->required();
  sub->add_option(
         "--format", o->format,
         "torchvision (resnet18: torchvision.models.resnet18 loads it strictly) | fer (every tensor, "
         "fer's names)")
      ->check(CLI::IsMember(train::export_formats()))
      ->capture_default_str();
  return [o]() {
    const train::ExportReport r = train::export_weights(*o);
    spdlog::info("{}: {} tensors of a {} written to {} ({} names), settings in {}", r.checkpoint, r.tensors,
                 r.model_name, o->output, o->format, r.sidecar);
    spdlog::info("load it in Python: import fer_torchvision (scripts/); model = fer_torchvision.load(\"{}\")",
                 o->output);
    return 0;
  };
}

}  // namespace fer::app
