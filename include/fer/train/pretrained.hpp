#pragma once
// Starting a run from pretrained weights: model.pretrained (a `fer import-weights` checkpoint,
// or another fer run's best.pt / run directory), and `fer import-weights` itself, which turns a
// PyTorch state dict of torchvision's resnet18, vgg19_bn or vit_b_16 into such a checkpoint.
// No torch in this header.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fer/config/config.hpp"

namespace fer::models {
class Classifier;
}

namespace fer::train {

/// What model.pretrained copied into a fresh model.
struct PretrainedInit {
  std::string checkpoint;            ///< the resolved checkpoint file
  std::string source_model;          ///< model name stored in the checkpoint
  size_t copied = 0;                 ///< tensors copied as they are
  std::vector<std::string> adapted;  ///< "conv1.weight: 3 -> 1 input channels (summed)", ...
  std::vector<std::string> fresh;  ///< model tensors left at their initialisation (the classifier, new parts)
  std::vector<std::string> unused;  ///< checkpoint tensors nothing read
  nlohmann::json to_json() const;
  /// "runs/x/best.pt: 120 tensors copied, 1 adapted (...), 2 initialised fresh (fc.weight, fc.bias)"
  std::string describe() const;
};

/// Resolves cfg.model.pretrained (a checkpoint, or a run directory -> best.pt) and checks from
/// its record alone that it can initialise cfg.model (fer checkpoint, same family, not a
/// two-stream model); returns the checkpoint file. train calls it before creating the run
/// directory, so a wrong path leaves nothing behind. IoError / DataError / ConfigError naming
/// /model/pretrained.
std::string check_pretrained(const config::Config& cfg);

/// Initialises `model` (built from cfg.model, before training) from cfg.model.pretrained: a
/// checkpoint file or a run directory (-> best.pt), relative to the working directory.
/// The checkpoint's model must be of the same family (resnet18 / fusion_early, vgg19,
/// compact_cnn, vit / vit_se). Every tensor of the same name and shape is copied, except the
/// final classifier layer (Classifier::head_prefix()), which keeps its fresh initialisation for
/// the dataset's classes. Adapted when shapes differ:
///   - the input stem's input channels (conv1 / features.0 / conv_proj weight): the kernel summed
///     over the checkpoint's channels and divided by the model's (3 -> 1 sums the RGB kernels);
///   - ResNet's 7x7 stem into a 3x3 stem: the kernel area-resampled to 3x3 and scaled by 49/9;
///   - the ViT position embedding for another input size: the patch grid interpolated
///     bicubically (as torchvision does), the class token's entry kept.
/// Tensors of the model missing from the checkpoint (SE/CBAM blocks, a gate, vit_se's SE, the
/// importance branch) keep their initialisation and are listed. Any other shape difference is a
/// DataError naming the checkpoint and listing them all; fusion_feature / fusion_late are a
/// ConfigError (use model.init_streams).
PretrainedInit init_from_pretrained(models::Classifier& model, const config::Config& cfg);

/// `fer import-weights`.
struct ImportOptions {
  std::string arch;    ///< resnet18 | vgg19_bn | vit_b_16
  std::string input;   ///< state dict written by torch.save (see models::read_pytorch_state_dict)
  std::string output;  ///< fer checkpoint to write (atomically)
  int vit_heads = 0;   ///< vit_*: attention heads (0: the architecture's, 12 for vit_b_16)
};

struct ImportReport {
  std::string model_name;  ///< fer's model: resnet18, vgg19 or vit
  size_t file_tensors = 0;
  size_t imported = 0;
  std::vector<std::string> renamed;  ///< "old -> new" (older torchvision names, "module." prefixes)
  std::vector<std::string>
      dropped;                     ///< file tensors with no counterpart, by design (vgg's 3-layer classifier)
  std::vector<std::string> fresh;  ///< fer tensors with no counterpart, by design (vgg's single classifier)
  nlohmann::json meta;             ///< the record written into the checkpoint
};

/// Reads the state dict, maps torchvision's names onto fer's model (same names but for the
/// cases above), checks it strictly (a missing, unexpected or mis-shaped tensor is a DataError
/// that lists them all; a truncated or foreign file is a DataError naming it) and writes a
/// checkpoint model.pretrained can start from. The model's shape comes from the file: input
/// channels and classes, ResNet's stem (7x7 or 3x3), ViT's width, depth, MLP, patch and size.
ImportReport import_weights(const ImportOptions& opts);

/// The architectures import_weights knows.
const std::vector<std::string>& importable_archs();

/// `fer export-weights`: a run's weights back to PyTorch.
struct ExportOptions {
  std::string run;                     ///< run directory or checkpoint file
  std::string checkpoint = "best";     ///< best | last (with a run directory)
  std::string output;                  ///< the state dict to write (atomically), e.g. model.pth
  std::string format = "torchvision";  ///< torchvision (torchvision's names, resnet18 only) | fer
};

struct ExportReport {
  std::string checkpoint;  ///< the checkpoint read
  std::string model_name;
  size_t tensors = 0;
  std::string sidecar;  ///< OUTPUT.json: model settings, class names, preprocessing
};

/// Writes the checkpoint's weights as a plain dict of tensors that `torch.load` reads (zip
/// format, as torch.save writes it), and OUTPUT.json beside it (the model section, input
/// channels and size, class names, preprocessing) for scripts/fer_torchvision.py. Format
/// "torchvision": the names of torchvision's resnet18, so `resnet18(num_classes=K)` (7x7 stem)
/// or fer_torchvision.load (3x3 stem, 1-channel input, the seed's 4x4 pool) loads it strictly; a
/// model with tensors torchvision's resnet18 lacks (SE, CBAM, gate, other heads, another width)
/// or another architecture is a UsageError naming them and pointing to format "fer" (fer's own
/// names, every tensor). IoError / DataError for the checkpoint as in read_checkpoint.
ExportReport export_weights(const ExportOptions& opts);

/// The export formats, for the CLI.
const std::vector<std::string>& export_formats();

}  // namespace fer::train
