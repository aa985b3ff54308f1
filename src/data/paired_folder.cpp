// Paired visible + infrared image folders (formats paired_folder, viri, nvie): two images of
// the same face, one per modality, matched by file stem. Images are decoded later, on demand,
// and stacked along the channel axis by load_image.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <utility>

#include "fer/core/error.hpp"
#include "fer/core/image_limits.hpp"
#include "fer/core/io.hpp"
#include "fer/data/loaders.hpp"

namespace fer::data {
namespace {

namespace fs = std::filesystem;

constexpr size_t kListCap = 10;

bool is_hidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

std::vector<std::string> sorted_entries(const fs::path& dir, bool dirs) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_hidden(name)) continue;
    std::error_code ec2;
    const bool keep =
        dirs ? it->is_directory(ec2) : (it->is_regular_file(ec2) && is_image_file(it->path().string()));
    if (keep) names.push_back(name);
  }
  FER_CHECK(!ec, IoError, "{}: cannot list folder: {}", dir.string(), ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

std::string join(const std::vector<std::string>& v, const std::string& quote = "") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out.append(quote).append(s).append(quote);
  }
  return out.empty() ? "(none)" : out;
}

// The first kListCap items, then "... and N more".
std::string capped(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < kListCap; ++i) out += (out.empty() ? "" : ", ") + v[i];
  if (v.size() > kListCap) out += fmt::format(" ... and {} more", v.size() - kListCap);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// One modality's image files: (class or group, key) -> file path relative to ROOT.
struct ModalityFiles {
  std::map<std::pair<std::string, std::string>, std::string> by_key;
  std::vector<std::string> no_key;  // files whose stem does not match the stem pattern
};

std::vector<std::regex> compile_stem_patterns(const config::PairedConfig& p) {
  std::vector<std::regex> patterns;
  for (const auto& s : p.stem_patterns) {
    try {
      patterns.emplace_back(s);
    } catch (const std::regex_error& e) {
      throw ConfigError(fmt::format("data.paired.stem_patterns: \"{}\" is not a regular expression ({})", s, e.what()));
    }
  }
  return patterns;
}

// Adds the image files of ROOT/rel_dir to `files` under `group`, keyed by their stem or by
// group 1 of `pattern` (nullptr = the whole stem). A key already taken goes to `duplicates`.
void add_keyed_files(const fs::path& root, const fs::path& rel_dir, const std::string& group,
                     const std::regex* pattern, ModalityFiles& files, std::vector<std::string>& duplicates) {
  for (const auto& f : sorted_entries(root / rel_dir, false)) {
    const std::string rel = (rel_dir / f).generic_string();
    std::string key = fs::path(f).stem().string();
    if (pattern != nullptr) {
      std::smatch match;
      if (!std::regex_search(key, match, *pattern) || !match[1].matched || match[1].length() == 0) {
        files.no_key.push_back(rel);
        continue;
      }
      key = match[1].str();
    }
    auto [it, inserted] = files.by_key.emplace(std::make_pair(group, key), rel);
    if (!inserted) duplicates.push_back(fmt::format("{} and {} (key \"{}\")", it->second, rel, key));
  }
}

}  // namespace

void assign_subjects(Dataset& ds, const std::string& pattern) {
  if (pattern.empty()) return;
  const bool has_files = std::any_of(ds.samples.begin(), ds.samples.end(),
                                     [](const Sample& s) { return !s.path.empty() || !s.modality_paths.empty(); });
  FER_CHECK(ds.samples.empty() || has_files, ConfigError,
            "data.subject_pattern \"{}\": format \"{}\" ({}) has no file names to read subjects from; "
            "subject_pattern needs image_folder or a paired format",
            pattern, ds.format, ds.source);
  std::regex re;
  try {
    re = std::regex(config::subject_regex(pattern));
  } catch (const std::regex_error& e) {
    throw ConfigError(fmt::format("data.subject_pattern \"{}\" is not a regular expression ({})", pattern, e.what()));
  }
  FER_CHECK(re.mark_count() >= 1, ConfigError, "data.subject_pattern \"{}\" has no capture group (...)", pattern);
  std::vector<std::string> unmatched;
  size_t matched = 0;
  for (auto& s : ds.samples) {
    std::vector<std::string> files = s.modality_paths;
    if (files.empty() && !s.path.empty()) files.push_back(s.path);
    bool found = false;
    for (const auto& f : files) {
      const std::string name = fs::path(f).filename().string();
      std::smatch m;
      if (std::regex_search(name, m, re) && m[1].matched && m[1].length() > 0) {
        s.subject = m[1].str();
        found = true;
        break;
      }
    }
    if (found)
      ++matched;
    else
      unmatched.push_back(files.empty() ? s.id : fs::path(files[0]).filename().string());
  }
  FER_CHECK(matched > 0, DataError,
            "{}: data.subject_pattern \"{}\" matches no file name (group 1 = subject id); e.g. {}", ds.source, pattern,
            capped(unmatched));
  FER_CHECK(unmatched.empty(), DataError,
            "{}: data.subject_pattern \"{}\" does not match {} of {} file names (group 1 = subject id): {}", ds.source,
            pattern, unmatched.size(), ds.samples.size(), capped(unmatched));
  std::set<std::string> subjects;
  for (const auto& s : ds.samples) subjects.insert(s.subject);
  spdlog::info("{}: {} subjects from data.subject_pattern \"{}\"", ds.source, subjects.size(), pattern);
}

Dataset load_paired_folder(const config::DataConfig& cfg) {
  const std::string& root = cfg.path;
  const config::PairedConfig& p = cfg.paired;
  const fs::path root_path(root);
  FER_CHECK(fs::exists(root_path), IoError, "{}: folder not found", root);
  FER_CHECK(fs::is_directory(root_path), DataError, "{}: not a folder ({} expects ROOT/<modality>/<class>/<image>)",
            root, cfg.format);
  FER_CHECK(p.modalities.size() == 2, ConfigError, "data.paired.modalities: expected two folder names, got {}",
            p.modalities.size());
  FER_CHECK(p.channels.size() == p.modalities.size(), ConfigError,
            "data.paired.channels: expected {} values, got {}", p.modalities.size(), p.channels.size());
  FER_CHECK(p.stem_patterns.empty() || p.stem_patterns.size() == p.modalities.size(), ConfigError,
            "data.paired.stem_patterns: expected [] or {} patterns, got {}", p.modalities.size(),
            p.stem_patterns.size());
  FER_CHECK(p.use == "all" || has(p.modalities, p.use), ConfigError,
            "data.paired.use: expected \"all\" or one of {}, got \"{}\"", join(p.modalities, "\""), p.use);
  const size_t nm = p.modalities.size();
  const std::string expected = join(p.modalities, "\"");

  // ---- layout ----
  const std::vector<std::string> top = sorted_entries(root_path, true);
  std::string layout = p.layout;
  if (layout == "auto") {
    bool mod_first = false, class_first = false;
    for (const auto& m : p.modalities) mod_first = mod_first || has(top, m);
    if (!mod_first) {
      for (const auto& d : top) {
        const auto sub = sorted_entries(root_path / d, true);
        for (const auto& m : p.modalities) class_first = class_first || has(sub, m);
      }
    }
    FER_CHECK(mod_first || class_first, DataError,
              "{}: cannot detect the paired layout: expected modality folders {} (data.paired.modalities) either as "
              "ROOT/<modality>/<class>/<image> or ROOT/<class>/<modality>/<image>; found folders: {}",
              root, expected, join(top));
    layout = mod_first ? "modality_first" : "class_first";
  }
  FER_CHECK(layout == "modality_first" || layout == "class_first", ConfigError,
            "data.paired.layout: expected auto|modality_first|class_first, got \"{}\"", layout);

  // ---- classes per modality ----
  std::vector<std::vector<std::string>> classes(nm);  // sorted class names each modality has
  if (layout == "modality_first") {
    for (size_t m = 0; m < nm; ++m) {
      FER_CHECK(has(top, p.modalities[m]), DataError,
                "{}: missing modality folder \"{}\" (layout modality_first: ROOT/<modality>/<class>/<image>, "
                "modalities {}); found folders: {}",
                root, p.modalities[m], expected, join(top));
      classes[m] = sorted_entries(root_path / p.modalities[m], true);
      FER_CHECK(!classes[m].empty(), DataError, "{}: modality folder \"{}\" has no class folders", root,
                p.modalities[m]);
    }
  } else {
    FER_CHECK(!top.empty(), DataError, "{}: no class folders (layout class_first: ROOT/<class>/<modality>/<image>)",
              root);
    for (const auto& c : top) {
      const auto sub = sorted_entries(root_path / c, true);
      std::vector<std::string> missing;
      for (size_t m = 0; m < nm; ++m) {
        if (has(sub, p.modalities[m]))
          classes[m].push_back(c);
        else
          missing.push_back(p.modalities[m]);
      }
      FER_CHECK(missing.size() < nm, DataError,
                "{}: class folder \"{}\" has none of the modality folders {} (layout class_first: "
                "ROOT/<class>/<modality>/<image>); found: {}",
                root, c, expected, join(sub));
    }
  }
  for (size_t m = 1; m < nm; ++m) {
    std::vector<std::string> only;
    for (const auto& c : classes[0])
      if (!has(classes[m], c)) only.push_back(fmt::format("\"{}\" only in {}", c, p.modalities[0]));
    for (const auto& c : classes[m])
      if (!has(classes[0], c)) only.push_back(fmt::format("\"{}\" only in {}", c, p.modalities[m]));
    FER_CHECK(only.empty(), DataError,
              "{}: class folders differ between the modalities {} (a missing modality folder?): {}", root, expected,
              capped(only));
  }
  const std::vector<std::string> class_names = classes[0];

  // ---- files and pairing keys ----
  const std::vector<std::regex> patterns = compile_stem_patterns(p);
  std::vector<ModalityFiles> files(nm);
  std::vector<std::string> duplicates;
  for (size_t m = 0; m < nm; ++m) {
    for (const auto& c : class_names) {
      const fs::path rel_dir = layout == "modality_first" ? fs::path(p.modalities[m]) / c : fs::path(c) / p.modalities[m];
      add_keyed_files(root_path, rel_dir, c, patterns.empty() ? nullptr : &patterns[m], files[m], duplicates);
    }
  }
  FER_CHECK(duplicates.empty(), DataError, "{}: {} files share a pairing key with another file of their modality: {}",
            root, duplicates.size(), capped(duplicates));

  // Keys present in one modality only: a class mismatch when the other modality has the key in
  // another class, else unpaired.
  std::vector<std::string> mismatched, unpaired;
  for (size_t m = 0; m < nm; ++m) {
    const size_t o = 1 - m;
    std::map<std::string, std::vector<std::string>> other_by_key;  // key -> files of the other modality
    for (const auto& [ck, rel] : files[o].by_key) other_by_key[ck.second].push_back(rel);
    for (const auto& [ck, rel] : files[m].by_key) {
      if (files[o].by_key.count(ck)) continue;
      const auto it = other_by_key.find(ck.second);
      if (it != other_by_key.end()) {
        if (m == 0)  // report each mismatch once
          mismatched.push_back(fmt::format("{} vs {}", rel, join(it->second)));
      } else {
        unpaired.push_back(rel);
      }
    }
    for (const auto& rel : files[m].no_key) {
      unpaired.push_back(rel + fmt::format(" (stem does not match \"{}\")", p.stem_patterns[m]));
    }
  }
  FER_CHECK(mismatched.empty(), DataError,
            "{}: {} pairs have their images in different classes (same key, different class folders): {}", root,
            mismatched.size(), capped(mismatched));
  if (!unpaired.empty()) {
    FER_CHECK(
        p.unpaired == config::Unpaired::kDrop, DataError,
        "{}: {} files have no partner in the other modality (data.paired.unpaired \"error\"; set \"drop\" to "
        "skip them): {}",
        root, unpaired.size(), capped(unpaired));
    spdlog::warn("{}: dropped {} files without a partner in the other modality: {}", root, unpaired.size(),
                 capped(unpaired));
  }

  // ---- samples: classes sorted, keys sorted ----
  Dataset ds;
  ds.format = cfg.format;
  ds.source = root;
  ds.class_names = class_names;
  const auto use_it = std::find(p.modalities.begin(), p.modalities.end(), p.use);
  const size_t use = static_cast<size_t>(use_it - p.modalities.begin());  // nm for "all"
  std::vector<int64_t> per_class(class_names.size(), 0);
  for (const auto& [ck, rel0] : files[0].by_key) {
    const auto it1 = files[1].by_key.find(ck);
    if (it1 == files[1].by_key.end()) continue;
    const int label = static_cast<int>(std::find(class_names.begin(), class_names.end(), ck.first) -
                                       class_names.begin());
    Sample s;
    s.id = ck.first + "/" + ck.second;
    s.label = label;
    const std::vector<std::string> rels = {rel0, it1->second};
    for (const auto& rel : rels) io::check_image_pixels((root_path / rel).string());  // header only
    if (use < nm) {
      s.path = (root_path / rels[use]).string();
    } else {
      for (size_t m = 0; m < nm; ++m) s.modality_paths.push_back((root_path / rels[m]).string());
      s.modality_channels = p.channels;
      s.path = s.modality_paths[0];
    }
    ++per_class[static_cast<size_t>(label)];
    ds.samples.push_back(std::move(s));
  }
  // std::map orders (class, key) pairs, so samples come class by class in class_names order.
  for (size_t c = 0; c < class_names.size(); ++c) {
    FER_CHECK(per_class[c] > 0, DataError, "{}: class \"{}\" has no paired images", root, class_names[c]);
  }
  assign_subjects(ds, cfg.subject_pattern);
  spdlog::info("{}: {} pairs ({} + {}, layout {}, use {}) in {} classes", root, ds.samples.size(), p.modalities[0],
               p.modalities[1], layout, p.use, class_names.size());
  return ds;
}

std::vector<PairedFiles> pair_folder_files(const std::string& root, const config::PairedConfig& p) {
  const fs::path root_path(root);
  FER_CHECK(fs::is_directory(root_path), IoError, "{}: folder not found", root);
  FER_CHECK(p.modalities.size() == 2, ConfigError, "data.paired.modalities: expected two folder names, got {}",
            p.modalities.size());
  const size_t nm = p.modalities.size();
  const std::vector<std::string> top = sorted_entries(root_path, true);
  bool mod_first = false;
  for (const auto& m : p.modalities) mod_first = mod_first || has(top, m);
  std::string layout = p.layout;
  if (layout == "auto") layout = mod_first ? "modality_first" : "class_first";

  // (group, folder relative to ROOT) of each modality; group "" = files straight in ROOT/<modality>.
  std::vector<std::vector<std::pair<std::string, fs::path>>> dirs(nm);
  size_t found = 0;
  for (size_t m = 0; m < nm; ++m) {
    if (!has(top, p.modalities[m])) continue;
    dirs[m].emplace_back("", fs::path(p.modalities[m]));
    if (layout == "modality_first") {
      for (const auto& g : sorted_entries(root_path / p.modalities[m], true)) {
        dirs[m].emplace_back(g, fs::path(p.modalities[m]) / g);
      }
    }
    found += dirs[m].size();
  }
  if (layout == "class_first") {
    for (const auto& g : top) {
      if (has(p.modalities, g)) continue;
      for (size_t m = 0; m < nm; ++m) {
        std::error_code ec;
        if (!fs::is_directory(root_path / g / p.modalities[m], ec)) continue;
        dirs[m].emplace_back(g, fs::path(g) / p.modalities[m]);
        ++found;
      }
    }
  }
  FER_CHECK(found > 0, DataError,
            "{}: no modality folder {}: expected ROOT/<modality>/[<class>/]<image>{} (data.paired of the model); "
            "found folders: {}",
            root, join(p.modalities, "\""),
            layout == "class_first" ? " or ROOT/<class>/<modality>/<image>" : "", join(top));

  const std::vector<std::regex> patterns = compile_stem_patterns(p);
  std::vector<ModalityFiles> files(nm);
  std::vector<std::string> duplicates;
  for (size_t m = 0; m < nm; ++m) {
    for (const auto& [group, rel_dir] : dirs[m]) {
      add_keyed_files(root_path, rel_dir, group, patterns.empty() ? nullptr : &patterns[m], files[m], duplicates);
    }
  }
  FER_CHECK(duplicates.empty(), DataError,
            "{}: {} files share a pairing key with another file of their modality, so their pairs are ambiguous: {}",
            root, duplicates.size(), capped(duplicates));

  std::map<std::pair<std::string, std::string>, PairedFiles> by_key;  // sorted by group, then key
  for (size_t m = 0; m < nm; ++m) {
    for (const auto& [gk, rel] : files[m].by_key) {
      PairedFiles& e = by_key[gk];
      e.key = gk.first.empty() ? gk.second : gk.first + "/" + gk.second;
      e.paths.resize(nm);
      e.paths[m] = (root_path / rel).string();
    }
  }
  std::vector<PairedFiles> out;
  out.reserve(by_key.size());
  for (auto& [gk, e] : by_key) out.push_back(std::move(e));
  for (size_t m = 0; m < nm; ++m) {
    for (const auto& rel : files[m].no_key) {
      PairedFiles e;
      e.key = rel;
      e.paths.resize(nm);
      e.paths[m] = (root_path / rel).string();
      e.note = fmt::format("its stem does not match data.paired.stem_patterns[{}] \"{}\"", m, p.stem_patterns[m]);
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace fer::data
