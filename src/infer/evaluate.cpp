#include "fer/infer/evaluate.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <filesystem>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/data/loaders.hpp"
#include "fer/data/prepare.hpp"
#include "fer/eval/plots.hpp"
#include "fer/infer/predictor.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/engine.hpp"
#include "fer/train/runtime.hpp"

namespace fer::infer {
namespace fs = std::filesystem;

EvalResult evaluate_run(const EvalRequest& req) {
  FER_CHECK(req.split == "train" || req.split == "val" || req.split == "test", UsageError,
            "--split: expected train, val or test, got \"{}\"", req.split);
  FER_CHECK(req.tta == "config" || req.tta == "none" || req.tta == "ten_crop", UsageError,
            "--tta: expected none or ten_crop, got \"{}\"", req.tta);
  const fs::path run(req.run_dir);
  FER_CHECK(fs::is_directory(run), IoError, "{}: not a run directory", req.run_dir);
  const std::string ckpt = resolve_checkpoint(req.checkpoint == "best" || req.checkpoint == "last"
                                                  ? req.run_dir
                                                  : req.checkpoint,
                                              req.checkpoint == "last" ? "last" : "best");
  train::configure_threads(req.threads);
  const nlohmann::json meta = train::read_checkpoint_meta(ckpt);
  config::Config cfg;
  std::vector<std::string> model_classes;
  try {
    cfg = config::parse_config(meta.at("config").dump(), ckpt + " (stored config)");
    model_classes = meta.at("class_names").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: incomplete checkpoint record: {}", ckpt, e.what()));
  }

  data::Dataset ds = data::load_configured(cfg.data);
  FER_CHECK(ds.class_names == model_classes, DataError,
            "{}: the dataset's classes [{}] differ from the model's [{}]", cfg.data.path,
            fmt::join(ds.class_names, ", "), fmt::join(model_classes, ", "));
  const std::string split_path = (run / "split.json").string();
  data::Split split = data::split_from_json(nlohmann::json::parse(read_file(split_path)), ds, split_path);
  const auto& idx = req.split == "train" ? split.train : req.split == "val" ? split.val : split.test;
  FER_CHECK(!idx.empty(), DataError, "{}: the {} split is empty", split_path, req.split);
  const bool ten_crop = req.tta == "config" ? cfg.eval.ten_crop : req.tta == "ten_crop";

  augment::Pipeline pipeline(cfg.preprocess, cfg.augment, data::modality_channels(cfg.data));
  auto model = models::create_model(cfg.model, {cfg.preprocess.channels, pipeline.output_size(),
                                                static_cast<int>(ds.class_names.size()),
                                                data::modality_channels(cfg.data)});
  train::load_checkpoint(ckpt, *model, nullptr, false);
  const torch::Device device(train::resolve_device(req.device));
  model->to(device);
  auto pred = train::predict(*model, ds, idx, pipeline, ten_crop, cfg.eval.batch_size, cfg.data.workers, device);

  EvalResult r;
  r.metrics = eval::compute_metrics(pred.truth, pred.pred, static_cast<int>(ds.class_names.size()));
  r.metrics.loss = pred.loss;
  r.class_names = ds.class_names;
  r.selection = meta.value("selection", std::string("val"));
  r.epoch = meta.at("train_state").value("epoch", 0);
  if (req.checkpoint == "best") r.epoch = meta.at("train_state").value("best_epoch", r.epoch);

  auto j = eval::metrics_to_json(r.metrics, r.class_names);
  j["split"] = req.split;
  j["checkpoint"] = fs::path(ckpt).filename().string();
  j["checkpoint_epoch"] = r.epoch;
  j["checkpoint_selected_on"] = r.selection;
  j["tta"] = ten_crop ? "ten_crop" : "none";
  j["samples"] = idx.size();
  const std::string title = fmt::format("{} - {} split ({} samples)", cfg.name, req.split, idx.size());
  auto out = [&](const std::string& name) {
    r.files.push_back((run / name).string());
    return r.files.back();
  };
  write_file_atomic(out("eval_" + req.split + ".json"), j.dump(2) + "\n");
  write_file_atomic(out("confusion_" + req.split + ".csv"), eval::confusion_csv(r.metrics, r.class_names));
  eval::plot_confusion_png(out("confusion_" + req.split + ".png"), r.metrics, r.class_names, title);
  eval::plot_per_class_png(out("per_class_" + req.split + ".png"), r.metrics, r.class_names, title);
  const fs::path hist = run / "history.csv";
  if (fs::exists(hist)) {
    auto h = eval::parse_history_csv(read_file(hist.string()), hist.string());
    if (!h.empty()) eval::plot_curves_png(out("curves.png"), h, cfg.name);
  }
  return r;
}

RunInfo describe_run(const EvalRequest& req) {
  FER_CHECK(req.split == "train" || req.split == "val" || req.split == "test", UsageError,
            "--split: expected train, val or test, got \"{}\"", req.split);
  FER_CHECK(req.tta == "config" || req.tta == "none" || req.tta == "ten_crop", UsageError,
            "--tta: expected none or ten_crop, got \"{}\"", req.tta);
  FER_CHECK(fs::is_directory(req.run_dir), IoError, "{}: not a run directory", req.run_dir);
  RunInfo info;
  info.checkpoint = resolve_checkpoint(req.checkpoint == "best" || req.checkpoint == "last" ? req.run_dir
                                                                                           : req.checkpoint,
                                       req.checkpoint == "last" ? "last" : "best");
  const nlohmann::json meta = train::read_checkpoint_meta(info.checkpoint);
  try {
    info.config = config::parse_config(meta.at("config").dump(), info.checkpoint + " (stored config)");
    info.class_names = meta.at("class_names").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: incomplete checkpoint record: {}", info.checkpoint, e.what()));
  }
  return info;
}

}  // namespace fer::infer
