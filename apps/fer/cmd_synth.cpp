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
  sub->add_option("--modalities", o->modalities,
                  "Write a paired dataset (format paired_folder) with these modalities, e.g. visible,infrared: the "
                  "same face as a visible image and as a thermal (1-channel) image")
      ->delimiter(',');
  sub->add_option("--layout", o->layout,
                  "Paired layout: modality_first (<out>/<modality>/<class>/) or class_first (<out>/<class>/<modality>/)")
      ->check(CLI::IsMember({"modality_first", "class_first"}))
      ->capture_default_str();
  sub->add_option("--modality-dirs", o->modality_dirs, "Folder name of each modality (default: the modality names)")
      ->delimiter(',');
  sub->add_option("--suffixes", o->suffixes, "File-stem suffix of each modality, e.g. _vis,_ir (default: none)")
      ->delimiter(',');
  sub->add_flag("--split-signal", o->split_signal,
                "Paired test data where each modality holds half of the class: 4 classes = 2 visible expressions "
                "(happy, sad) x 2 thermal patterns (hot forehead / hot nose, on a neutral thermal face); "
                "--classes is ignored");
  return [o, color]() {
    o->gray = !*color;
    const int n = data::write_synthetic_dataset(*o);
    if (o->modalities.empty()) {
      spdlog::info("wrote {} images ({} classes x {}) to {}", n, o->classes, o->per_class, o->out);
    } else {
      spdlog::info("wrote {} images ({} modalities, {} classes x {} pairs, layout {}) to {}", n, o->modalities.size(),
                   o->split_signal ? 4 : o->classes, o->per_class, o->layout, o->out);
    }
    return 0;
  };
}

}  // namespace fer::app
