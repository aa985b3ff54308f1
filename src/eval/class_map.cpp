#include "fer/eval/class_map.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"

namespace fer::eval {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One canonical spelling per expression, so "angry" (FER2013) meets "anger" (CK+).
std::string canonical(const std::string& name) {
  static const std::map<std::string, std::string> synonyms = {{"angry", "anger"},
                                                              {"anger", "anger"},
                                                              {"disgusted", "disgust"},
                                                              {"disgust", "disgust"},
                                                              {"fearful", "fear"},
                                                              {"afraid", "fear"},
                                                              {"fear", "fear"},
                                                              {"happy", "happy"},
                                                              {"happiness", "happy"},
                                                              {"joy", "happy"},
                                                              {"sad", "sad"},
                                                              {"sadness", "sad"},
                                                              {"surprised", "surprise"},
                                                              {"surprise", "surprise"},
                                                              {"neutral", "neutral"},
                                                              {"contempt", "contempt"},
                                                              {"contemptuous", "contempt"}};
  const std::string l = lower(name);
  const auto it = synonyms.find(l);
  return it != synonyms.end() ? it->second : l;
}

int find_exact(const std::vector<std::string>& names, const std::string& name) {
  const auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

}  // namespace

bool ClassMap::identity() const {
  if (model_classes != dataset_classes || !excluded.empty()) return false;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] != static_cast<int>(i)) return false;
  }
  return true;
}

std::vector<std::string> ClassMap::describe() const {
  std::vector<std::string> out, ignored;
  for (size_t m = 0; m < model_classes.size(); ++m) {
    if (target[m] < 0) {
      ignored.push_back(model_classes[m]);
    } else {
      out.push_back(fmt::format("{} -> {}", model_classes[m], dataset_classes[target[m]]));
    }
  }
  if (!ignored.empty()) out.push_back(fmt::format("left out (model classes): {}", fmt::join(ignored, ", ")));
  if (!excluded.empty())
    out.push_back(fmt::format("excluded (dataset classes): {}", fmt::join(excluded, ", ")));
  return out;
}

ClassMap build_class_map(const std::vector<std::string>& model_classes,
                         const std::vector<std::string>& dataset_classes,
                         const std::vector<std::string>& entries, const std::vector<std::string>& exclude) {
  for (const auto& x : exclude) {
    FER_CHECK(find_exact(dataset_classes, x) >= 0, UsageError,
              "--exclude-class {}: not a class of the dataset (its classes: {})", x,
              fmt::join(dataset_classes, ", "));
  }
  // Targets as indices into the dataset's full class list first.
  std::vector<int> target(model_classes.size(), -1);
  for (size_t m = 0; m < model_classes.size(); ++m) {  // by name, through synonyms
    for (size_t d = 0; d < dataset_classes.size(); ++d) {
      if (canonical(model_classes[m]) == canonical(dataset_classes[d])) {
        target[m] = static_cast<int>(d);
        break;
      }
    }
  }
  for (const auto& e : entries) {  // explicit entries win
    const auto eq = e.find('=');
    FER_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < e.size(), UsageError,
              "--class-map {}: expected MODEL_CLASS=DATASET_CLASS (or MODEL_CLASS=- to leave it out)", e);
    const std::string from = e.substr(0, eq), to = e.substr(eq + 1);
    const int m = find_exact(model_classes, from);
    FER_CHECK(m >= 0, UsageError, "--class-map {}: {} is not a class of the model (its classes: {})", e, from,
              fmt::join(model_classes, ", "));
    if (to == "-") {
      target[m] = -1;
      continue;
    }
    const int d = find_exact(dataset_classes, to);
    FER_CHECK(d >= 0, UsageError, "--class-map {}: {} is not a class of the dataset (its classes: {})", e, to,
              fmt::join(dataset_classes, ", "));
    target[m] = d;
  }

  ClassMap map;
  map.model_classes = model_classes;
  map.label_map.assign(dataset_classes.size(), -1);
  for (size_t d = 0; d < dataset_classes.size(); ++d) {
    if (std::find(exclude.begin(), exclude.end(), dataset_classes[d]) != exclude.end()) {
      map.excluded.push_back(dataset_classes[d]);
      continue;
    }
    const bool covered = std::find(target.begin(), target.end(), static_cast<int>(d)) != target.end();
    FER_CHECK(covered, UsageError,
              "dataset class {} receives no class of the model [{}]: map one onto it with --class-map "
              "MODEL_CLASS={}, "
              "or leave its samples out with --exclude-class {}",
              dataset_classes[d], fmt::join(model_classes, ", "), dataset_classes[d], dataset_classes[d]);
    map.label_map[d] = static_cast<int>(map.dataset_classes.size());
    map.dataset_classes.push_back(dataset_classes[d]);
  }
  FER_CHECK(!map.dataset_classes.empty(), UsageError,
            "--exclude-class: every class of the dataset is excluded");
  map.target.assign(model_classes.size(), -1);
  for (size_t m = 0; m < model_classes.size(); ++m) {
    if (target[m] >= 0) map.target[m] = map.label_map[target[m]];  // -1 when its class is excluded
  }
  return map;
}

std::vector<std::string> read_class_map_entries(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    if (v.find('=') == std::string::npos && std::filesystem::exists(v)) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(read_file(v));
      } catch (const nlohmann::json::parse_error& e) {
        throw DataError(fmt::format("{}: not JSON: {}", v, e.what()));
      }
      FER_CHECK(j.is_object(), DataError,
                "{}: expected an object {{\"MODEL_CLASS\": \"DATASET_CLASS\" or null}}", v);
      for (const auto& [k, val] : j.items()) {
        FER_CHECK(val.is_string() || val.is_null(), DataError,
                  "{}: /{}: expected the name of a dataset class or null, got {}", v, k, val.dump());
        out.push_back(k + "=" + (val.is_null() ? std::string("-") : val.get<std::string>()));
      }
      continue;
    }
    FER_CHECK(v.find('=') != std::string::npos, UsageError,
              "--class-map {}: no such file, and not MODEL_CLASS=DATASET_CLASS pairs", v);
    size_t start = 0;
    while (start <= v.size()) {
      const size_t comma = v.find(',', start);
      const std::string part =
          v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

std::vector<double> map_probabilities(const ClassMap& map, const std::vector<float>& model_probs) {
  FER_CHECK(model_probs.size() == map.target.size(), DataError,
            "class map: {} probabilities for {} model classes", model_probs.size(), map.target.size());
  std::vector<double> out(map.dataset_classes.size(), 0.0);
  double sum = 0;
  for (size_t m = 0; m < model_probs.size(); ++m) {
    if (map.target[m] < 0) continue;
    out[map.target[m]] += model_probs[m];
    sum += model_probs[m];
  }
  if (sum > 0) {
    for (double& x : out) x /= sum;
  }
  return out;
}

}  // namespace fer::eval
