#include "fer/infer/evaluate.hpp"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/core/rng.hpp"
#include "fer/data/loaders.hpp"
#include "fer/data/prepare.hpp"
#include "fer/data/split.hpp"
#include "fer/eval/class_map.hpp"
#include "fer/eval/compare.hpp"
#include "fer/eval/html_report.hpp"
#include "fer/eval/plots.hpp"
#include "fer/infer/predictor.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/engine.hpp"
#include "fer/train/precision.hpp"
#include "fer/train/runtime.hpp"

namespace fer::infer {
namespace fs = std::filesystem;

namespace {

void check_request(const EvalRequest& req) {
  FER_CHECK(req.split.empty() || req.split == "train" || req.split == "val" || req.split == "test" ||
                req.split == "all",
            UsageError, "--split: expected train, val, test or all, got \"{}\"", req.split);
  FER_CHECK(req.split != "all" || !req.data.empty(), UsageError,
            "--split all: only with --data (the run's own data holds its training samples)");
  FER_CHECK(req.tta == "config" || req.tta == "none" || req.tta == "flip" || req.tta == "ten_crop",
            UsageError, "--tta: expected config, none, flip or ten_crop, got \"{}\"", req.tta);
  FER_CHECK(req.bootstrap >= 0, UsageError, "--bootstrap: expected 0 (off) or a number of resamples, got {}",
            req.bootstrap);
  FER_CHECK(req.data.empty() || fs::exists(req.data), IoError, "--data {}: no such config file", req.data);
  FER_CHECK(req.checkpoint == "best" || req.checkpoint == "last" || fs::is_regular_file(req.checkpoint), UsageError,
            "--checkpoint {}: expected best, last or the path of a .pt file", req.checkpoint);
}

std::string resolved_split(const EvalRequest& req) {
  return !req.split.empty() ? req.split : req.data.empty() ? "test" : "all";
}

// A name usable in file names: letters, digits, '-', '_' and '.'; anything else becomes '_'.
std::string file_token(const std::string& s) {
  std::string out;
  for (char c : s)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  return out;
}

}  // namespace

namespace {

// The one-page report of an evaluation: what was evaluated, with what, the numbers, the
// figures just written and the run's config.
std::string run_report_html(const EvalRequest& req, const EvalResult& r, const config::Config& cfg,
                            const std::string& ckpt, size_t samples, const std::string& curves) {
  const fs::path run(req.run_dir);
  eval::RunReport page;
  page.title = r.dataset.empty() ? fmt::format("{}: {} split", cfg.name, r.split)
                                 : fmt::format("{} on {}: {}", cfg.name, r.dataset, r.split);
  auto& f = page.facts;
  f.emplace_back("run directory", fs::absolute(run).lexically_normal().string());
  f.emplace_back("checkpoint", fmt::format("{} (epoch {})", fs::path(ckpt).filename().string(), r.epoch));
  f.emplace_back("checkpoint chosen on", r.selection == kNotSelected ? r.selection : r.selection + " split");
  for (const auto& w : r.warnings) page.warnings.push_back(w);
  f.emplace_back("evaluated", r.dataset.empty() ? fmt::format("the run's {} split", r.split)
                                                : fmt::format("{} ({} of {})", r.dataset, r.split, req.data));
  f.emplace_back("samples", std::to_string(samples));
  f.emplace_back("model", eval::model_label(cfg));  // with its options: attention, self-cure, pretrained, ...
  f.emplace_back("test-time augmentation", r.tta);
  f.emplace_back("precision", r.precision);
  for (const auto& line : r.mapping) f.emplace_back("classes", line);
  if (r.ci.resamples > 0) {
    f.emplace_back("95% intervals", fmt::format("stratified percentile bootstrap, {} resamples, seed {}",
                                                r.ci.resamples, r.ci.seed));
  }
  const fs::path record = run / "run.json";
  if (fs::exists(record)) {
    try {
      const auto j = nlohmann::json::parse(read_file(record.string()));
      const auto str = [](const nlohmann::json& v) {
        return v.is_string() ? v.get<std::string>() : v.dump();
      };
      for (const char* key : {"seed", "fer_version", "git_commit", "libraries", "device", "threads", "precision", "host"}) {
        if (j.contains(key)) f.emplace_back(key, str(j[key]));
      }
      if (j.contains("dataset") && j["dataset"].contains("sha256")) {
        f.emplace_back("training data sha256",
                       fmt::format("{} ({} files)", str(j["dataset"]["sha256"]),
                                   str(j["dataset"].value("files", nlohmann::json()))));
      }
    } catch (const nlohmann::json::exception&) {
      f.emplace_back("run.json", "unreadable");
    }
  }
  page.metrics = r.metrics;
  page.class_names = r.class_names;
  if (r.ci.resamples > 0) {
    page.has_ci = true;
    page.acc_lo = r.ci.accuracy_lo;
    page.acc_hi = r.ci.accuracy_hi;
    page.f1_lo = r.ci.macro_f1_lo;
    page.f1_hi = r.ci.macro_f1_hi;
  }
  if (!curves.empty()) page.figures.push_back({"Training curves", curves});
  page.figures.push_back({"Confusion matrix", (run / ("confusion_" + r.tag + ".png")).string()});
  page.figures.push_back(
      {"Per-class precision, recall and F1", (run / ("per_class_" + r.tag + ".png")).string()});
  const fs::path config = run / "config.json";
  page.config_json = fs::exists(config) ? read_file(config.string()) : config::to_json(cfg).dump(2);
  if (r.selection == "test") {
    page.warnings.push_back(
        "The checkpoint was chosen on the TEST split (seed protocol, data.split.select_on_test): test "
        "numbers are "
        "optimistically biased.");
  }
  if (r.dataset.empty() && r.split == "train") {
    page.warnings.push_back("These are numbers on the TRAINING split: the model was fit to these samples.");
  }
  return eval::render_run_report(page);
}

/// Why `ckpt` (with record `meta` and config `cfg`) is not a checkpoint of the run in `run`, or
/// "" when it is or nothing says otherwise: the run ids differ (run.json and every checkpoint
/// carry one), or, for runs written before run ids, its seed or data section differs from the
/// run's config.json (which is what split.json was made from).
std::string foreign_checkpoint(const fs::path& run, const std::string& ckpt, const nlohmann::json& meta,
                               const config::Config& cfg) {
  const std::string id = meta.value("run_id", std::string());
  const fs::path last = run / "last.pt";
  if (!id.empty() && fs::is_regular_file(last) && fs::path(ckpt) != last) {
    const std::string run_id = train::read_checkpoint_meta(last.string()).value("run_id", std::string());
    if (!run_id.empty() && run_id != id) {
      return fmt::format("it was written by another run (run id {}; {} has run id {})", id, last.string(), run_id);
    }
    if (!run_id.empty()) return "";
  }
  const fs::path saved = run / "config.json";
  if (!fs::is_regular_file(saved)) return "";
  nlohmann::json own = read_json_file(saved.string());
  nlohmann::json theirs = config::to_json(cfg);
  std::vector<std::string> diffs;
  if (own.value("seed", nlohmann::json()) != theirs["seed"]) diffs.push_back("/seed");
  for (auto* j : {&own, &theirs}) {  // may differ between the run and its resumptions
    if (!j->contains("data") || !(*j)["data"].is_object()) continue;
    (*j)["data"].erase("workers");
    (*j)["data"].erase("prefetch");
  }
  for (const auto& op : nlohmann::json::diff(own.value("data", nlohmann::json()), theirs["data"])) {
    diffs.push_back("/data" + op.value("path", ""));
  }
  if (diffs.empty()) return "";
  return fmt::format("its config differs from {} at {}, which split.json was made from", saved.string(),
                     fmt::join(diffs, ", "));
}

}  // namespace

EvalResult evaluate_run(const EvalRequest& req) {
  check_request(req);
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

  EvalResult r;
  r.split = resolved_split(req);
  data::Dataset ds;
  std::vector<size_t> idx;
  nlohmann::json data_record;
  if (req.data.empty()) {
    ds = data::load_configured(cfg.data);
    FER_CHECK(ds.class_names == model_classes || !req.class_map.empty() || !req.exclude_classes.empty(),
              DataError, "{}: the dataset's classes [{}] differ from the model's [{}]", cfg.data.path,
              fmt::join(ds.class_names, ", "), fmt::join(model_classes, ", "));
    const std::string split_path = (run / "split.json").string();
    const std::string foreign = foreign_checkpoint(run, ckpt, meta, cfg);
    FER_CHECK(foreign.empty(), DataError,
              "{} is not a checkpoint of the run in {}: {}; evaluate it with its own run directory (--run), "
              "or score it on a dataset with --data CONFIG.json",
              ckpt, run.string(), foreign);
    data::Split split = data::split_from_json(read_json_file(split_path), ds, split_path);
    idx = r.split == "train" ? split.train : r.split == "val" ? split.val : split.test;
    FER_CHECK(!idx.empty(), DataError, "{}: the {} split is empty{}", split_path, r.split,
              r.split == "test" ? fmt::format(" (its data has no test part, data.split.test \"\"); score the run on a "
                                              "dataset that has one: fer eval --run {} --data OTHER.json --split all",
                                              run.string())
                                : std::string());
    r.tag = r.split;
  } else {
    const config::Config other = config::load_config(req.data, req.overrides);
    ds = data::load_configured(other.data);
    if (r.split == "all") {
      for (size_t i = 0; i < ds.samples.size(); ++i) idx.push_back(i);
    } else {
      const data::Split split =
          data::make_split(ds, other.data.split, derive_seed(other.seed, Stream::kSplit));
      idx = r.split == "train" ? split.train : r.split == "val" ? split.val : split.test;
    }
    FER_CHECK(!idx.empty(), DataError, "{}: the {} split of {} is empty", req.data, r.split, other.data.path);
    r.dataset = other.name != "run" ? other.name : fs::path(req.data).stem().string();
    r.tag = file_token(r.dataset) + "_" + r.split;
    data_record = {{"config", req.data},  {"name", r.dataset},  {"format", ds.format},
                   {"source", ds.source}, {"seed", other.seed}, {"split_scheme", other.data.split.scheme}};
  }
  // Another checkpoint's files sit beside best.pt's (eval_test_last.json), never over them:
  // fer kfold and the reports read eval_test.json as the selected checkpoint's numbers.
  if (req.checkpoint == "last") {
    r.tag += "_last";
  } else if (req.checkpoint != "best") {
    r.tag += "_" + file_token(fs::path(req.checkpoint).stem().string());
  }

  const eval::ClassMap cmap = eval::build_class_map(
      model_classes, ds.class_names, eval::read_class_map_entries(req.class_map), req.exclude_classes);
  if (!cmap.identity()) {
    r.mapping = cmap.describe();
    std::vector<size_t> kept;
    for (size_t i : idx) {
      if (cmap.label_map[ds.samples[i].label] >= 0) kept.push_back(i);
    }
    FER_CHECK(!kept.empty(), DataError, "no sample is left after excluding {}",
              fmt::join(cmap.excluded, ", "));
    idx = std::move(kept);
  }
  const augment::Tta tta =
      req.tta == "config" ? augment::configured_tta(cfg.eval) : augment::parse_tta(req.tta, "--tta");
  r.tta = augment::tta_name(tta);

  augment::Pipeline pipeline(cfg.preprocess, cfg.augment, data::modality_channels(cfg.data));
  auto model = models::create_model(
      cfg.model, {cfg.preprocess.channels, pipeline.output_size(), static_cast<int>(model_classes.size()),
                  data::modality_channels(cfg.data)});
  train::load_checkpoint(ckpt, *model, nullptr, false);
  const torch::Device device(train::resolve_device(req.device));
  r.precision = req.precision.empty() ? cfg.train.precision.name() : req.precision;
  const std::string slow = train::check_precision(r.precision, device.str(), "--precision");
  if (!slow.empty()) spdlog::warn("{}", slow);
  model->to(device);
  auto pred = train::predict(*model, ds, idx, pipeline, tta, cfg.eval.batch_size, cfg.data.workers, device,
                             /*with_loss=*/cmap.identity(), r.precision);

  std::vector<int> truth = pred.truth, predicted = pred.pred;
  double loss = pred.loss;
  if (!cmap.identity()) {  // the model's probabilities summed onto the evaluated classes
    double loss_sum = 0;
    for (size_t i = 0; i < pred.probs.size(); ++i) {
      const auto scores = eval::map_probabilities(cmap, pred.probs[i]);
      truth[i] = cmap.label_map[pred.truth[i]];
      predicted[i] = static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin());
      loss_sum -= std::log(std::max(scores[truth[i]], 1e-12));
    }
    loss = loss_sum / static_cast<double>(pred.probs.size());
  }
  r.class_names = cmap.dataset_classes;
  const int k = static_cast<int>(r.class_names.size());
  r.metrics = eval::compute_metrics(truth, predicted, k);
  r.metrics.loss = loss;
  for (size_t i : pred.indices) r.ids.push_back(ds.samples[i].id);
  const uint64_t boot_seed = req.bootstrap_seed >= 0 ? static_cast<uint64_t>(req.bootstrap_seed) : cfg.seed;
  if (req.bootstrap > 0) r.ci = eval::bootstrap_ci(truth, predicted, k, req.bootstrap, boot_seed);
  r.epoch = meta.at("train_state").value("epoch", 0);  // the epoch whose weights the file holds
  // last.pt is whatever the last epoch left: nothing chose it.
  r.selection = req.checkpoint == "last" ? std::string(kNotSelected) : meta.value("selection", std::string("val"));
  if (req.checkpoint == "best") {
    // best.pt must hold the epoch the run's own record (last.pt) names; a crash between the two
    // writes, or a best.pt copied in from elsewhere, breaks that.
    const fs::path last = run / "last.pt";
    if (fs::is_regular_file(last)) {
      const int recorded = train::read_checkpoint_meta(last.string()).at("train_state").value("best_epoch", 0);
      if (recorded != r.epoch) {
        r.warnings.push_back(fmt::format(
            "{} holds epoch {}, but the run's record ({}) says its best epoch is {}: best.pt is stale or "
            "comes from another run (fer train --resume repairs it when last.pt holds the best epoch)",
            ckpt, r.epoch, last.string(), recorded));
      }
    }
  }
  for (const auto& w : r.warnings) spdlog::warn("{}", w);

  auto j = eval::metrics_to_json(r.metrics, r.class_names);
  j["split"] = r.split;
  j["checkpoint"] = fs::path(ckpt).filename().string();
  j["checkpoint_epoch"] = r.epoch;
  j["checkpoint_selected_on"] = r.selection;
  j["tta"] = r.tta;
  j["precision"] = r.precision;
  j["samples"] = idx.size();
  if (!data_record.is_null()) j["dataset"] = data_record;
  if (!cmap.identity()) {
    nlohmann::json m = nlohmann::json::object();
    for (size_t c = 0; c < model_classes.size(); ++c) {
      m[model_classes[c]] =
          cmap.target[c] >= 0 ? nlohmann::json(cmap.dataset_classes[cmap.target[c]]) : nullptr;
    }
    j["class_map"] = m;
    j["excluded_classes"] = cmap.excluded;
  }
  if (r.ci.resamples > 0) {
    j["bootstrap"] = {{"method", "stratified percentile"},
                      {"resamples", r.ci.resamples},
                      {"seed", r.ci.seed},
                      {"level", r.ci.level},
                      {"accuracy", {r.ci.accuracy_lo, r.ci.accuracy_hi}},
                      {"macro_f1", {r.ci.macro_f1_lo, r.ci.macro_f1_hi}}};
  }
  const std::string title =
      r.dataset.empty() ? fmt::format("{} - {} split ({} samples)", cfg.name, r.split, idx.size())
                        : fmt::format("{} on {} - {} ({} samples)", cfg.name, r.dataset, r.split, idx.size());
  auto out = [&](const std::string& name) {
    r.files.push_back((run / name).string());
    return r.files.back();
  };
  write_file_atomic(out("eval_" + r.tag + ".json"), j.dump(2) + "\n");
  write_file_atomic(out("confusion_" + r.tag + ".csv"), eval::confusion_csv(r.metrics, r.class_names));
  eval::plot_confusion_png(out("confusion_" + r.tag + ".png"), r.metrics, r.class_names, title);
  eval::plot_per_class_png(out("per_class_" + r.tag + ".png"), r.metrics, r.class_names, title);
  const fs::path hist = run / "history.csv";
  std::string curves;
  if (fs::exists(hist)) {
    auto h = eval::parse_history_csv(read_file(hist.string()), hist.string());
    if (!h.empty()) eval::plot_curves_png(curves = out("curves.png"), h, cfg.name);
  }
  if (req.html)
    write_file_atomic(out("report_" + r.tag + ".html"),
                      run_report_html(req, r, cfg, ckpt, idx.size(), curves));
  return r;
}

RunInfo describe_run(const EvalRequest& req) {
  check_request(req);
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
