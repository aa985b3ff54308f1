#include "fer/train/trainer.hpp"

#include <ATen/Context.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>

#include "fer/core/dir_lock.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/core/parallel.hpp"
#include "fer/core/rng.hpp"
#include "fer/core/version.hpp"
#include "fer/data/checksums.hpp"
#include "fer/data/loader.hpp"
#include "fer/data/loaders.hpp"
#include "fer/data/prepare.hpp"
#include "fer/eval/metrics.hpp"
#include "fer/eval/plots.hpp"
#include "fer/models/registry.hpp"
#include "fer/train/checkpoint.hpp"
#include "fer/train/engine.hpp"
#include "fer/train/init_streams.hpp"
#include "fer/train/losses.hpp"
#include "fer/train/precision.hpp"
#include "fer/train/pretrained.hpp"
#include "fer/train/selection.hpp"
#include "fer/train/runtime.hpp"

namespace fer::train {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const config::TrainConfig& t,
                                                        std::vector<torch::Tensor> params) {
  if (t.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        std::move(params), torch::optim::SGDOptions(t.lr).momentum(t.momentum).weight_decay(t.weight_decay).nesterov(t.nesterov));
  }
  if (t.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(
        std::move(params), torch::optim::AdamOptions(t.lr).betas({t.beta1, t.beta2}).weight_decay(t.weight_decay));
  }
  if (t.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        std::move(params), torch::optim::AdamWOptions(t.lr).betas({t.beta1, t.beta2}).weight_decay(t.weight_decay));
  }
  throw ConfigError(fmt::format("/train/optimizer: unknown optimizer \"{}\"; known: sgd, adam, adamw", t.optimizer));
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

double metric_value(const std::string& metric, const eval::Metrics& m, double loss) {
  if (metric == "macro_f1") return m.macro_f1;
  if (metric == "loss") return loss;
  return m.accuracy;
}

/// Differences between two resolved configs that would make a resumed run a different
/// experiment (epochs, early stopping, workers and prefetch may change).
std::vector<std::string> config_differences(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> diffs;
  for (const auto& op : nlohmann::json::diff(a, b)) {
    const std::string path = op.value("path", "");
    if (path == "/train/epochs" || path == "/train/early_stopping" || path == "/data/workers" ||
        path == "/data/prefetch" || path == "/device" || path == "/threads") {
      continue;
    }
    diffs.push_back(path);
  }
  return diffs;
}

/// Dynamic loss scaling for fp16 training, as torch.cuda.amp.GradScaler does it: the loss is
/// multiplied by the scale before backward so small gradients do not underflow fp16; gradients are
/// divided by it before clipping and the step; a step whose gradients hold inf or NaN is skipped
/// and the scale halved; after 2000 clean steps it doubles. Off (a no-op) for fp32 and bf16.
class LossScaler {
 public:
  explicit LossScaler(bool on) : on_(on) {}
  torch::Tensor scale(const torch::Tensor& loss) const { return on_ ? loss * scale_ : loss; }
  /// Divides the gradients by the scale; false when any is inf or NaN (skip the step).
  bool unscale(const std::vector<torch::Tensor>& params) const {
    if (!on_) return true;
    torch::NoGradGuard no_grad;
    torch::Tensor bad;
    for (const auto& p : params) {
      const torch::Tensor& g = p.grad();  // a handle: mul_ below scales the gradient in place
      if (!g.defined()) continue;
      g.mul_(1.0 / scale_);
      const torch::Tensor n = torch::logical_not(torch::isfinite(g)).sum();
      bad = bad.defined() ? bad + n : n;
    }
    return !bad.defined() || bad.item<int64_t>() == 0;
  }
  void update(bool finite) {
    if (!on_) return;
    if (!finite) {
      scale_ *= 0.5;
      good_ = 0;
      ++skipped_;
      spdlog::debug("fp16: gradients overflowed; step skipped, loss scale now {}", scale_);
    } else if (++good_ == 2000) {
      scale_ *= 2.0;
      good_ = 0;
    }
  }
  int64_t skipped() const { return skipped_; }

 private:
  bool on_;
  double scale_ = 65536.0;
  int good_ = 0;
  int64_t skipped_ = 0;
};

/// A new run's identity: 16 hex digits from the system's entropy, the clock and the process id.
/// run.json and every checkpoint carry it, so a checkpoint moved between runs is recognised.
std::string new_run_id() {
  std::random_device rd;
  const auto ticks = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  const uint64_t v = ((static_cast<uint64_t>(rd()) << 32) ^ rd()) ^ (ticks * 0x9E3779B97F4A7C15ull) ^
                     static_cast<uint64_t>(getpid());
  return fmt::format("{:016x}", v);
}

std::vector<eval::EpochRecord> history_from_json(const nlohmann::json& j) {
  std::vector<eval::EpochRecord> h;
  for (const auto& r : j) {
    eval::EpochRecord e;
    e.epoch = r.at("epoch");
    e.lr = r.at("lr");
    e.train_loss = r.at("train_loss");
    e.train_acc = r.at("train_acc");
    e.val_loss = r.at("val_loss");
    e.val_acc = r.at("val_acc");
    e.val_macro_f1 = r.at("val_macro_f1");
    e.seconds = r.at("seconds");
    h.push_back(e);
  }
  return h;
}

nlohmann::json history_to_json(const std::vector<eval::EpochRecord>& h) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : h) {
    j.push_back({{"epoch", e.epoch}, {"lr", e.lr}, {"train_loss", e.train_loss}, {"train_acc", e.train_acc},
                 {"val_loss", e.val_loss}, {"val_acc", e.val_acc}, {"val_macro_f1", e.val_macro_f1},
                 {"seconds", e.seconds}});
  }
  return j;
}

void copy_atomic(const fs::path& from, const fs::path& to) { copy_file_atomic(from.string(), to.string()); }

// An epoch's progress bar (fer/core/parallel.hpp's ProgressLine: a terminal only).
class ProgressBar {
 public:
  ProgressBar(bool enabled, int epoch, int epochs, size_t batches)
      : line_(enabled, std::chrono::milliseconds(100)), epoch_(epoch), epochs_(epochs), batches_(batches),
        t0_(Clock::now()) {}
  void update(size_t done, double loss, double acc, int64_t images) {
    if (!line_.enabled()) return;
    const double s = seconds_since(t0_);
    const double rate = s > 0 ? images / s : 0;
    const double eta = done > 0 ? s * (batches_ - done) / done : 0;
    const int width = 24;
    const int filled = static_cast<int>(width * done / std::max<size_t>(1, batches_));
    line_.show(fmt::format("epoch {}/{} [{}{}] {}/{} loss {:.4f} acc {:5.1f}% {:.0f} img/s ETA {:.0f}s", epoch_,
                           epochs_, std::string(filled, '#'), std::string(width - filled, '.'), done, batches_, loss,
                           100 * acc, rate, eta),
               done == batches_);
  }
  void finish() { line_.finish(/*keep=*/false); }

 private:
  ProgressLine line_;
  int epoch_, epochs_;
  size_t batches_;
  Clock::time_point t0_;
};

}  // namespace

TrainSummary train(const config::Config& cfg_in, const RunOptions& opts) {
  config::Config cfg = cfg_in;
  const fs::path run(opts.run_dir);
  const fs::path last_pt = run / "last.pt", best_pt = run / "best.pt";
  FER_CHECK(!opts.resume || fs::exists(last_pt), ConfigError, "{}: nothing to resume (no last.pt)", run.string());
  models::check_model_name(cfg.model);  // before anything is written
  if (!opts.resume && !cfg.model.pretrained.empty()) check_pretrained(cfg);  // before anything is written
  // fp16 on a CPU and the like fail before anything is written, too.
  const std::string precision_warning = check_precision(cfg.train.precision, resolve_device(cfg.device), "train.precision");
  // One writer per run directory for the whole run: a second fer train there is refused, and
  // what is in the directory is looked at only once it is ours.
  const DirLock run_lock(run.string(), "fer train");
  if (fs::exists(last_pt) && !opts.resume) {
    throw ConfigError(fmt::format(
        "{}: already holds a run (last.pt); pass --resume to continue it, or choose another --out", run.string()));
  }

  // The run's identity: kept across resumes (a run written before ids existed gets one now).
  std::string run_id;
  if (opts.resume) run_id = read_checkpoint_meta(last_pt.string()).value("run_id", std::string());
  if (run_id.empty()) run_id = new_run_id();

  const int threads = configure_threads(cfg.threads);
  const std::string device_name = resolve_device(cfg.device);
  const torch::Device device(device_name);
  at::globalContext().setDeterministicAlgorithms(cfg.deterministic, /*warn_only=*/true);
  if (cfg.deterministic) at::globalContext().setBenchmarkCuDNN(false);
  const std::string host = host_description();
  const std::string precision = describe_precision(cfg.train.precision, device_name);
  spdlog::info("fer {} ({}), {}, device {}, {} threads, precision {}; host {}", version(), git_commit(),
               library_versions(), device_name, threads, precision, host);
  if (!precision_warning.empty()) spdlog::warn("{}", precision_warning);

  // ---- data and split ----
  const auto t_data = Clock::now();
  data::adopt_alignment(cfg);
  data::Dataset ds = data::load_configured(cfg.data);
  const int num_classes = static_cast<int>(ds.class_names.size());
  data::Split split;
  nlohmann::json run_config;
  if (opts.resume) {
    split = data::split_from_json(read_json_file((run / "split.json").string()), ds,
                                  (run / "split.json").string());
    run_config = read_json_file((run / "config.json").string());
    // The run's own resolved preprocessing (dataset mean/std) wins; anything else that differs
    // would silently make the resumed run another experiment.
    config::Config saved = config::parse_config(run_config.dump(), (run / "config.json").string());
    cfg.preprocess = saved.preprocess;
    auto diffs = config_differences(config::to_json(saved), config::to_json(cfg));
    FER_CHECK(diffs.empty(), ConfigError,
              "{}: the config differs from the run being resumed at {} (only train.epochs, "
              "train.early_stopping, data.workers/prefetch, device and threads may change)",
              run.string(), fmt::format("{}", fmt::join(diffs, ", ")));
  } else {
    split = data::make_split(ds, cfg.data.split, derive_seed(cfg.seed, Stream::kSplit));
  }
  FER_CHECK(!split.train.empty(), DataError, "the training split is empty");
  const std::vector<size_t>& sel = split.selection == "test" ? split.test : split.val;
  FER_CHECK(!sel.empty(), DataError, "the {} split that selects the checkpoint is empty", split.selection);
  data::resolve_normalization(cfg.preprocess, cfg.augment, ds, split.train);
  if (!opts.resume) {
    write_file_atomic((run / "split.json").string(), data::split_to_json(split, ds).dump(1));
    write_file_atomic((run / "config.json").string(), config::to_json(cfg).dump(2) + "\n");
  }
  nlohmann::json record = {
      {"run_id", run_id},
      {"fer_version", version()},      {"git_commit", git_commit()},
      {"libraries", library_versions()}, {"device", device_name},
      {"threads", threads},            {"host", host},
      {"precision", precision},
      {"seed", cfg.seed},
      {"derived_seeds",
       {{"split", derive_seed(cfg.seed, Stream::kSplit)},
        {"shuffle", derive_seed(cfg.seed, Stream::kShuffle)},
        {"augment", derive_seed(cfg.seed, Stream::kAugment)},
        {"init", derive_seed(cfg.seed, Stream::kInit)}}},
      {"dataset", {{"format", ds.format}, {"source", ds.source}, {"samples", ds.samples.size()},
                   {"classes", ds.class_names}}},
      {"split_sizes", {{"train", split.train.size()}, {"val", split.val.size()}, {"test", split.test.size()}}},
      {"checkpoint_selected_on", split.selection}};
  {  // a checksum of every dataset file read; a resumed run keeps the original run's dataset.sha256
    const auto t_sum = Clock::now();
    const auto sums = data::checksum_files(data::dataset_files(ds), threads);
    uint64_t bytes = 0;
    for (const auto& s : sums) bytes += s.bytes;
    const std::string name = opts.resume ? "dataset_resumed.sha256" : "dataset.sha256";
    const std::string text = data::checksums_text(sums);
    if (opts.resume && fs::exists(run / "dataset.sha256") &&
        read_file((run / "dataset.sha256").string()) != text)
      spdlog::warn("{}: the dataset files differ from the run being resumed (compare dataset.sha256 with {})",
                   run.string(), name);
    write_file_atomic((run / name).string(), text);
    record["dataset"].update(nlohmann::json{{"files", sums.size()},
                                            {"bytes", bytes},
                                            {"sha256", data::combined_digest(sums)},
                                            {"checksums", name}});
    spdlog::info("dataset checksums: {} files, {:.1f} MB, {:.1f}s -> {}", sums.size(),
                 static_cast<double>(bytes) / 1e6, seconds_since(t_sum), name);
  }
  spdlog::info("data: {} {} samples, {} classes [{}]; split {} train / {} val / {} test ({}), {:.1f}s", ds.format,
               ds.samples.size(), num_classes, fmt::join(ds.class_names, ", "), split.train.size(),
               split.val.size(), split.test.size(), split.scheme, seconds_since(t_data));
  for (const auto& m : data::missing_class_messages(split, ds)) spdlog::warn("{}", m);  // DataError: none in train
  if (split.selection == "test") {
    spdlog::warn("SEED PROTOCOL: the checkpoint is selected on the TEST split (data.split.select_on_test); "
                 "test numbers of this run are optimistically biased");
  }

  augment::Pipeline pipeline(cfg.preprocess, cfg.augment, data::modality_channels(cfg.data));

  // ---- model and optimiser ----
  torch::manual_seed(derive_seed(cfg.seed, Stream::kInit));
  auto model = models::create_model(cfg.model, {cfg.preprocess.channels, pipeline.output_size(), num_classes,
                                                   data::modality_channels(cfg.data)});
  if (!opts.resume && !cfg.model.pretrained.empty()) {  // a resumed run already has its weights
    const PretrainedInit init = init_from_pretrained(*model, cfg);
    spdlog::info("{}", init.describe());
    record["pretrained"] = init.to_json();
  }
  if (!opts.resume && !cfg.model.init_streams.empty()) {  // a resumed run already has its weights
    std::vector<std::string> loaded(cfg.model.init_streams.size());  // "" = random stream
    for (const StreamInit& s : init_streams(*model, cfg, ds.class_names)) {
      spdlog::info("{}", s.describe());
      loaded.at(static_cast<size_t>(s.stream)) = s.checkpoint;
    }
    record["init_streams"] = loaded;
  }
  write_file_atomic((run / (opts.resume ? "run_resumed.json" : "run.json")).string(), record.dump(2) + "\n");
  model->to(device);
  auto optimizer = make_optimizer(cfg.train, model->parameters());
  int64_t n_params = 0;
  for (const auto& p : model->parameters()) n_params += p.numel();
  spdlog::info("model: {} ({:.2f} M parameters), input {}x{}x{}", cfg.model.name, n_params / 1e6,
               cfg.preprocess.channels, pipeline.output_size(), pipeline.output_size());

  torch::Tensor class_weights;
  if (cfg.train.class_weights != "none") {
    std::vector<double> w;
    if (cfg.train.class_weights == "balanced") {
      std::vector<int64_t> counts(num_classes, 0);
      for (size_t i : split.train) ++counts[ds.samples[i].label];
      for (int c = 0; c < num_classes; ++c) {
        w.push_back(counts[c] > 0 ? static_cast<double>(split.train.size()) / (num_classes * counts[c]) : 0.0);
      }
    } else {
      config::check_class_weights(cfg.train, ds.class_names);
      w = cfg.train.class_weight_values;
    }
    class_weights = torch::tensor(w, torch::kFloat32).to(device);
  }

  // ---- state (restored on resume) ----
  const std::string metric = cfg.train.select_metric;
  TrainSummary summary;
  summary.metric = metric;
  summary.selection = split.selection;
  summary.has_test = !split.test.empty();
  int start_epoch = 0;
  double best_value = metric == "loss" ? INFINITY : -INFINITY;
  double best_loss = INFINITY;  // the selection loss of the best epoch (select_tiebreak "loss")
  int best_epoch = 0, bad_epochs = 0;
  config::ScheduleState schedule_state;  // plateau's reduction so far (config/schedule.cpp)
  std::vector<eval::EpochRecord> history;
  // The epochs the schedule spans: train.epochs, or with a time budget the number fitted to it.
  int horizon = cfg.train.epochs;
  bool horizon_fitted = false;
  double budget_used = 0;  // wall seconds of the epochs so far (budget runs only)
  if (opts.resume) {
    auto meta = load_checkpoint(last_pt.string(), *model, optimizer.get(), /*restore_rng=*/true);
    const auto& st = meta.at("train_state");
    start_epoch = st.at("epoch");
    const double initial = best_value;  // +-inf is stored as null (JSON has no infinity)
    auto number = [&](const char* key) { return st.at(key).is_null() ? initial : st.at(key).get<double>(); };
    best_value = number("best_value");
    best_epoch = st.at("best_epoch");
    bad_epochs = st.at("bad_epochs");
    schedule_state.scale = st.at("plateau_scale");
    schedule_state.best = st.at("plateau_best").is_null() ? std::nan("") : st.at("plateau_best").get<double>();
    schedule_state.bad = st.at("plateau_bad");
    history = history_from_json(meta.at("history"));
    if (st.contains("best_loss")) {
      best_loss = st.at("best_loss").is_null() ? INFINITY : st.at("best_loss").get<double>();  // inf -> null
    } else if (best_epoch >= 1 && best_epoch <= static_cast<int>(history.size())) {
      best_loss = history[best_epoch - 1].val_loss;  // a state written before the key existed
    }
    if (cfg.train.budget_minutes > 0 && st.contains("horizon")) {
      horizon = std::min(st.at("horizon").get<int>(), cfg.train.epochs);
      horizon_fitted = st.at("horizon_fitted");
      budget_used = st.at("budget_used_s");
    }
    // best.pt must hold the epoch the record names. A kill between writing last.pt and copying
    // it to best.pt, or a full disk during the copy, leaves it stale or missing: repaired from
    // last.pt when that holds the best epoch; otherwise that epoch's weights are gone and the
    // selection starts again, said loudly rather than reported as if best.pt were there.
    if (best_epoch > 0) {
      std::string problem;
      if (!fs::is_regular_file(best_pt)) {
        problem = "is missing";
      } else {
        try {
          const nlohmann::json held_meta = read_checkpoint_meta(best_pt.string());
          const int held = held_meta.at("train_state").value("epoch", 0);
          const std::string held_run = held_meta.value("run_id", std::string());
          if (!held_run.empty() && held_run != run_id) {
            problem = fmt::format("was written by another run (run id {}, this run {})", held_run, run_id);
          } else if (held != best_epoch) {
            problem = fmt::format("holds epoch {}", held);
          }
        } catch (const std::exception& e) {
          problem = fmt::format("cannot be read ({})", e.what());
        }
      }
      if (!problem.empty() && best_epoch == start_epoch) {
        copy_atomic(last_pt, best_pt);
        spdlog::warn("{} {} where the record says epoch {}: repaired from last.pt, which holds that epoch",
                     best_pt.string(), problem, best_epoch);
      } else if (!problem.empty()) {
        spdlog::warn("{} {} where the record says epoch {}, and last.pt holds epoch {}: the best epoch's weights "
                     "are lost; the checkpoint selection starts again from epoch {}",
                     best_pt.string(), problem, best_epoch, start_epoch, start_epoch + 1);
        best_value = initial;
        best_loss = INFINITY;
        best_epoch = 0;
      }
    }
    spdlog::info("resuming {} after epoch {} (best {} {:.4f} at epoch {})", run.string(), start_epoch, metric,
                 best_value, best_epoch);
  }

  auto make_meta = [&](int epochs_done) {
    return nlohmann::json{
        {"run_id", run_id},
        {"config", config::to_json(cfg)},
        {"class_names", ds.class_names},
        {"input", {{"channels", cfg.preprocess.channels}, {"size", pipeline.output_size()}}},
        {"selection", split.selection},
        {"metric", metric},
        {"fer_version", version()},
        {"git_commit", git_commit()},
        {"history", history_to_json(history)},
        {"train_state",
         {{"epoch", epochs_done}, {"best_value", best_value}, {"best_loss", best_loss}, {"best_epoch", best_epoch},
          {"bad_epochs", bad_epochs}, {"plateau_scale", schedule_state.scale},
          {"plateau_best", schedule_state.best}, {"plateau_bad", schedule_state.bad}, {"horizon", horizon},
          {"horizon_fitted", horizon_fitted},
          {"budget_used_s", budget_used}}}};
  };

  const auto& tc = cfg.train;
  namespace F = torch::nn::functional;
  auto ce_options = F::CrossEntropyFuncOptions().label_smoothing(tc.label_smoothing);
  if (class_weights.defined()) ce_options.weight(class_weights);

  const double budget_s = tc.budget_minutes * 60.0;
  if (budget_s > 0) {
    spdlog::info("time budget: {:g} min of training; the schedule's epochs are fitted to it after the first "
                 "epochs are timed (at most train.epochs = {})",
                 tc.budget_minutes, tc.epochs);
  }
  LossScaler scaler(tc.precision == "fp16");
  for (int epoch = start_epoch; epoch < horizon; ++epoch) {
    const auto t0 = Clock::now();
    config::TrainConfig schedule = tc;  // the schedule spans the horizon
    schedule.epochs = horizon;
    const double lr = config::scheduled_lr(schedule, epoch, schedule_state);
    set_lr(*optimizer, lr);
    model->train();
    data::LoaderOptions lo;
    lo.batch_size = tc.batch_size;
    lo.mode = data::LoaderMode::kTrain;
    lo.shuffle = true;
    lo.seed = cfg.seed;
    lo.epoch = epoch;
    lo.workers = cfg.data.workers;
    lo.prefetch = cfg.data.prefetch;
    // A last batch of one sample breaks batch norm; drop it (it is reshuffled next epoch).
    lo.drop_last = split.train.size() % static_cast<size_t>(tc.batch_size) == 1;
    data::BatchLoader loader(ds, split.train, pipeline, lo);
    ProgressBar bar(opts.progress, epoch + 1, horizon, loader.size());
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    size_t done = 0;
    data::Batch batch;
    bool interrupted = false;
    while (loader.next(batch)) {
      if (opts.stop && opts.stop->load()) {
        interrupted = true;
        break;
      }
      auto x = images_to_tensor(batch, device);
      auto y = torch::from_blob(batch.labels.data(), {batch.n}, torch::kInt64).to(device);
      optimizer->zero_grad();
      torch::Tensor logits, loss, alpha;
      {  // the forward pass in train.precision; the loss below in fp32
        const AutocastScope autocast(tc.precision, device_name);
        if (cfg.model.importance_weighting) {
          std::tie(logits, alpha) = model->forward_weighted(x);
        } else {
          logits = model->forward(x);
        }
      }
      logits = logits.to(torch::kFloat32);
      if (cfg.model.importance_weighting) {  // self-cure: logit-weighted CE + rank regularisation
        loss = importance_weighted_loss(logits, alpha.to(torch::kFloat32), y, tc.rank_high_fraction,
                                        tc.rank_margin, tc.rank_weight, ce_options)
                   .total;
      } else {
        loss = F::cross_entropy(logits, y, ce_options);
      }
      scaler.scale(loss).backward();
      const bool finite = scaler.unscale(model->parameters());
      if (finite) {
        if (tc.grad_clip_value > 0) torch::nn::utils::clip_grad_value_(model->parameters(), tc.grad_clip_value);
        if (tc.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), tc.grad_clip);
        optimizer->step();
      }
      scaler.update(finite);
      const double l = loss.item<double>();
      FER_CHECK(std::isfinite(l), DataError,
                "epoch {}: the training loss became {} (try a lower train.lr or train.grad_clip)", epoch + 1, l);
      loss_sum += l * batch.n;
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
      seen += batch.n;
      bar.update(++done, loss_sum / seen, static_cast<double>(correct) / seen, seen);
    }
    bar.finish();
    if (interrupted) {
      summary.interrupted = true;
      if (fs::exists(last_pt)) {
        spdlog::warn("interrupted during epoch {}; {} keeps epoch {}; continue with --resume", epoch + 1,
                     last_pt.string(), epoch);
      } else {  // stopped before the first epoch ended: there is nothing to resume
        spdlog::warn("interrupted during epoch {}, before any epoch was saved: {} has no last.pt, nothing to "
                     "resume; run the same command again (without --resume) to start over",
                     epoch + 1, run.string());
      }
      break;
    }
    const double train_seconds = seconds_since(t0);

    auto val = predict(*model, ds, sel, pipeline, augment::configured_tta(cfg.eval), cfg.eval.batch_size,
                       cfg.data.workers, device, /*with_loss=*/true, tc.precision);
    auto m = eval::compute_metrics(val.truth, val.pred, num_classes);
    const double value = metric_value(metric, m, val.loss);
    const bool improved =
        selection_improved(metric, cfg.train.select_tiebreak, value, val.loss, best_value, best_loss);
    if (improved) {
      best_value = value;
      best_loss = val.loss;
      best_epoch = epoch + 1;
      bad_epochs = 0;
    } else {
      ++bad_epochs;
    }
    if (config::observe_schedule(schedule, epoch, value, metric == "loss", schedule_state)) {
      spdlog::info("{}: learning rate reduced to {:.3g}", tc.scheduler,
                   config::scheduled_lr(schedule, epoch + 1, schedule_state));
    }
    eval::EpochRecord rec;
    rec.epoch = epoch + 1;
    rec.lr = lr;
    rec.train_loss = seen ? loss_sum / seen : 0;
    rec.train_acc = seen ? static_cast<double>(correct) / seen : 0;
    rec.val_loss = val.loss;
    rec.val_acc = m.accuracy;
    rec.val_macro_f1 = m.macro_f1;
    rec.seconds = seconds_since(t0);
    history.push_back(rec);

    bool budget_stop = false;
    if (budget_s > 0) {
      // Epoch 1 runs cold (allocations, caches); epoch 2 is the first steady one. Fit on each,
      // then keep the horizon: a schedule that keeps moving is not a schedule.
      const double epoch_s = seconds_since(t0);
      const double used = budget_used + epoch_s;
      if (!horizon_fitted) {
        const int fit = epoch + 1 + static_cast<int>(std::floor(std::max(0.0, budget_s - used) / epoch_s));
        horizon = std::clamp(fit, epoch + 1, tc.epochs);
        horizon_fitted = epoch + 1 >= 2;
        spdlog::info("time budget: epoch {} took {:.1f}s, {:.0f}s of {:.0f}s used: the schedule spans {} epochs{}",
                     epoch + 1, epoch_s, used, budget_s, horizon, horizon_fitted ? "" : " (refitted after epoch 2)");
      } else if (epoch + 1 < horizon && used + epoch_s > budget_s + 0.5 * epoch_s) {
        budget_stop = true;  // the next epoch would end more than half an epoch past the budget
      }
      budget_used = used;
    }
    save_checkpoint(last_pt.string(), *model, optimizer.get(), make_meta(epoch + 1));
    if (improved) copy_atomic(last_pt, best_pt);
    write_file_atomic((run / "history.csv").string(), eval::history_csv(history));
    eval::plot_curves_png((run / "curves.png").string(), history, cfg.name);
    spdlog::info("epoch {:>3}/{} lr {:.2e} | train loss {:.4f} acc {:6.2f}% | {} loss {:.4f} acc {:6.2f}% "
                 "F1 {:.4f} | {:.1f}s, {:.0f} img/s{}",
                 epoch + 1, horizon, lr, rec.train_loss, 100 * rec.train_acc, split.selection, val.loss,
                 100 * m.accuracy, m.macro_f1, rec.seconds, seen / std::max(train_seconds, 1e-9),
                 improved ? "  *best" : "");
    summary.epochs_run = epoch + 1;
    if (budget_stop) {
      summary.budget_stopped = true;
      spdlog::warn("time budget: stopping after epoch {} of {}: the next epoch would end past the {:g} min budget",
                   epoch + 1, horizon, tc.budget_minutes);
      break;
    }
    if (tc.early_stopping > 0 && bad_epochs >= tc.early_stopping) {
      summary.early_stopped = true;
      spdlog::info("early stopping: no {} improvement for {} epochs", metric, bad_epochs);
      break;
    }
  }
  if (summary.epochs_run == 0) summary.epochs_run = start_epoch;
  summary.best_epoch = best_epoch;
  summary.best_value = best_value;
  if (budget_s > 0) {
    summary.budget_minutes = tc.budget_minutes;
    summary.budget_epochs = horizon;
    summary.budget_used_s = budget_used;
    record["budget"] = {{"minutes", tc.budget_minutes},
                        {"fitted_epochs", horizon},
                        {"epochs_run", summary.epochs_run},
                        {"seconds_used", budget_used},
                        {"stopped_by", summary.interrupted     ? "interrupted"
                                       : summary.budget_stopped ? "budget (the next epoch would end past it)"
                                       : summary.early_stopped  ? "early stopping"
                                                                : "schedule end"},
                        {"best_epoch", best_epoch},
                        {"best_" + metric, best_value}};
    write_file_atomic((run / (opts.resume ? "run_resumed.json" : "run.json")).string(), record.dump(2) + "\n");
  }
  return summary;
}

}  // namespace fer::train
