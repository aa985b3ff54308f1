#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "fer/data/synth.hpp"

namespace fer::app {

Runner add_synth(CLI::App& app) {
  auto* sub = app.add_subcommand("synth", "Generate a procedural face-expression dataset (image folders)");
  auto o = std::make_shared<data::SynthOptions>();
  auto color = std::make_shared<bool>(false);
  sub->add_option("-o,--out", o->out, "Output folder (<out>/<class>/*.png)")->required();
  sub->add_option("--classes", o->classes, "Number of classes, 2..7")->capture_default_str();
  sub->add_option("--per-class", o->per_class, "Images per class")->capture_default_str();
  sub->add_option("--size", o->size, "Image side in pixels")->capture_default_str();
  sub->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  sub->add_flag("--color", *color, "Colour (BGR) images instead of gray");
  return [o, color]() {
    o->gray = !*color;
    const int n = data::write_synthetic_dataset(*o);
    spdlog::info("wrote {} images ({} classes x {}) to {}", n, o->classes, o->per_class, o->out);
    return 0;
  };
}

}  // namespace fer::app
