#pragma once
// The typed run configuration: the single source of truth for a run. Parsed from a JSON file,
// overridden by --set, validated (unknown keys, wrong types and out-of-range values are
// ConfigErrors naming file:line and the JSON path), then frozen and written into the run dir.
// The structs below give each field's type and default; its key, allowed values, description and
// resume rule are declared once in src/config/config.cpp (field_docs(), `fer list keys`).
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "fer/config/choice.hpp"
#include "fer/core/registry.hpp"

namespace fer::config {

// ---- closed sets (fer/config/choice.hpp): each enum's spellings are the config file's words ----

enum class SplitScheme { kRatio, kPredefined, kCkPlusFolds, kStratifiedKfold };
enum class SplitOrder { kRandom, kFile };
enum class PairedLayout { kAuto, kModalityFirst, kClassFirst };
enum class Unpaired { kError, kDrop };
enum class Normalize { kDataset, kImagenet, kMinmax, kNone, kCustom };
enum class FaceAlign { kEyes, kBox };
enum class Stem { kAuto, k3x3, k7x7 };
enum class Init { kModel, kPytorch };
enum class Pool { kGlobal, kAvg4 };
enum class Head { kLinear, kVisible, kInfrared, kFused };
enum class FusionFeatures { kConcat, kInterleave };
enum class LateCombine { kMean, kLearned };
enum class Optimizer { kSgd, kAdam, kAdamW };
enum class ClassWeights { kNone, kBalanced, kCustom };
enum class SelectMetric { kAccuracy, kMacroF1, kLoss };
enum class SelectTiebreak { kFirst, kLoss };
enum class Precision { kFp32, kBf16, kFp16 };

#define FER_ENUM_NAMES(E, ...)                             \
  template <>                                              \
  struct EnumNames<E> {                                    \
    static constexpr auto names = std::array{__VA_ARGS__}; \
  }
FER_ENUM_NAMES(SplitScheme, "ratio", "predefined", "ck_plus_folds", "stratified_kfold");
FER_ENUM_NAMES(SplitOrder, "random", "file");
FER_ENUM_NAMES(PairedLayout, "auto", "modality_first", "class_first");
FER_ENUM_NAMES(Unpaired, "error", "drop");
FER_ENUM_NAMES(Normalize, "dataset", "imagenet", "minmax", "none", "custom");
FER_ENUM_NAMES(FaceAlign, "eyes", "box");
FER_ENUM_NAMES(Stem, "auto", "3x3", "7x7");
FER_ENUM_NAMES(Init, "model", "pytorch");
FER_ENUM_NAMES(Pool, "global", "avg4");
FER_ENUM_NAMES(Head, "linear", "visible", "infrared", "fused");
FER_ENUM_NAMES(FusionFeatures, "concat", "interleave");
FER_ENUM_NAMES(LateCombine, "mean", "learned");
FER_ENUM_NAMES(Optimizer, "sgd", "adam", "adamw");
FER_ENUM_NAMES(ClassWeights, "none", "balanced", "custom");
FER_ENUM_NAMES(SelectMetric, "accuracy", "macro_f1", "loss");
FER_ENUM_NAMES(SelectTiebreak, "first", "loss");
FER_ENUM_NAMES(Precision, "fp32", "bf16", "fp16");
#undef FER_ENUM_NAMES

/// How samples are split into train / val / test.
struct SplitConfig {
  Choice<SplitScheme> scheme =
      SplitScheme::kRatio;                         ///< ratio | predefined | ck_plus_folds | stratified_kfold
  std::vector<double> ratios = {0.7, 0.15, 0.15};  ///< train/val/test fractions for "ratio" (sum 1)
  bool stratified = true;                          ///< keep class proportions in "ratio"
  /// "ratio": random (seeded shuffle) | file (per class, the first ratios[0] of the samples in
  /// natural file-name order train, the next val, the last test: for datasets of video frames
  /// whose neighbours are near-duplicates, so no frame has its twin on the other side)
  Choice<SplitOrder> order = SplitOrder::kRandom;
  std::string train = "Training";                  ///< "predefined": usage name of the train split
  std::string val = "PublicTest";                  ///< "predefined": usage of val ("" = carve from train)
  std::string test = "PrivateTest";                ///< "predefined": usage of test ("" = none in this data)
  /// k-fold schemes: number of folds (stratified_kfold: at most the smallest class, or with
  /// data.subject_pattern the number of subjects: folds are then subject-grouped)
  int folds = 10;
  int fold = 1;                                    ///< k-fold schemes: the test fold, 1-based
  std::vector<int> ck_fold_sizes = {12, 18, 9, 21, 9, 24, 6};  ///< per-class test block (seed CK+)
  double val_fraction = 0.1;  ///< part of train carved (stratified) as val when the scheme has none
  bool select_on_test = false;  ///< seed protocol: pick the checkpoint on the TEST split (biased!)
};

/// Paired visible + infrared datasets (formats paired_folder, viri, nvie): how the two images
/// of a sample are found and matched. The model sees them stacked along the channel axis, in
/// `modalities` order (e.g. 3 visible + 1 infrared channels = 4).
struct PairedConfig {
  std::vector<std::string> modalities = {"visible", "infrared"};  ///< folder name of each modality
  std::vector<int> channels = {3, 1};       ///< channels of each modality (1 gray/thermal, 3 colour)
  Choice<PairedLayout> layout =
      PairedLayout::kAuto;  ///< auto | modality_first (ROOT/<mod>/<class>) | class_first (ROOT/<class>/<mod>)
  std::vector<std::string> stem_patterns;   ///< per modality: regex on the file stem, group 1 = pairing key; [] = whole stem
  Choice<Unpaired> unpaired = Unpaired::kError;  ///< error (list them) | drop (count them)
  std::string use = "all";                  ///< all (fusion) | one modality name (single-stream model, same pairs and split)
};

/// Where the data comes from and which classes are used.
struct DataConfig {
  std::string format = "image_folder";  ///< dataset loader name (fer list datasets)
  std::string path;                     ///< file or folder; relative paths resolve from the CWD
  std::vector<std::string> classes;     ///< classes to keep, in this order (after label_map); [] = all
  std::map<std::string, std::string> label_map;  ///< source class name -> new class name
  SplitConfig split;
  PairedConfig paired;         ///< paired formats only
  /// Subject of each sample, for subject-grouped splits (ratio, stratified_kfold): a preset
  /// ("ck_plus", "jaffe"; see subject_regex) or a regex searched in the file name, group 1 = subject
  /// id. Formats with file names only (image_folder, paired); "" = none.
  std::string subject_pattern;
  int workers = 0;   ///< decode/augment threads; 0 = all cores
  int prefetch = 4;  ///< batches prepared ahead of the model
  /// Where each data.classes entry and data.label_map key was written, with its key
  /// ("configs/x.json:14: /data/classes/2", "--set data.classes=[...]: /data/classes/2"), for the
  /// checks that need the dataset's class names; filled by parse_config, empty for settings
  /// assembled in memory, not part of to_json.
  std::vector<std::string> classes_at;
  std::map<std::string, std::string> label_map_at;
};

/// The regex of a data.subject_pattern value: the preset's for a preset name ("ck_plus": CK+
/// names like S010_004_00000017.png -> S010; "jaffe": JAFFE names like KA.AN1.39.tiff -> KA),
/// else the value itself.
std::string subject_regex(const std::string& subject_pattern);

/// Names of the data.subject_pattern presets, in a fixed order.
std::vector<std::string> subject_pattern_presets();

/// Deterministic preprocessing shared by train, eval and infer (stored in checkpoints).
struct PreprocessConfig {
  int size = 48;                      ///< images are resized to size x size
  int channels = 3;                   ///< 1 (gray) or 3 (gray replicated / BGR->RGB)
  Choice<Normalize> normalize = Normalize::kDataset;  ///< dataset | imagenet | minmax | none | custom
  std::vector<double> mean;           ///< per channel, 0..1 scale ("custom"; filled for "dataset")
  std::vector<double> std;            ///< per channel, 0..1 scale ("custom"; filled for "dataset")
};

/// How faces are found and aligned in raw photos and video frames (fer align, fer infer). Stored
/// in checkpoints with the rest of the config so infer aligns faces the way training data was.
struct FaceConfig {
  std::string detector = "hog";  ///< hog (dlib HOG) | haar (OpenCV cascade) | mmod (dlib CNN) | none
  std::string mmod_model;        ///< dlib's mmod_human_face_detector.dat (detector "mmod")
  std::string haar_cascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
  std::string landmark_model = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
  int upsample = 1;             ///< image doublings before detection (finds faces under ~80 px)
  double min_confidence = 0.0;  ///< drop detections scoring below this (detector's own scale)
  int min_face = 20;            ///< drop detections smaller than this many pixels
  /// Detect on a copy scaled down so that its longer side is at most this many pixels (0 = the
  /// full image). Boxes come back in full-image pixels; landmarks and alignment use the full image.
  int detect_max_side = 1024;
  Choice<FaceAlign> align = FaceAlign::kEyes;  ///< eyes (similarity transform on the eye centres) | box
  int size = 0;                 ///< aligned crop side; 0 = preprocess.size
  double eye_x = 0.35;          ///< left eye centre at this fraction of the side (right eye 1 - x)
  double eye_y = 0.35;          ///< eye line at this fraction of the side
  double box_padding = 0.1;     ///< "box" (and the fallback): margin, fraction of the box side
};

/// Random training-time augmentation (all off by default). Each sample is seeded by
/// (seed, epoch, index), so results do not depend on the number of worker threads.
struct AugmentConfig {
  int crop = 0;                 ///< random crop side in training, centre crop at eval; 0 = none
  double hflip = 0.0;           ///< probability of a horizontal flip
  double vflip = 0.0;           ///< probability of a vertical flip
  double rotation = 0.0;        ///< max degrees, uniform in [-r, r]
  double zoom = 0.0;            ///< scale uniform in [1-z, 1+z]
  double shear = 0.0;           ///< max shear angle in degrees
  double translate = 0.0;       ///< max shift as a fraction of the side
  double perspective = 0.0;     ///< max corner displacement as a fraction of the side
  double brightness = 0.0;      ///< additive, uniform in [-b, b] (fraction of 255)
  double contrast = 0.0;        ///< multiplicative, uniform in [1-c, 1+c]
  double gaussian_noise = 0.0;  ///< noise sigma in gray levels (0..255)
  double salt_pepper = 0.0;     ///< fraction of pixels set to 0 or 255
};

/// The network.
struct ModelConfig {
  std::string name = "resnet18";  ///< model registry name (fer list models)
  std::string name_at;            ///< where name was written ("t.json:3: /model/name"); not a setting
  Choice<Stem> stem = Stem::kAuto;  ///< auto | 3x3 | 7x7 (auto: 3x3 stride-1 below 112 px)
  /// Weight initialisation: "model" = the model's published scheme (torchvision's Kaiming-normal
  /// fan-out convolutions for resnet18 / vgg19, Xavier for compact_cnn); "pytorch" = every layer
  /// keeps its own PyTorch default (Kaiming-uniform, a = sqrt(5)), as the seed code's models do.
  /// For a 3x3 convolution the "pytorch" weights have about 0.4x the standard deviation.
  Choice<Init> init = Init::kModel;
  /// ResNet-18 pooling before the head: "global" = average over the whole final map; "avg4" =
  /// the seed code's F.avg_pool2d(out, 4), a 4x4 window with stride 4, which on the 6x6 map of
  /// a 44 px crop reads only the top-left 4x4 (the final map must be 4..7 px: inputs of 25..56 px).
  Choice<Pool> pool = Pool::kGlobal;
  // Attention variants of the ResNet-18 family, set together by model.attention ("none", "se",
  // "cbam", "gate", "se+gate", "cbam+gate"); "se" and "feature_gate" are also read as keys of
  // their own (the older spelling), and the config written back has "attention" only.
  bool se = false;                ///< squeeze-and-excitation in every residual block
  int se_reduction = 16;          ///< SE bottleneck reduction
  double dropout = 0.0;           ///< dropout before the final linear layer
  int width = 64;                 ///< channels of the first stage (64 = standard ResNet-18)
  Choice<Head> head =
      Head::kLinear;  ///< linear | visible | infrared | fused (the visible/infrared paper's MLP heads;
                      ///< fusion_feature uses the fused head for any non-linear value)
  bool feature_gate = false;      ///< gate on pooled features: x * sigmoid(W (x * x) + b)
  bool cbam = false;              ///< CBAM channel + spatial attention in every residual block (not with se)
  /// Self-cure importance weighting (Wang et al. 2020): a Linear + sigmoid branch on the
  /// embedding weights each sample; trained with the logit-weighted CE (train.rank_*).
  bool importance_weighting = false;
  /// A fer checkpoint (fer import-weights output, or best.pt / a run directory of another run)
  /// whose weights initialise a fresh run; "" = random init. See train/pretrained.hpp.
  std::string pretrained;
  Choice<FusionFeatures> fusion_features =
      FusionFeatures::kConcat;  ///< fusion_feature: concat | interleave (element by element)
  Choice<LateCombine> late_combine =
      LateCombine::kMean;  ///< fusion_late: mean | learned (softmax-weighted) logits
  // vit / vit_se (defaults: ViT-B/16). The input size must be a multiple of vit_patch.
  int vit_patch = 16;      ///< side of the square patches, in pixels
  int vit_dim = 768;       ///< token width (hidden dim)
  int vit_depth = 12;      ///< Transformer blocks
  int vit_heads = 12;      ///< attention heads; must divide vit_dim
  int vit_mlp_dim = 3072;  ///< hidden width of each block's MLP
  /// fusion_feature / fusion_late: [] or one entry per stream (data.paired.modalities order), a
  /// single-modality resnet18 checkpoint or run directory (-> best.pt) whose weights initialise
  /// that stream at the start of a fresh run, or "" to leave the stream random.
  std::vector<std::string> init_streams;
  /// Fused models (paired data, use "all"): modality name -> run directory or checkpoint of a
  /// single-modality model that `fer infer` uses when only that modality's image is present.
  std::map<std::string, std::string> fallback;
};

/// Optimisation and checkpoint selection.
struct TrainConfig {
  int epochs = 10;
  int batch_size = 64;
  Choice<Optimizer> optimizer = Optimizer::kAdam;  ///< sgd | adam | adamw
  double lr = 1e-3;
  double momentum = 0.9;           ///< sgd
  bool nesterov = false;           ///< sgd
  double weight_decay = 0.0;
  double beta1 = 0.9;              ///< adam / adamw
  double beta2 = 0.999;            ///< adam / adamw
  std::string scheduler = "cosine";  ///< none | cosine | step | plateau
  int warmup_epochs = 0;             ///< linear warm-up from lr/10 before the schedule
  int step_size = 10;                ///< step: epochs between decays
  int decay_start = 0;  ///< step: epochs at the full lr (after any warm-up) before the decays begin
  double gamma = 0.1;                ///< step: decay factor
  int plateau_patience = 3;          ///< plateau: epochs without improvement before decay
  double plateau_factor = 0.1;       ///< plateau: decay factor
  double min_lr = 0.0;               ///< cosine floor
  double label_smoothing = 0.0;      ///< in [0, 1)
  // Rank regularisation of the importance weights (model.importance_weighting only).
  double rank_margin = 0.15;           ///< required gap between the high and low groups' mean weights
  double rank_high_fraction = 0.7;     ///< share of each batch in the high-weight group
  double rank_weight = 1.0;            ///< weight of the rank term; 0 = logit-weighted CE alone
  Choice<ClassWeights> class_weights = ClassWeights::kNone;  ///< none | balanced | custom
  std::vector<double> class_weight_values;  ///< custom: one weight per class
  /// Where the custom weights were written ("configs/x.json:31: /train/class_weights"), for the
  /// count check that needs the dataset; filled by parse_config, not part of to_json.
  std::string class_weights_at;
  double grad_clip = 0.0;            ///< max global gradient norm; 0 = off
  double grad_clip_value = 0.0;      ///< clamp every gradient element to [-v, v]; 0 = off
  Choice<SelectMetric> select_metric =
      SelectMetric::kAccuracy;  ///< accuracy | macro_f1 | loss (on the selection split)
  /// Epochs that tie on an accuracy or macro-F1 select_metric: "first" keeps the earliest,
  /// "loss" takes the one with the lower selection loss (small validation parts tie often).
  Choice<SelectTiebreak> select_tiebreak = SelectTiebreak::kFirst;
  /// fp32, or mixed precision: bf16 (CPUs with AVX512-BF16 or AMX, recent GPUs) or fp16 (CUDA,
  /// with dynamic loss scaling). Convolutions and matrix multiplies run in the lower precision;
  /// weights, optimiser state, the loss and checkpoints stay fp32. Also the default precision of
  /// fer eval and fer infer for the run (--precision changes it).
  Choice<Precision> precision = Precision::kFp32;
  int early_stopping = 0;            ///< stop after this many epochs without improvement; 0 = off
  /// Time budget in minutes of training (the epoch loop: training, validation, checkpoints);
  /// 0 = off. The trainer times its first epochs and fits the number of epochs the schedule
  /// spans to the budget (train.epochs is then the most it may fit), so a cosine or step
  /// schedule ends when the budget does; it stops early if an epoch would end past the budget.
  double budget_minutes = 0;
};

/// Evaluation options.
struct EvalConfig {
  bool ten_crop = false;  ///< ten-crop TTA (needs augment.crop > 0)
  bool flip = false;      ///< flip TTA: the image and its mirror image (not with ten_crop)
  int batch_size = 128;
};

/// model.attention's canonical value for the se / cbam / feature_gate flags: "none", "se",
/// "cbam", "gate", "se+gate" or "cbam+gate".
std::string attention_name(const ModelConfig& m);

// ---- learning-rate schedules (schedule.cpp): every schedule, its state and its registry ----

/// What a schedule carries from one epoch to the next (saved in checkpoints). Only plateau keeps
/// any: the product of its reductions and its own best validation value.
struct ScheduleState {
  double scale = 1.0;                                      ///< plateau: lr factor so far
  double best = std::numeric_limits<double>::quiet_NaN();  ///< plateau: best value seen (NaN: none)
  int bad = 0;                                             ///< plateau: epochs since it improved
};

/// A learning-rate schedule (train.scheduler).
struct LrSchedule {
  /// The lr of epoch `e` (0-based, counted after the warm-up) of `total` such epochs.
  std::function<double(const TrainConfig&, int e, int total, const ScheduleState&)> lr;
  /// After an epoch's validation; true when it lowered the lr. Empty for schedules that ignore
  /// validation.
  std::function<bool(const TrainConfig&, double value, bool lower_is_better, ScheduleState&)> observe;
};

/// none, cosine, step and plateau, in that order; the config reader checks train.scheduler here.
const Registry<LrSchedule>& schedule_registry();

/// The learning rate of 0-based `epoch` under `t`: a linear warm-up from lr/10 over warmup_epochs,
/// then the schedule: cosine (to min_lr over the remaining epochs), step (lr * gamma^floor(k /
/// step_size), k counting the epochs after warm-up and decay_start), plateau (lr * state.scale,
/// lowered by observe_schedule) or none.
double scheduled_lr(const TrainConfig& t, int epoch, const ScheduleState& state = {});

/// Hands the validation `value` of 0-based `epoch` to the schedule (ignored during the warm-up);
/// true when the schedule lowered the learning rate (plateau: no improvement on its best for more
/// than plateau_patience epochs multiplies the lr by plateau_factor).
bool observe_schedule(const TrainConfig& t, int epoch, double value, bool lower_is_better,
                      ScheduleState& state);

/// A whole run.
struct Config {
  std::string name = "run";   ///< run name (default run directory runs/<name>)
  uint64_t seed = 42;         ///< drives split, shuffle, augmentation and initialisation
  std::string device = "auto";  ///< auto | cpu | cuda | cuda:N
  int threads = 0;            ///< intra-op threads; 0 = all cores
  bool deterministic = false;  ///< request deterministic algorithms
  DataConfig data;
  PreprocessConfig preprocess;
  FaceConfig face;
  AugmentConfig augment;
  ModelConfig model;
  TrainConfig train;
  EvalConfig eval;
};

/// Parses and validates `path`, applying `overrides` ("a.b=value", value parsed as JSON when it
/// parses, else taken as a string) before validation. Throws ConfigError
/// ("configs/x.json:4: /train/lr: expected a number > 0, got \"fast\"").
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// The values data.format takes, checked when a config is parsed (with its file:line). The data
/// registry implements exactly these; a test ties them. (model.name is checked against the model
/// registry by fer/models/registry.hpp's check_model_name.)
const std::vector<std::string>& dataset_format_names();

/// Parses and validates JSON text; `origin` names it in errors (a file name or "<string>").
Config parse_config(const std::string& text, const std::string& origin,
                    const std::vector<std::string>& overrides = {});

/// The fully resolved config as JSON (every field, defaults included). parse_config of its
/// dump gives back an equal Config.
nlohmann::json to_json(const Config& cfg);

/// One config field, as the reference table (docs/config_reference.md) shows it. Every field is
/// declared once in config.cpp; the reader, to_json, this table and the resume rules follow it.
struct FieldDoc {
  std::string key;            ///< dotted path: "train.lr"
  std::string values;         ///< what it takes: "a number > 0", "one of \"sgd\", \"adam\", \"adamw\""
  std::string default_value;  ///< the default, as JSON
  std::string doc;            ///< one line
  bool runtime = false;       ///< how a run executes, not what it computes (threads, device, data workers)
  bool extendable = false;    ///< may change when a run resumes (epochs, early stopping)
};

/// Every field in declaration order (the order of to_json's sections and of the reader).
const std::vector<FieldDoc>& field_docs();

/// field_docs() as a Markdown table (`fer list keys`; docs/config_reference.md holds it).
std::string field_reference_markdown();

/// JSON pointers of the runtime fields ("/threads", "/data/workers", ...): they may differ between
/// the folds of a k-fold experiment and when a run resumes.
std::vector<std::string> runtime_fields();

/// JSON pointers of the fields a resumed run may change: the runtime fields and the extendable
/// ones (train.epochs, train.early_stopping). Any other difference makes it another experiment.
std::vector<std::string> resume_free_fields();

/// ConfigError unless custom class weights (train.class_weights) give one weight per class of
/// `class_names` (the dataset's classes after data.label_map / data.classes), naming where the
/// weights were written.
void check_class_weights(const TrainConfig& t, const std::vector<std::string>& class_names);

/// True for the paired visible + infrared formats (paired_folder, viri, nvie).
bool is_paired_format(const std::string& format);

/// Validates a face section alone (fer align's fer_align.json, --set style CLI options).
FaceConfig parse_face_config(const nlohmann::json& j, const std::string& origin);
/// The face section as JSON (every field).
nlohmann::json face_to_json(const FaceConfig& f);
/// The face settings in a JSON file: an object of FaceConfig keys, or any object with a "face"
/// section (a fer_align.json, a training config). ConfigError naming the file for bad JSON or keys.
FaceConfig load_face_config(const std::string& path);

}  // namespace fer::config
