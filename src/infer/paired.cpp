// fer infer with a fused visible + infrared model (fusion_early, fusion_feature, fusion_late):
// each sample is one image per modality, given with --pair or found in paired folders, used
// whole (paired datasets are face crops: no detection or alignment). A sample with one modality
// missing goes to the fallback model of the present modality, or fails with a message saying how
// to give one.
#include "fer/infer/paired.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "fer/core/error.hpp"
#include "fer/data/dataset.hpp"
#include "fer/data/loaders.hpp"
#include "fer/infer/predictor.hpp"
#include "fer/infer/output.hpp"

namespace fer::infer {
namespace fs = std::filesystem;

namespace {

constexpr size_t kChunk = 32;  // samples decoded and classified together

/// One sample: a file per modality, in the model's modality order ("" = missing).
struct PairSample {
  std::string source;  ///< the folder it was found in, or "--pair"
  std::string key;     ///< its pairing key in the folder ("" for --pair)
  std::vector<std::string> files;
  std::string note;  ///< why a file cannot have a partner, or ""
};

/// The one modality a sample has when the other is missing, else -1.
int only_modality(const PairSample& s) {
  int present = -1, count = 0;
  for (size_t m = 0; m < s.files.size(); ++m) {
    if (!s.files[m].empty()) {
      present = static_cast<int>(m);
      ++count;
    }
  }
  return count == 1 ? present : -1;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

/// "a" or "an" before `word`.
const char* article(const std::string& word) {
  return !word.empty() && std::string("aeiouAEIOU").find(word[0]) != std::string::npos ? "an" : "a";
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    parts.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

/// "visible 3 + infrared 1"
std::string modality_channels_str(const config::PairedConfig& p) {
  std::vector<std::string> parts;
  for (size_t m = 0; m < p.modalities.size(); ++m)
    parts.push_back(fmt::format("{} {}", p.modalities[m], p.channels[m]));
  return join(parts, " + ");
}

/// Loads the fallback model for modality `m` of `fused` and checks it can stand in for the fused
/// model on that modality alone. `origin` names where it was given ("--fallback visible=runs/v").
std::unique_ptr<infer::Predictor> load_fallback(const std::string& origin, const std::string& run, size_t m,
                                                const infer::Predictor& fused, const std::string& device,
                                                const std::string& precision) {
  const config::PairedConfig& fp = fused.config().data.paired;
  const std::string& modality = fp.modalities[m];
  std::string path;
  std::unique_ptr<infer::Predictor> p;
  try {
    path = infer::resolve_checkpoint(run);
    p = std::make_unique<infer::Predictor>(path, device, precision);
  } catch (const IoError& e) {
    throw IoError(fmt::format("{}: {}", origin, e.what()));
  } catch (const DataError& e) {
    throw DataError(fmt::format("{}: {}", origin, e.what()));
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", origin, e.what()));
  }
  const config::Config& c = p->config();
  FER_CHECK(!is_fused_model(c), UsageError,
            "{}: {} is a fused model ({}); a fallback classifies the {} images alone", origin, path,
            c.model.name, modality);
  FER_CHECK(c.preprocess.channels == fp.channels[m], UsageError,
            "{}: {} takes {} channel(s), but the fused model's {} images have {} (data.paired.channels)",
            origin, path, c.preprocess.channels, modality, fp.channels[m]);
  const bool other_modality =
      config::is_paired_format(c.data.format) && c.data.paired.use != modality &&
      std::find(fp.modalities.begin(), fp.modalities.end(), c.data.paired.use) != fp.modalities.end();
  FER_CHECK(!other_modality, UsageError,
            "{}: {} was trained on the {} images (data.paired.use), not the {} ones", origin, path,
            c.data.paired.use, modality);
  FER_CHECK(p->class_names() == fused.class_names(), UsageError,
            "{}: {} predicts the classes [{}], the fused model [{}]; a fallback must have the same classes "
            "in the same "
            "order",
            origin, path, join(p->class_names(), ", "), join(fused.class_names(), ", "));
  spdlog::info("fallback for samples with only {} {} image: {} ({}, {} channel(s); from {})",
               article(modality), modality, path, c.model.name, c.preprocess.channels, origin);
  return p;
}

/// Results of paired samples: a table on stdout, and/or JSON lines, and/or CSV.
class PairSink : public ResultSink {
 public:
  PairSink(std::vector<std::string> modalities, std::vector<std::string> classes)
      : ResultSink(std::move(classes)), modalities_(std::move(modalities)) {}

  void open_csv(const std::string& path) {
    open_csv_file(path) << "source,key";
    for (const auto& m : modalities_) *csv_ << ',' << csv_field(m);
    *csv_ << ",model,class,prob";
    for (const auto& c : classes_) *csv_ << ',' << csv_field("p_" + c);
    *csv_ << '\n';
  }

  void write(const PairSample& s, const std::string& model, const std::vector<float>& probs) {
    const size_t top = static_cast<size_t>(std::max_element(probs.begin(), probs.end()) - probs.begin());
    if (json_ != nullptr) {
      nlohmann::ordered_json j;
      j["source"] = s.source;
      j["key"] = s.key;
      nlohmann::ordered_json files = nlohmann::ordered_json::object();
      for (size_t m = 0; m < modalities_.size(); ++m) {
        files[modalities_[m]] =
            s.files[m].empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s.files[m]);
      }
      j["files"] = files;
      j["model"] = model;
      j["class"] = classes_[top];
      j["prob"] = probs[top];
      j["probs"] = probs_json(probs);
      *json_ << j.dump() << '\n';
    }
    if (csv_ != nullptr) {
      *csv_ << csv_field(s.source) << ',' << csv_field(s.key);
      for (const auto& f : s.files) *csv_ << ',' << csv_field(f);
      *csv_ << ',' << model << ',' << csv_field(classes_[top]) << ',' << fmt::format("{:.6f}", probs[top]);
      for (float p : probs) *csv_ << ',' << fmt::format("{:.6f}", p);
      *csv_ << '\n';
    }
    if (table_) {
      if (!header_done_) {
        for (const auto& m : modalities_) fmt::print("{:<32} ", m);
        fmt::print("{:<18} {:<10} {:>6}", "model", "class", "prob");
        for (const auto& c : classes_) fmt::print(" {:>8.8}", c);
        fmt::print("\n");
        header_done_ = true;
      }
      for (const auto& f : s.files) {
        fmt::print("{:<32} ", f.empty() ? "-" : f.size() > 32 ? "..." + f.substr(f.size() - 29) : f);
      }
      fmt::print("{:<18} {:<10} {:6.3f}", model, classes_[top], probs[top]);
      for (float p : probs) fmt::print(" {:8.3f}", p);
      fmt::print("\n");
    }
  }

 private:
  std::vector<std::string> modalities_;
};

}  // namespace

bool is_fused_model(const config::Config& cfg) { return !data::modality_channels(cfg.data).empty(); }

std::vector<std::string> infer_paired(infer::Predictor& fused, const PairedInferOptions& o) {
  const config::Config& cfg = fused.config();
  const config::PairedConfig& paired = cfg.data.paired;
  const std::vector<std::string>& mods = paired.modalities;
  const size_t nm = mods.size();
  const std::string order = join(mods, ",");

  // ---- what to classify (usage errors first, before any work) ----
  for (const auto& in : o.folders) {
    FER_CHECK(
        !fs::exists(in) || fs::is_directory(in), UsageError,
        "{}: a fused {} model classifies pairs of images, not single files or videos: give files with --pair "
        "{} (leave one side empty for a missing image), or a folder ROOT/<modality>/[<class>/]<image>",
        in, join(mods, " + "), order);
  }
  std::vector<PairSample> samples;
  for (const auto& pair : o.pairs) {
    std::vector<std::string> files = split_commas(pair);
    FER_CHECK(
        files.size() == nm, UsageError,
        "--pair {}: expected {} files separated by a comma, in the model's modality order: --pair {} (leave "
        "one empty for a missing image, e.g. --pair a.png,)",
        pair, nm, order);
    FER_CHECK(std::any_of(files.begin(), files.end(), [](const std::string& f) { return !f.empty(); }),
              UsageError, "--pair {}: no file given", pair);
    samples.push_back({"--pair", "", std::move(files), ""});
  }
  std::vector<std::string> failures;
  for (const auto& folder : o.folders) {
    if (!fs::exists(folder)) {
      failures.push_back(folder + ": no such file or folder");
      spdlog::error("{}", failures.back());
      continue;
    }
    try {
      const auto found = data::pair_folder_files(folder, paired);
      if (found.empty()) {
        failures.push_back(
            fmt::format("{}: no images in its modality folders ({})", folder, join(mods, ", ")));
        spdlog::error("{}", failures.back());
      }
      size_t complete = 0;
      for (const auto& f : found) {
        complete += only_modality({"", "", f.paths, ""}) < 0 ? 1 : 0;
        samples.push_back({folder, f.key, f.paths, f.note});
      }
      spdlog::info("{}: {} pair(s), {} image(s) without a partner", folder, complete,
                   found.size() - complete);
    } catch (const Error& e) {
      failures.push_back(e.what());
      spdlog::error("{}", failures.back());
    }
  }
  spdlog::info(
      "fused model {} ({} channels): each sample is one face crop per modality, used whole (no face "
      "detection or alignment)",
      cfg.model.name, modality_channels_str(paired));

  // ---- fallbacks: --fallback wins over the run's model.fallback; loaded once, when needed ----
  std::map<std::string, std::pair<std::string, std::string>> given;  // modality -> (origin, run)
  for (const auto& [m, run] : cfg.model.fallback)
    given[m] = {"model.fallback." + m + " (the run's config)", run};
  for (const auto& f : o.fallbacks) {
    const size_t eq = f.find('=');
    FER_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < f.size(), UsageError,
              "--fallback {}: expected MODALITY=RUN_OR_CHECKPOINT, e.g. --fallback {}=runs/{}", f, mods[0],
              mods[0]);
    const std::string m = f.substr(0, eq);
    FER_CHECK(std::find(mods.begin(), mods.end(), m) != mods.end(), UsageError,
              "--fallback {}: unknown modality \"{}\"; the model's modalities are {}", f, m,
              join(mods, ", "));
    given[m] = {"--fallback " + f, f.substr(eq + 1)};
  }
  std::vector<std::unique_ptr<infer::Predictor>> fallbacks(nm);
  for (size_t m = 0; m < nm; ++m) {
    const auto it = given.find(mods[m]);
    const bool needed = std::any_of(samples.begin(), samples.end(), [&](const PairSample& s) {
      return only_modality(s) == static_cast<int>(m);
    });
    if (needed && it != given.end()) {
      fallbacks[m] = load_fallback(it->second.first, it->second.second, m, fused, o.device, o.precision);
    }
  }

  PairSink sink(mods, fused.class_names());
  if (o.to_json) sink.open_json(o.json);
  if (o.to_csv) sink.open_csv(o.csv);
  if (!o.to_json && !o.to_csv) sink.table_on();

  // ---- classify, a chunk at a time, writing results in input order ----
  size_t by_fused = 0;
  std::vector<size_t> by_fallback(nm, 0);
  for (size_t begin = 0; begin < samples.size(); begin += kChunk) {
    const size_t end = std::min(samples.size(), begin + kChunk);
    std::vector<std::vector<cv::Mat>> images(nm + 1);  // [0, nm): a fallback's; nm: the fused model's
    std::vector<std::vector<size_t>> which(nm + 1);
    for (size_t i = begin; i < end; ++i) {
      const PairSample& s = samples[i];
      const int only = only_modality(s);
      if (only >= 0 && !fallbacks[only]) {
        const size_t other = only == 0 ? 1 : 0;
        failures.push_back(
            fmt::format("{}: no {} image paired with it{}; the fused model needs both ({}). Give {} {}-only "
                        "fallback with "
                        "--fallback {}=RUN or model.fallback in the config",
                        s.files[only], mods[other], s.note.empty() ? "" : " (" + s.note + ")",
                        join(mods, " + "), article(mods[only]), mods[only], mods[only]));
        spdlog::error("{}", failures.back());
        continue;
      }
      const size_t target = only >= 0 ? static_cast<size_t>(only) : nm;
      data::Sample sample;
      sample.id = join(s.files, " + ");
      if (only >= 0) {
        sample.path = s.files[only];
      } else {
        sample.modality_paths = s.files;
        sample.modality_channels = paired.channels;
      }
      try {
        const int channels =
            only >= 0 ? fallbacks[only]->config().preprocess.channels : cfg.preprocess.channels;
        images[target].push_back(data::load_image(sample, channels));
        which[target].push_back(i);
      } catch (const Error& e) {
        failures.push_back(e.what());
        spdlog::error("{}", failures.back());
      } catch (const cv::Exception& e) {
        failures.push_back(sample.id + ": OpenCV: " + e.what());
        spdlog::error("{}", failures.back());
      }
    }
    std::map<size_t, std::pair<std::string, std::vector<float>>> results;  // sample -> (model, probs)
    for (size_t t = 0; t <= nm; ++t) {
      if (images[t].empty()) continue;
      infer::Predictor& model = t == nm ? fused : *fallbacks[t];
      const auto probs = model.predict(images[t], o.tta);
      for (size_t k = 0; k < probs.size(); ++k) {
        results[which[t][k]] = {t == nm ? "fused" : "fallback:" + mods[t], probs[k]};
      }
      (t == nm ? by_fused : by_fallback[t]) += probs.size();
    }
    for (const auto& [i, r] : results) sink.write(samples[i], r.first, r.second);
  }
  sink.finish();

  std::vector<std::string> fallback_counts;
  for (size_t m = 0; m < nm; ++m) {
    if (fallbacks[m])
      fallback_counts.push_back(fmt::format("{} by the {} fallback", by_fallback[m], mods[m]));
  }
  spdlog::info("{} sample(s): {} classified by the fused model{}{}, {} failure(s)", samples.size(), by_fused,
               fallback_counts.empty() ? "" : ", ", join(fallback_counts, ", "), failures.size());
  for (const auto& f : failures) spdlog::error("failed: {}", f);
  return failures;
}

}  // namespace fer::infer
