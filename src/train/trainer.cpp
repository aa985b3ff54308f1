#include "fer/train/trainer.hpp"

#include <ATen/Context.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "fer/core/dir_lock.hpp"
#include "fer/core/error.hpp"
#include "fer/core/launch.hpp"
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
#include "fer/train/runtime.hpp"
#include "fer/train/state.hpp"

namespace fer::train {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const config::TrainConfig& t,
                                                        std::vector<torch::Tensor> params) {
  switch (t.optimizer.value()) {
    case config::Optimizer::kSgd:
      return std::make_unique<torch::optim::SGD>(std::move(params), torch::optim::SGDOptions(t.lr)
                                                                        .momentum(t.momentum)
                                                                        .weight_decay(t.weight_decay)
                                                                        .nesterov(t.nesterov));
    case config::Optimizer::kAdam:
      return std::make_unique<torch::optim::Adam>(
          std::move(params),
          torch::optim::AdamOptions(t.lr).betas({t.beta1, t.beta2}).weight_decay(t.weight_decay));
    case config::Optimizer::kAdamW:
      return std::make_unique<torch::optim::AdamW>(
          std::move(params),
          torch::optim::AdamWOptions(t.lr).betas({t.beta1, t.beta2}).weight_decay(t.weight_decay));
  }
  throw std::logic_error("make_optimizer: an Optimizer enumerator without a case");
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

double metric_value(config::SelectMetric metric, const eval::Metrics& m, double loss) {
  switch (metric) {
    case config::SelectMetric::kMacroF1:
      return m.macro_f1;
    case config::SelectMetric::kLoss:
      return loss;
    case config::SelectMetric::kAccuracy:
      break;
  }
  return m.accuracy;
}

/// Differences between two resolved configs that would make a resumed run a different
/// experiment: any field but config::resume_free_fields() (threads, device, data workers and
/// prefetch, epochs, early stopping).
std::vector<std::string> config_differences(const nlohmann::json& a, const nlohmann::json& b) {
  static const std::vector<std::string> free = config::resume_free_fields();
  std::vector<std::string> diffs;
  for (const auto& op : nlohmann::json::diff(a, b)) {
    const std::string path = op.value("path", "");
    if (std::find(free.begin(), free.end(), path) == free.end()) diffs.push_back(path);
  }
  return diffs;
}

/// "train.epochs, data.workers, ...": the fields a resumed run may change, for messages.
std::string resume_free_keys() {
  std::vector<std::string> keys;
  for (const auto& f : config::field_docs()) {
    if (f.runtime || f.extendable) keys.push_back(f.key);
  }
  return fmt::format("{}", fmt::join(keys, ", "));
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

// ---- data ----

/// A new run's split, or the split of the run being resumed, whose config must match `cfg` (its
/// resolved preprocessing, the dataset's mean and std, is taken over).
data::Split load_or_make_split(config::Config& cfg, const data::Dataset& ds, const fs::path& run,
                               bool resume) {
  if (!resume) return data::make_split(ds, cfg.data.split, derive_seed(cfg.seed, Stream::kSplit));
  data::Split split =
      data::split_from_json(read_json_file((run / "split.json").string()), ds, (run / "split.json").string());
  const nlohmann::json run_config = read_json_file((run / "config.json").string());
  // The run's own resolved preprocessing (dataset mean/std) wins; anything else that differs
  // would silently make the resumed run another experiment.
  const config::Config saved = config::parse_config(run_config.dump(), (run / "config.json").string());
  cfg.preprocess = saved.preprocess;
  const auto diffs = config_differences(config::to_json(saved), config::to_json(cfg));
  FER_CHECK(diffs.empty(), ConfigError,
            "{}: the config differs from the run being resumed at {} (only {} may change)", run.string(),
            fmt::format("{}", fmt::join(diffs, ", ")), resume_free_keys());
  return split;
}

/// A checksum of every dataset file read (dataset.sha256; a resumed run keeps the original run's
/// and writes dataset_resumed.sha256, warning when they differ), summarised in `record`.
void write_checksums(const data::Dataset& ds, const fs::path& run, bool resume, int threads,
                     nlohmann::json& record) {
  const auto t_sum = Clock::now();
  const auto sums = data::checksum_files(data::dataset_files(ds), threads);
  uint64_t bytes = 0;
  for (const auto& s : sums) bytes += s.bytes;
  const std::string name = resume ? "dataset_resumed.sha256" : "dataset.sha256";
  const std::string text = data::checksums_text(sums);
  if (resume && fs::exists(run / "dataset.sha256") && read_file((run / "dataset.sha256").string()) != text) {
    spdlog::warn("{}: the dataset files differ from the run being resumed (compare dataset.sha256 with {})",
                 run.string(), name);
  }
  write_file_atomic((run / name).string(), text);
  record["dataset"].update(nlohmann::json{{"files", sums.size()},
                                          {"bytes", bytes},
                                          {"sha256", data::combined_digest(sums)},
                                          {"checksums", name}});
  spdlog::info("dataset checksums: {} files, {:.1f} MB, {:.1f}s -> {}", sums.size(),
               static_cast<double>(bytes) / 1e6, seconds_since(t_sum), name);
}

/// train.class_weights as a tensor on `device` (undefined for "none"): "balanced" from the
/// training split's class counts, "custom" as given (one per class, checked).
torch::Tensor class_weight_tensor(const config::TrainConfig& t, const data::Dataset& ds,
                                  const std::vector<size_t>& train_indices, const torch::Device& device) {
  if (t.class_weights == config::ClassWeights::kNone) return {};
  const int num_classes = static_cast<int>(ds.class_names.size());
  std::vector<double> w;
  if (t.class_weights == config::ClassWeights::kBalanced) {
    std::vector<int64_t> counts(num_classes, 0);
    for (size_t i : train_indices) ++counts[ds.samples[i].label];
    for (int c = 0; c < num_classes; ++c) {
      w.push_back(counts[c] > 0 ? static_cast<double>(train_indices.size()) / (num_classes * counts[c])
                                : 0.0);
    }
  } else {
    config::check_class_weights(t, ds.class_names);
    w = t.class_weight_values;
  }
  return torch::tensor(w, torch::kFloat32).to(device);
}

/// A new run's starting weights from model.pretrained and model.init_streams, recorded in `record`.
void initialise_weights(models::Classifier& model, const config::Config& cfg,
                        const std::vector<std::string>& class_names, nlohmann::json& record) {
  if (!cfg.model.pretrained.empty()) {
    const PretrainedInit init = init_from_pretrained(model, cfg);
    spdlog::info("{}", init.describe());
    record["pretrained"] = init.to_json();
  }
  if (!cfg.model.init_streams.empty()) {
    std::vector<std::string> loaded(cfg.model.init_streams.size());  // "" = random stream
    for (const StreamInit& s : init_streams(model, cfg, class_names)) {
      spdlog::info("{}", s.describe());
      loaded.at(static_cast<size_t>(s.stream)) = s.checkpoint;
    }
    record["init_streams"] = loaded;
  }
}

// ---- resume ----

struct RunFiles {
  fs::path run, last_pt, best_pt;
  std::string run_id;
};

/// The state of the run being resumed: weights, optimiser and RNG from last.pt, the TrainState
/// from its metadata. best.pt must hold the epoch the state names. A kill between writing last.pt
/// and copying it to best.pt, or a full disk during the copy, leaves it stale or missing: repaired
/// from last.pt when that holds the best epoch; otherwise that epoch's weights are gone and the
/// selection starts again, said loudly rather than reported as if best.pt were there.
TrainState resume_state(const RunFiles& f, const config::TrainConfig& tc, models::Classifier& model,
                        torch::optim::Optimizer& optimizer) {
  const auto meta = load_checkpoint(f.last_pt.string(), model, &optimizer, /*restore_rng=*/true);
  TrainState state = TrainState::from_meta(meta, tc);
  if (state.best_epoch > 0) {
    std::string problem;
    if (!fs::is_regular_file(f.best_pt)) {
      problem = "is missing";
    } else {
      try {
        const nlohmann::json held_meta = read_checkpoint_meta(f.best_pt.string());
        const int held = held_meta.at("train_state").value("epoch", 0);
        const std::string held_run = held_meta.value("run_id", std::string());
        if (!held_run.empty() && held_run != f.run_id) {
          problem = fmt::format("was written by another run (run id {}, this run {})", held_run, f.run_id);
        } else if (held != state.best_epoch) {
          problem = fmt::format("holds epoch {}", held);
        }
      } catch (const std::exception& e) {
        problem = fmt::format("cannot be read ({})", e.what());
      }
    }
    if (!problem.empty() && state.best_epoch == state.epoch) {
      copy_atomic(f.last_pt, f.best_pt);
      spdlog::warn("{} {} where the record says epoch {}: repaired from last.pt, which holds that epoch",
                   f.best_pt.string(), problem, state.best_epoch);
    } else if (!problem.empty()) {
      spdlog::warn(
          "{} {} where the record says epoch {}, and last.pt holds epoch {}: the best epoch's weights "
          "are lost; the checkpoint selection starts again from epoch {}",
          f.best_pt.string(), problem, state.best_epoch, state.epoch, state.epoch + 1);
      state.restart_selection(tc);
    }
  }
  spdlog::info("resuming {} after epoch {} (best {} {:.4f} at epoch {})", f.run.string(), state.epoch,
               tc.select_metric, state.best_value, state.best_epoch);
  return state;
}

// ---- one epoch of training ----

struct EpochContext {
  const config::Config& cfg;
  const RunOptions& opts;
  const data::Dataset& ds;
  const std::vector<size_t>& train_indices;
  const augment::Pipeline& pipeline;
  const torch::Device& device;
  const std::string& device_name;
  models::Classifier& model;
  torch::optim::Optimizer& optimizer;
  torch::nn::functional::CrossEntropyFuncOptions ce_options;
  LossScaler scaler;
};

struct EpochStats {
  double loss_sum = 0;  ///< summed over samples
  int64_t correct = 0, seen = 0;
  bool interrupted = false;  ///< opts.stop was set: the epoch is incomplete
};

/// One pass over the training split at the optimiser's current learning rate.
EpochStats train_epoch(EpochContext& c, int epoch, int horizon) {
  namespace F = torch::nn::functional;
  const auto& tc = c.cfg.train;
  c.model.train();
  data::LoaderOptions lo;
  lo.batch_size = tc.batch_size;
  lo.mode = data::LoaderMode::kTrain;
  lo.shuffle = true;
  lo.seed = c.cfg.seed;
  lo.epoch = epoch;
  lo.workers = c.cfg.data.workers;
  lo.prefetch = c.cfg.data.prefetch;
  // A last batch of one sample breaks batch norm; drop it (it is reshuffled next epoch).
  lo.drop_last = c.train_indices.size() % static_cast<size_t>(tc.batch_size) == 1;
  data::BatchLoader loader(c.ds, c.train_indices, c.pipeline, lo);
  ProgressBar bar(c.opts.progress, epoch + 1, horizon, loader.size());
  EpochStats st;
  size_t done = 0;
  data::Batch batch;
  while (loader.next(batch)) {
    if (c.opts.stop && c.opts.stop->load()) {
      st.interrupted = true;
      break;
    }
    auto x = images_to_tensor(batch, c.device);
    auto y = torch::from_blob(batch.labels.data(), {batch.n}, torch::kInt64).to(c.device);
    c.optimizer.zero_grad();
    torch::Tensor logits, loss, alpha;
    {  // the forward pass in train.precision; the loss below in fp32
      const AutocastScope autocast(tc.precision, c.device_name);
      if (c.cfg.model.importance_weighting) {
        std::tie(logits, alpha) = c.model.forward_weighted(x);
      } else {
        logits = c.model.forward(x);
      }
    }
    logits = logits.to(torch::kFloat32);
    if (c.cfg.model.importance_weighting) {  // self-cure: logit-weighted CE + rank regularisation
      loss = importance_weighted_loss(logits, alpha.to(torch::kFloat32), y, tc.rank_high_fraction,
                                      tc.rank_margin, tc.rank_weight, c.ce_options)
                 .total;
    } else {
      loss = F::cross_entropy(logits, y, c.ce_options);
    }
    c.scaler.scale(loss).backward();
    const bool finite = c.scaler.unscale(c.model.parameters());
    if (finite) {
      if (tc.grad_clip_value > 0)
        torch::nn::utils::clip_grad_value_(c.model.parameters(), tc.grad_clip_value);
      if (tc.grad_clip > 0) torch::nn::utils::clip_grad_norm_(c.model.parameters(), tc.grad_clip);
      c.optimizer.step();
    }
    c.scaler.update(finite);
    const double l = loss.item<double>();
    FER_CHECK(std::isfinite(l), DataError,
              "epoch {}: the training loss became {} (try a lower train.lr or train.grad_clip)", epoch + 1,
              l);
    st.loss_sum += l * batch.n;
    st.correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    st.seen += batch.n;
    bar.update(++done, st.loss_sum / st.seen, static_cast<double>(st.correct) / st.seen, st.seen);
  }
  bar.finish();
  return st;
}

// ---- time budget ----

/// After 0-based `epoch` took `epoch_s` seconds: fits the horizon to train.budget_minutes (epoch 1
/// runs cold, with allocations and caches; epoch 2 is the first steady one: fit on each, then keep
/// the horizon, since a schedule that keeps moving is not a schedule). True when the next epoch
/// would end more than half an epoch past the budget.
bool budget_step(TrainState& state, const config::TrainConfig& tc, int epoch, double epoch_s) {
  const double budget_s = tc.budget_minutes * 60.0;
  const double used = state.budget_used_s + epoch_s;
  bool stop = false;
  if (!state.horizon_fitted) {
    const int fit = epoch + 1 + static_cast<int>(std::floor(std::max(0.0, budget_s - used) / epoch_s));
    state.horizon = std::clamp(fit, epoch + 1, tc.epochs);
    state.horizon_fitted = epoch + 1 >= 2;
    spdlog::info(
        "time budget: epoch {} took {:.1f}s, {:.0f}s of {:.0f}s used: the schedule spans {} epochs{}",
        epoch + 1, epoch_s, used, budget_s, state.horizon,
        state.horizon_fitted ? "" : " (refitted after epoch 2)");
  } else if (epoch + 1 < state.horizon && used + epoch_s > budget_s + 0.5 * epoch_s) {
    stop = true;
  }
  state.budget_used_s = used;
  return stop;
}

/// The time budget's outcome in the summary and in run.json's "budget".
void record_budget(TrainSummary& summary, const TrainState& state, const config::TrainConfig& tc,
                   nlohmann::json& record) {
  summary.budget_minutes = tc.budget_minutes;
  summary.budget_epochs = state.horizon;
  summary.budget_used_s = state.budget_used_s;
  record["budget"] = {{"minutes", tc.budget_minutes},
                      {"fitted_epochs", state.horizon},
                      {"epochs_run", summary.epochs_run},
                      {"seconds_used", state.budget_used_s},
                      {"stopped_by", summary.interrupted      ? "interrupted"
                                     : summary.budget_stopped ? "budget (the next epoch would end past it)"
                                     : summary.early_stopped  ? "early stopping"
                                                              : "schedule end"},
                      {"best_epoch", state.best_epoch},
                      {"best_" + tc.select_metric, state.best_value}};
}

/// A launcher's multi-process job (torchrun, srun with several tasks) would start N copies of the
/// same run in one directory: refused, exit 2, until data-parallel training lands. Bad launcher
/// variables are UsageErrors from launch_env() itself.
void check_single_process(const Launch& l) {
  FER_CHECK(
      !l.distributed(), UsageError,
      "{} started {} processes (this is rank {}): fer trains in one process; data-parallel training over "
      "torch.distributed is not implemented yet. Start one process (torchrun --nproc-per-node 1, srun -n 1)",
      l.launcher, l.world_size, l.rank);
}

}  // namespace

void check_before_run(const config::Config& cfg) {
  models::check_model_name(cfg.model);
  check_single_process(launch_env());
}

TrainSummary train(const config::Config& cfg_in, const RunOptions& opts) {
  config::Config cfg = cfg_in;
  const fs::path run(opts.run_dir);
  const fs::path last_pt = run / "last.pt", best_pt = run / "best.pt";
  FER_CHECK(!opts.resume || fs::exists(last_pt), ConfigError, "{}: nothing to resume (no last.pt)", run.string());
  // A misspelt model, a missing pretrained file, fp16 on a CPU and the like fail before anything
  // is written.
  check_before_run(cfg);
  if (!opts.resume && !cfg.model.pretrained.empty()) check_pretrained(cfg);
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
  const data::Split split = load_or_make_split(cfg, ds, run, opts.resume);
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
  write_checksums(ds, run, opts.resume, threads, record);
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
  if (!opts.resume) initialise_weights(*model, cfg, ds.class_names, record);  // a resumed run has its own
  write_file_atomic((run / (opts.resume ? "run_resumed.json" : "run.json")).string(), record.dump(2) + "\n");
  model->to(device);
  auto optimizer = make_optimizer(cfg.train, model->parameters());
  int64_t n_params = 0;
  for (const auto& p : model->parameters()) n_params += p.numel();
  spdlog::info("model: {} ({:.2f} M parameters), input {}x{}x{}", cfg.model.name, n_params / 1e6,
               cfg.preprocess.channels, pipeline.output_size(), pipeline.output_size());

  const torch::Tensor class_weights = class_weight_tensor(cfg.train, ds, split.train, device);

  // ---- state (restored on resume) ----
  const std::string metric = cfg.train.select_metric.name();
  TrainSummary summary;
  summary.metric = metric;
  summary.selection = split.selection;
  summary.has_test = !split.test.empty();
  TrainState state = TrainState::fresh(cfg.train);
  if (opts.resume) {
    state = resume_state(RunFiles{run, last_pt, best_pt, run_id}, cfg.train, *model, *optimizer);
  }
  const int start_epoch = state.epoch;

  const auto make_meta = [&] {
    return nlohmann::json{
        {"run_id", run_id},
        {"config", config::to_json(cfg)},
        {"class_names", ds.class_names},
        {"input", {{"channels", cfg.preprocess.channels}, {"size", pipeline.output_size()}}},
        {"selection", split.selection},
        {"metric", metric},
        {"fer_version", version()},
        {"git_commit", git_commit()},
        {"history", state.history_json()},
        {"train_state", state.state_json()}};
  };

  const auto& tc = cfg.train;
  namespace F = torch::nn::functional;
  EpochContext ctx{cfg,
                   opts,
                   ds,
                   split.train,
                   pipeline,
                   device,
                   device_name,
                   *model,
                   *optimizer,
                   F::CrossEntropyFuncOptions().label_smoothing(tc.label_smoothing),
                   LossScaler(tc.precision == config::Precision::kFp16)};
  if (class_weights.defined()) ctx.ce_options.weight(class_weights);

  const double budget_s = tc.budget_minutes * 60.0;
  if (budget_s > 0) {
    spdlog::info("time budget: {:g} min of training; the schedule's epochs are fitted to it after the first "
                 "epochs are timed (at most train.epochs = {})",
                 tc.budget_minutes, tc.epochs);
  }
  for (int epoch = start_epoch; epoch < state.horizon; ++epoch) {
    const auto t0 = Clock::now();
    config::TrainConfig schedule = tc;  // the schedule spans the horizon
    schedule.epochs = state.horizon;
    const double lr = config::scheduled_lr(schedule, epoch, state.schedule);
    set_lr(*optimizer, lr);
    const EpochStats stats = train_epoch(ctx, epoch, state.horizon);
    if (stats.interrupted) {
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

    // ---- selection ----
    auto val = predict(*model, ds, sel, pipeline, augment::configured_tta(cfg.eval), cfg.eval.batch_size,
                       cfg.data.workers, device, /*with_loss=*/true, tc.precision);
    auto m = eval::compute_metrics(val.truth, val.pred, num_classes);
    bool lr_lowered = false;
    const bool improved =
        state.select(tc, schedule, epoch, metric_value(cfg.train.select_metric.value(), m, val.loss),
                     val.loss, lr_lowered);
    if (lr_lowered) {
      spdlog::info("{}: learning rate reduced to {:.3g}", tc.scheduler,
                   config::scheduled_lr(schedule, epoch + 1, state.schedule));
    }
    eval::EpochRecord rec;
    rec.epoch = epoch + 1;
    rec.lr = lr;
    rec.train_loss = stats.seen ? stats.loss_sum / stats.seen : 0;
    rec.train_acc = stats.seen ? static_cast<double>(stats.correct) / stats.seen : 0;
    rec.val_loss = val.loss;
    rec.val_acc = m.accuracy;
    rec.val_macro_f1 = m.macro_f1;
    rec.seconds = seconds_since(t0);
    state.history.push_back(rec);
    const bool budget_stop = budget_s > 0 && budget_step(state, tc, epoch, seconds_since(t0));
    state.epoch = epoch + 1;

    // ---- checkpointing: last.pt, then best.pt from it, then the history and its plot ----
    save_checkpoint(last_pt.string(), *model, optimizer.get(), make_meta());
    if (improved) copy_atomic(last_pt, best_pt);
    write_file_atomic((run / "history.csv").string(), eval::history_csv(state.history));
    eval::plot_curves_png((run / "curves.png").string(), state.history, cfg.name);
    spdlog::info(
        "epoch {:>3}/{} lr {:.2e} | train loss {:.4f} acc {:6.2f}% | {} loss {:.4f} acc {:6.2f}% "
        "F1 {:.4f} | {:.1f}s, {:.0f} img/s{}",
        epoch + 1, state.horizon, lr, rec.train_loss, 100 * rec.train_acc, split.selection, val.loss,
        100 * m.accuracy, m.macro_f1, rec.seconds, stats.seen / std::max(train_seconds, 1e-9),
        improved ? "  *best" : "");
    summary.epochs_run = epoch + 1;
    if (budget_stop) {
      summary.budget_stopped = true;
      spdlog::warn(
          "time budget: stopping after epoch {} of {}: the next epoch would end past the {:g} min budget",
          epoch + 1, state.horizon, tc.budget_minutes);
      break;
    }
    if (state.early_stop(tc)) {
      summary.early_stopped = true;
      spdlog::info("early stopping: no {} improvement for {} epochs", metric, state.bad_epochs);
      break;
    }
  }
  if (summary.epochs_run == 0) summary.epochs_run = start_epoch;
  summary.best_epoch = state.best_epoch;
  summary.best_value = state.best_value;
  if (budget_s > 0) {
    record_budget(summary, state, tc, record);
    write_file_atomic((run / (opts.resume ? "run_resumed.json" : "run.json")).string(), record.dump(2) + "\n");
  }
  return summary;
}

}  // namespace fer::train
