#pragma once
// Evaluating a model on a dataset with other classes (`fer eval --data`): which dataset class
// each model class counts for, and the mapped prediction of a sample. No torch.
#include <string>
#include <vector>

namespace fer::eval {

/// Model class -> dataset class. A sample's score for a dataset class is the sum of the
/// probabilities of the model classes mapped to it; model classes mapped to nothing are left
/// out (their probability mass is dropped and the rest renormalised).
struct ClassMap {
  std::vector<std::string> model_classes;
  std::vector<std::string> dataset_classes;  ///< the evaluated classes: the dataset's minus `excluded`
  std::vector<int> target;     ///< per model class: index into dataset_classes, or -1 (left out)
  std::vector<int> label_map;  ///< per class of the dataset: index into dataset_classes, or -1 (excluded)
  /// Dataset classes whose samples are not evaluated (--exclude-class).
  std::vector<std::string> excluded;

  /// True when the map is the identity between equal class lists (the model's own data).
  bool identity() const;
  /// "anger -> angry" lines, then "ignored: contempt" and "excluded: ..." when any.
  std::vector<std::string> describe() const;
};

/// Builds the map. Each model class goes to the dataset class of the same name, compared
/// case-insensitively and through the usual synonyms of expression names (angry/anger,
/// happy/happiness/joy, sad/sadness, surprised/surprise, fearful/fear/afraid, disgusted/disgust,
/// neutral, contempt); `entries` ("MODEL=DATASET", DATASET "-" = leave the model class out)
/// override that. Every dataset class that is not excluded must receive at least one model
/// class: otherwise its samples could never be right, and that is a UsageError naming the
/// class with the two ways out (--class-map MODEL=CLASS, --exclude-class CLASS). Model classes
/// that would go to an excluded class are left out. Unknown names
/// in `entries` or `exclude` are UsageErrors listing the known ones.
ClassMap build_class_map(const std::vector<std::string>& model_classes,
                         const std::vector<std::string>& dataset_classes,
                         const std::vector<std::string>& entries, const std::vector<std::string>& exclude);

/// Reads --class-map values: each is "MODEL=DATASET[,MODEL=DATASET...]" or the path of a JSON
/// file holding {"MODEL": "DATASET" or null, ...}. Returns "MODEL=DATASET" entries (null -> "-").
/// IoError / DataError naming the file when it cannot be read or is not such an object.
std::vector<std::string> read_class_map_entries(const std::vector<std::string>& values);

/// Dataset-class scores of one sample (size dataset_classes), summing mapped probabilities and
/// renormalising them to 1 (all zeros when nothing is mapped, which build_class_map prevents).
std::vector<double> map_probabilities(const ClassMap& map, const std::vector<float>& model_probs);

}  // namespace fer::eval
