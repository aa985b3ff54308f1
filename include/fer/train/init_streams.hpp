#pragma once
// Initialising the two streams of a fused model (fusion_feature, fusion_late) from trained
// single-modality checkpoints: model.init_streams. No torch in this header.
#include <string>
#include <vector>

#include "fer/config/config.hpp"

namespace fer::models {
class Classifier;
}

namespace fer::train {

/// What was copied into one stream.
struct StreamInit {
  int stream = 0;                  ///< 0 or 1, in data.paired.modalities order
  std::string checkpoint;          ///< the resolved checkpoint file
  size_t tensors = 0;              ///< parameters and buffers copied
  std::vector<std::string> parts;  ///< which parts: "backbone", "gate", "head"
  /// "stream0 <- runs/v/best.pt: 62 tensors (backbone, gate)"
  std::string describe() const;
};

/// For each non-empty entry i of cfg.model.init_streams (a checkpoint file, or a run directory
/// -> its best.pt; relative to the working directory), copies every parameter and buffer of
/// the model's "stream<i>." from the checkpoint's tensor of the same name without the prefix:
/// the backbone (conv1, bn1 and every block, batch-norm running statistics included), the
/// feature gate ("gate.*") when the streams have one, and for fusion_late the classifier head
/// ("fc.*" or "head.*"). fusion_feature's fused head is left as it is.
/// The checkpoint must be a single-stream resnet18 whose input channels are modality i's
/// (data.paired.channels) and whose tensors match the stream's name for name and shape (no
/// tensor left over but, for fusion_feature, its own head); for fusion_late its class names
/// must equal `class_names`. DataError / IoError naming the checkpoint and listing the
/// differences otherwise; ConfigError when cfg.model is not a two-stream fused model.
/// Returns one record per initialised stream; an empty init_streams does nothing.
std::vector<StreamInit> init_streams(models::Classifier& model, const config::Config& cfg,
                                     const std::vector<std::string>& class_names);

}  // namespace fer::train
