#pragma once
// A tiny trained run for the inference tests: generated gray faces, a 4-wide ResNet-18, one epoch
// (a second or two on a CPU). The numbers it gives are not asserted anywhere, only the plumbing.
#include <filesystem>
#include <string>

#include "fer/config/config.hpp"
#include "fer/data/synth.hpp"
#include "fer/train/trainer.hpp"

namespace fer::test {

/// Writes `classes` x `per_class` generated faces of `size` px into `data` (unless it exists)
/// and trains one epoch on them into `run`, split 0.6/0.2/0.2 by `seed`.
inline void train_tiny_run(const std::string& data, const std::string& run, int classes, int per_class, int size,
                           uint64_t seed, const std::string& detector = "hog") {
  if (!std::filesystem::exists(data)) {
    data::SynthOptions so;
    so.out = data;
    so.classes = classes;
    so.per_class = per_class;
    so.size = size;
    so.seed = 5;
    data::write_synthetic_dataset(so);
  }
  config::Config c;
  c.seed = seed;
  c.threads = 2;
  c.data.format = "image_folder";
  c.data.path = data;
  c.data.split.scheme = "ratio";
  c.data.split.ratios = {0.6, 0.2, 0.2};
  c.preprocess.size = 32;
  c.preprocess.channels = 1;
  c.model.name = "resnet18";
  c.model.width = 4;
  c.train.epochs = 1;
  c.train.batch_size = 16;
  c.face.detector = detector;
  train::RunOptions ro;
  ro.run_dir = run;
  ro.progress = false;
  train::train(config::parse_config(config::to_json(c).dump(), "tiny test run"), ro);
}

}  // namespace fer::test
