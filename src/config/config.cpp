#include "fer/config/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <regex>
#include <string_view>
#include <tuple>
#include <utility>

#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/core/registry.hpp"

namespace fer::config {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxShownChars = 60;  // longer values are cut in error messages
constexpr const char* kLabelMapPtr = "/data/label_map";
constexpr const char* kFallbackPtr = "/model/fallback";

// ---- JSON pointers ---------------------------------------------------------------------

/// RFC 6901 escaping of one reference token.
std::string escape_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string child(const std::string& ptr, const std::string& key) { return ptr + "/" + escape_token(key); }
std::string child(const std::string& ptr, size_t index) { return ptr + "/" + std::to_string(index); }

std::string parent(const std::string& ptr) {
  const size_t slash = ptr.rfind('/');
  return slash == std::string::npos ? std::string() : ptr.substr(0, slash);
}

/// The root pointer is "" in RFC 6901; "/" reads better in a message.
std::string show_ptr(const std::string& ptr) { return ptr.empty() ? "/" : ptr; }

/// A value as it appears in JSON, cut to a readable length (never inside a UTF-8 sequence).
std::string show(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kMaxShownChars) {
    size_t cut = kMaxShownChars - 3;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    s += "...";
  }
  return s;
}

std::string join(const std::vector<std::string>& items, const std::string& sep, bool quote = false) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += quote ? "\"" + items[i] + "\"" : items[i];
  }
  return out;
}

// ---- pointer -> line map ---------------------------------------------------------------

/// Records, for every member and array element of a JSON text that nlohmann already accepted,
/// the line where its key (members) or its value (elements) starts. The root maps to the line
/// of its first character. nlohmann keeps the last of duplicate keys, and so does this map.
class LineScanner {
 public:
  explicit LineScanner(const std::string& text) : s_(text) {}

  std::map<std::string, int> run() {
    if (s_.compare(0, 3, "\xEF\xBB\xBF") == 0) i_ = 3;  // nlohmann skips a UTF-8 BOM too
    skip_ws();
    lines_[""] = line_;
    value("");
    return std::move(lines_);
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }

  void skip_ws() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\n') {
        ++line_;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        break;
      }
      ++i_;
    }
  }

  void value(const std::string& ptr) {
    const char c = peek();
    if (c == '{') {
      ++i_;
      skip_ws();
      if (peek() == '}') {
        ++i_;
        return;
      }
      while (i_ < s_.size()) {
        skip_ws();
        const int key_line = line_;
        const std::string key = string();
        const std::string member = child(ptr, key);
        lines_[member] = key_line;
        skip_ws();
        if (peek() == ':') ++i_;
        skip_ws();
        value(member);
        skip_ws();
        const char sep = peek();
        ++i_;
        if (sep != ',') return;  // '}'
      }
    } else if (c == '[') {
      ++i_;
      skip_ws();
      if (peek() == ']') {
        ++i_;
        return;
      }
      for (size_t index = 0; i_ < s_.size(); ++index) {
        skip_ws();
        const std::string element = child(ptr, index);
        lines_[element] = line_;
        value(element);
        skip_ws();
        const char sep = peek();
        ++i_;
        if (sep != ',') return;  // ']'
      }
    } else if (c == '"') {
      string();
    } else {  // number, true, false, null
      while (i_ < s_.size() && std::string_view(",]} \t\r\n").find(s_[i_]) == std::string_view::npos) ++i_;
    }
  }

  /// Reads a string token and returns it decoded (keys must match nlohmann's decoded keys).
  std::string string() {
    std::string out;
    if (peek() != '"') return out;
    ++i_;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      const char e = peek();
      ++i_;
      switch (e) {
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, code_point()); break;
        default: out += e; break;  // '"', '\\', '/'
      }
    }
    return out;
  }

  unsigned hex4() {
    unsigned v = 0;
    for (int k = 0; k < 4 && i_ < s_.size(); ++k, ++i_) {
      const char h = s_[i_];
      v = v * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h))
                                             ? h - '0'
                                             : std::tolower(static_cast<unsigned char>(h)) - 'a' + 10);
    }
    return v;
  }

  /// After "\u": one code point, joining a UTF-16 surrogate pair.
  unsigned code_point() {
    const unsigned hi = hex4();
    if (hi >= 0xD800 && hi <= 0xDBFF && s_.compare(i_, 2, "\\u") == 0) {
      i_ += 2;
      const unsigned lo = hex4();
      return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    }
    return hi;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  const std::string& s_;
  size_t i_ = 0;
  int line_ = 1;
  std::map<std::string, int> lines_;
};

// ---- where a value came from -----------------------------------------------------------

/// Turns a JSON pointer into "file:line" or "--set a.b=v" and throws ConfigErrors with it.
class Locator {
 public:
  Locator(std::string origin, std::map<std::string, int> lines)
      : origin_(std::move(origin)), lines_(std::move(lines)) {}

  /// Values at `ptr` and below now come from the override `text` ("a.b=v").
  void add_override(const std::string& ptr, const std::string& text) {
    overrides_.emplace_back(ptr, "--set " + text);
  }

  /// The latest override covering `ptr`, else the file line of `ptr` or of its nearest
  /// ancestor present in the file (a missing key reports its parent object's line).
  std::string where(const std::string& ptr) const {
    for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
      const std::string& o = it->first;
      if (ptr == o || (ptr.size() > o.size() && ptr.compare(0, o.size(), o) == 0 && ptr[o.size()] == '/')) {
        return it->second;
      }
    }
    if (lines_.empty()) return origin_;  // no source text (settings assembled in memory)
    return fmt::format("{}:{}", origin_, line(ptr));
  }

  int line(std::string ptr) const {
    for (;;) {
      auto it = lines_.find(ptr);
      if (it != lines_.end()) return it->second;
      if (ptr.empty()) return 1;
      ptr = parent(ptr);
    }
  }

  [[noreturn]] void fail(const std::string& ptr, const std::string& what) const {
    throw ConfigError(fmt::format("{}: {}: {}", where(ptr), show_ptr(ptr), what));
  }

 private:
  std::string origin_;
  std::map<std::string, int> lines_;
  std::vector<std::pair<std::string, std::string>> overrides_;  // pointer, "--set a.b=v"
};

// ---- unknown keys ----------------------------------------------------------------------

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions ("trian" -> "train") cost 1 each.
/// Names other tools use for our keys, so "learning_rate" (or "lerning_rate") suggests "lr".
const std::vector<std::pair<std::string, std::string>>& key_aliases() {
  static const std::vector<std::pair<std::string, std::string>> aliases = {
      {"learning_rate", "lr"},        {"base_lr", "lr"},
      {"num_epochs", "epochs"},       {"max_epochs", "epochs"},
      {"batch", "batch_size"},        {"bs", "batch_size"},
      {"optim", "optimizer"},         {"lr_scheduler", "scheduler"},
      {"lr_schedule", "scheduler"},   {"wd", "weight_decay"},
      {"warmup", "warmup_epochs"},    {"max_grad_norm", "grad_clip"},
      {"clip_grad_norm", "grad_clip"}, {"smoothing", "label_smoothing"},
      {"patience", "plateau_patience"}, {"metric", "select_metric"},
      {"num_workers", "workers"},     {"image_size", "size"},
      {"img_size", "size"},           {"input_size", "size"},
      {"in_channels", "channels"},    {"arch", "name"},
      {"architecture", "name"},       {"backbone", "name"},
      {"random_seed", "seed"},        {"gpu", "device"},
      {"num_threads", "threads"},     {"tta", "ten_crop"},
      {"horizontal_flip", "hflip"},   {"vertical_flip", "vflip"},
      {"rotate", "rotation"},         {"scale", "zoom"},
      {"noise", "gaussian_noise"},    {"num_folds", "folds"},
      {"test_fold", "fold"},          {"dataset", "format"},
      {"root", "path"},               {"file", "path"},
      {"class_names", "classes"},     {"labels", "classes"},
  };
  return aliases;
}

/// The candidate closest to `word` by edit distance (case-insensitive), or "" when none is close.
std::string suggest(const std::string& word, const std::vector<std::string>& candidates, bool use_aliases) {
  std::vector<std::pair<std::string, std::string>> spellings;  // spelling, candidate
  for (const auto& c : candidates) spellings.emplace_back(c, c);
  if (use_aliases) {
    for (const auto& [alias, key] : key_aliases()) {
      if (std::find(candidates.begin(), candidates.end(), key) != candidates.end()) {
        spellings.emplace_back(alias, key);
      }
    }
  }
  return closest_spelling(word, spellings);
}

std::string unknown_key_message(const std::string& key, const std::vector<std::string>& known) {
  std::string msg = "unknown key";
  const std::string hint = suggest(key, known, /*use_aliases=*/true);
  if (!hint.empty()) msg += fmt::format(" (did you mean \"{}\"?)", hint);
  return msg + "; known keys: " + join(known, ", ");
}

// ---- typed values ----------------------------------------------------------------------

/// An interval of allowed numbers, described in messages ("> 0", "in [0, 1)").
struct Bounds {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;

  static Bounds any() { return {}; }
  static Bounds at_least(double lo) { return {lo, std::numeric_limits<double>::infinity(), false, false}; }
  static Bounds above(double lo) { return {lo, std::numeric_limits<double>::infinity(), true, false}; }
  static Bounds closed(double lo, double hi) { return {lo, hi, false, false}; }
  static Bounds closed_open(double lo, double hi) { return {lo, hi, false, true}; }
  static Bounds open_closed(double lo, double hi) { return {lo, hi, true, false}; }
  static Bounds open(double lo, double hi) { return {lo, hi, true, true}; }

  bool contains(double x) const {
    return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
  }

  /// "a number > 0", "an integer in [8, 1024]".
  std::string describe(const std::string& kind) const {
    const bool has_lo = std::isfinite(lo);
    const bool has_hi = std::isfinite(hi);
    if (has_lo && has_hi) {
      return fmt::format("{} in {}{}, {}{}", kind, lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
    }
    if (has_lo) return fmt::format("{} {} {}", kind, lo_open ? ">" : ">=", lo);
    if (has_hi) return fmt::format("{} {} {}", kind, hi_open ? "<" : "<=", hi);
    return kind;
  }
};

double as_number(const Locator& loc, const std::string& ptr, const json& v, const Bounds& b,
                 const std::string& note = "") {
  if (!v.is_number() || !std::isfinite(v.get<double>()) || !b.contains(v.get<double>())) {
    loc.fail(ptr, fmt::format("expected {}{}, got {}", b.describe("a number"), note, show(v)));
  }
  return v.get<double>();
}

/// Integers only: 1.5 and 3.0 are both rejected (a float where an int belongs is a mistake).
int as_int(const Locator& loc, const std::string& ptr, const json& v, const Bounds& b,
           const std::string& note = "") {
  bool ok = v.is_number_integer();
  int64_t x = 0;
  if (ok && v.is_number_unsigned()) {
    ok = v.get<uint64_t>() <= static_cast<uint64_t>(INT_MAX);
    if (ok) x = static_cast<int64_t>(v.get<uint64_t>());
  } else if (ok) {
    x = v.get<int64_t>();
    ok = x >= INT_MIN && x <= INT_MAX;
  }
  if (!ok || !b.contains(static_cast<double>(x))) {
    loc.fail(ptr, fmt::format("expected {}{}, got {}", b.describe("an integer"), note, show(v)));
  }
  return static_cast<int>(x);
}

std::string as_string(const Locator& loc, const std::string& ptr, const json& v, bool non_empty) {
  if (!v.is_string() || (non_empty && v.get_ref<const std::string&>().empty())) {
    loc.fail(ptr, fmt::format("expected {}, got {}", non_empty ? "a non-empty string" : "a string", show(v)));
  }
  return v.get<std::string>();
}

const json& empty_object() {
  static const json empty = json::object();
  return empty;
}

/// Reads the members of one JSON object into typed fields. Absent keys keep the field's
/// default. Every key read is "known"; finish() rejects the others.
class ObjectReader {
 public:
  ObjectReader(const Locator& loc, const json& j, std::string ptr)
      : loc_(loc), j_(j), ptr_(std::move(ptr)) {
    if (!j_.is_object()) loc_.fail(ptr_, "expected an object, got " + show(j_));
  }

  const Locator& loc() const { return loc_; }
  std::string at(const std::string& key) const { return child(ptr_, key); }

  /// The member `key`, or nullptr when absent; either way `key` becomes known.
  const json* get(const std::string& key) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  /// Like get(), but a missing key is an error reported at the parent object's line.
  const json& require(const std::string& key, const std::string& why = "") {
    const json* v = get(key);
    if (v == nullptr) loc_.fail(at(key), "required key missing" + why);
    return *v;
  }

  void read_int(const std::string& key, int& out, const Bounds& b = Bounds::any()) {
    if (const json* v = get(key)) out = as_int(loc_, at(key), *v, b);
  }

  void read_number(const std::string& key, double& out, const Bounds& b = Bounds::any()) {
    if (const json* v = get(key)) out = as_number(loc_, at(key), *v, b);
  }

  void read_bool(const std::string& key, bool& out) {
    const json* v = get(key);
    if (v == nullptr) return;
    if (!v->is_boolean()) loc_.fail(at(key), "expected true or false, got " + show(*v));
    out = v->get<bool>();
  }

  void read_uint64(const std::string& key, uint64_t& out) {
    const json* v = get(key);
    if (v == nullptr) return;
    if (!v->is_number_unsigned()) {
      loc_.fail(at(key), "expected a non-negative integer, got " + show(*v));
    }
    out = v->get<uint64_t>();
  }

  void read_string(const std::string& key, std::string& out, bool non_empty = false) {
    if (const json* v = get(key)) out = as_string(loc_, at(key), *v, non_empty);
  }

  void read_enum(const std::string& key, std::string& out, const std::vector<std::string>& allowed) {
    const json* v = get(key);
    if (v == nullptr) return;
    if (!v->is_string()) {
      loc_.fail(at(key), fmt::format("expected one of {}, got {}", join(allowed, ", ", true), show(*v)));
    }
    const auto& s = v->get_ref<const std::string&>();
    // The registries' message (core/registry.hpp), so a config and a registry read alike.
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) loc_.fail(at(key), not_one_of(s, allowed));
    out = v->get<std::string>();
  }

  void read_numbers(const std::string& key, std::vector<double>& out, const Bounds& b = Bounds::any()) {
    const json* v = get(key);
    if (v == nullptr) return;
    if (!v->is_array()) loc_.fail(at(key), fmt::format("expected an array of {}, got {}", b.describe("numbers"), show(*v)));
    out.clear();
    for (size_t i = 0; i < v->size(); ++i) out.push_back(as_number(loc_, child(at(key), i), (*v)[i], b));
  }

  void read_ints(const std::string& key, std::vector<int>& out, const Bounds& b = Bounds::any()) {
    const json* v = get(key);
    if (v == nullptr) return;
    if (!v->is_array()) loc_.fail(at(key), fmt::format("expected an array of {}, got {}", b.describe("integers"), show(*v)));
    out.clear();
    for (size_t i = 0; i < v->size(); ++i) out.push_back(as_int(loc_, child(at(key), i), (*v)[i], b));
  }

  /// The nested object `key` (an empty one when absent, so its fields keep their defaults).
  ObjectReader object(const std::string& key) {
    const json* v = get(key);
    return ObjectReader(loc_, v != nullptr ? *v : empty_object(), at(key));
  }

  /// Rejects keys nobody read; when several, the one written first is reported.
  void finish() const {
    const std::string* first = nullptr;
    int first_line = INT_MAX;
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (std::find(known_.begin(), known_.end(), it.key()) != known_.end()) continue;
      const int line = loc_.line(at(it.key()));
      if (first == nullptr || line < first_line) {
        first = &it.key();
        first_line = line;
      }
    }
    if (first != nullptr) loc_.fail(at(*first), unknown_key_message(*first, known_));
  }

 private:
  const Locator& loc_;
  const json& j_;
  std::string ptr_;
  std::vector<std::string> known_;
};

// ---- the schema ------------------------------------------------------------------------

const std::vector<std::string> kSchemes = {"ratio", "predefined", "ck_plus_folds", "stratified_kfold"};
const std::vector<std::string> kNormalize = {"dataset", "imagenet", "minmax", "none", "custom"};
const std::vector<std::string> kStems = {"auto", "3x3", "7x7"};
const std::vector<std::string> kInits = {"model", "pytorch"};
const std::vector<std::string> kPools = {"global", "avg4"};
const std::vector<std::string> kDetectors = {"hog", "haar", "mmod", "none"};
const std::vector<std::string> kAlign = {"eyes", "box"};
const std::vector<std::string> kPairedFormats = {"paired_folder", "viri", "nvie"};
const std::vector<std::string> kLayouts = {"auto", "modality_first", "class_first"};
const std::vector<std::string> kUnpaired = {"error", "drop"};
const std::vector<std::string> kHeads = {"linear", "visible", "infrared", "fused"};
const std::vector<std::string> kFusionFeatures = {"concat", "interleave"};
const std::vector<std::string> kLateCombine = {"mean", "learned"};


// Formats whose samples have no file names (data.subject_pattern cannot apply).
const std::vector<std::string> kFilelessFormats = {"fer2013_csv", "fer2013_h5", "ck_plus_h5"};

// data.subject_pattern presets: name -> regex on the file name, group 1 = subject.
const std::vector<std::pair<std::string, std::string>> kSubjectPresets = {
    {"ck_plus", R"(^(S\d+)_\d+_\d+)"},                          // S010_004_00000017.png -> S010
    {"jaffe", R"(^([A-Za-z]{2})\.[A-Za-z]{2}\d*\.\d+)"},  // KA.AN1.39.tiff -> KA
};

void check_regex(const Locator& loc, const std::string& ptr, const std::string& pattern) {
  unsigned groups = 0;
  try {
    groups = std::regex(pattern).mark_count();
  } catch (const std::regex_error& e) {
    loc.fail(ptr, fmt::format("expected a regular expression, got \"{}\" ({})", pattern, e.what()));
  }
  if (groups < 1) {
    loc.fail(ptr, fmt::format("expected a regular expression with a capture group (...), got \"{}\"", pattern));
  }
}

void read_paired(ObjectReader r, PairedConfig& p) {
  const Locator& loc = r.loc();
  if (const json* v = r.get("modalities")) {
    const std::string ptr = r.at("modalities");
    if (!v->is_array() || v->size() != 2) loc.fail(ptr, "expected two modality folder names, got " + show(*v));
    p.modalities.clear();
    for (size_t i = 0; i < v->size(); ++i) p.modalities.push_back(as_string(loc, child(ptr, i), (*v)[i], true));
    if (p.modalities[0] == p.modalities[1]) loc.fail(ptr, "expected two different folder names, got " + show(*v));
  }
  if (const json* v = r.get("channels")) {
    const std::string ptr = r.at("channels");
    if (!v->is_array() || v->size() != p.modalities.size()) {
      loc.fail(ptr, fmt::format("expected {} channel counts (1 or 3, one per modality), got {}", p.modalities.size(), show(*v)));
    }
    p.channels.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      const json& c = (*v)[i];
      if (!c.is_number_integer() || (c.get<int>() != 1 && c.get<int>() != 3)) loc.fail(child(ptr, i), "expected 1 or 3, got " + show(c));
      p.channels.push_back(c.get<int>());
    }
  }
  r.read_enum("layout", p.layout, kLayouts);
  if (const json* v = r.get("stem_patterns")) {
    const std::string ptr = r.at("stem_patterns");
    if (!v->is_array() || (!v->empty() && v->size() != p.modalities.size())) {
      loc.fail(ptr, fmt::format("expected [] or {} regular expressions (one per modality), got {}", p.modalities.size(), show(*v)));
    }
    p.stem_patterns.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      p.stem_patterns.push_back(as_string(loc, child(ptr, i), (*v)[i], true));
      check_regex(loc, child(ptr, i), p.stem_patterns.back());
    }
  }
  r.read_enum("unpaired", p.unpaired, kUnpaired);
  r.read_string("use", p.use, /*non_empty=*/true);
  if (p.use != "all" && std::find(p.modalities.begin(), p.modalities.end(), p.use) == p.modalities.end()) {
    loc.fail(r.at("use"), fmt::format("expected \"all\" or one of the modalities {}, got \"{}\"", join(p.modalities, ", ", true), p.use));
  }
  r.finish();
}
const std::vector<std::string> kOptimizers = {"sgd", "adam", "adamw"};
const std::vector<std::string> kClassWeights = {"none", "balanced", "custom"};
const std::vector<std::string> kPrecisions = {"fp32", "bf16", "fp16"};
const std::vector<std::string> kSelectMetrics = {"accuracy", "macro_f1", "loss"};
const std::vector<std::string> kSelectTiebreaks = {"first", "loss"};

bool valid_device(const std::string& d) {
  if (d == "auto" || d == "cpu" || d == "cuda") return true;
  if (d.size() <= 5 || d.compare(0, 5, "cuda:") != 0) return false;
  return std::all_of(d.begin() + 5, d.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool valid_run_name(const std::string& n) {
  if (n.empty() || n == "." || n == "..") return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

void read_split(ObjectReader r, SplitConfig& s) {
  const Locator& loc = r.loc();
  r.read_enum("scheme", s.scheme, kSchemes);
  if (const json* v = r.get("ratios")) {
    const std::string ptr = r.at("ratios");
    if (!v->is_array() || v->size() != 3) {
      loc.fail(ptr, "expected 3 numbers >= 0 (train, val, test fractions), got " + show(*v));
    }
    s.ratios.clear();
    for (size_t i = 0; i < 3; ++i) s.ratios.push_back(as_number(loc, child(ptr, i), (*v)[i], Bounds::at_least(0)));
    if (s.ratios[0] <= 0) loc.fail(child(ptr, 0), "expected a train fraction > 0, got " + show((*v)[0]));
    if (s.ratios[2] <= 0) loc.fail(child(ptr, 2), "expected a test fraction > 0, got " + show((*v)[2]));
    const double sum = s.ratios[0] + s.ratios[1] + s.ratios[2];
    if (std::abs(sum - 1.0) > 1e-6) {
      loc.fail(ptr, fmt::format("expected fractions summing to 1, got {} (sum {})", show(*v), sum));
    }
  }
  r.read_bool("stratified", s.stratified);
  r.read_enum("order", s.order, {"random", "file"});
  r.read_string("train", s.train, /*non_empty=*/true);
  r.read_string("val", s.val);  // "" = carve val from train
  r.read_string("test", s.test);  // "" = no test split in this data (FER2013 without PrivateTest: scored with fer eval --data)
  r.read_int("folds", s.folds, Bounds::at_least(2));
  if (const json* v = r.get("fold")) {  // the default fold 1 is always <= folds
    s.fold = as_int(loc, r.at("fold"), *v, Bounds::closed(1, s.folds), " (1 <= fold <= folds)");
  }
  r.read_ints("ck_fold_sizes", s.ck_fold_sizes, Bounds::above(0));
  if (s.ck_fold_sizes.empty()) loc.fail(r.at("ck_fold_sizes"), "expected one block size per class, got []");
  r.read_number("val_fraction", s.val_fraction, Bounds::closed(0, 0.9));
  r.read_bool("select_on_test", s.select_on_test);
  r.finish();
}

void read_data(ObjectReader r, DataConfig& d) {
  const Locator& loc = r.loc();
  r.read_enum("format", d.format, dataset_format_names());  // the registry's names (a test ties them)
  d.path = as_string(loc, r.at("path"), r.require("path", " (the dataset file or folder)"), /*non_empty=*/true);
  if (const json* v = r.get("classes")) {
    const std::string ptr = r.at("classes");
    if (!v->is_array()) loc.fail(ptr, "expected an array of class names, got " + show(*v));
    d.classes.clear();
    d.classes_at.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      std::string name = as_string(loc, child(ptr, i), (*v)[i], /*non_empty=*/true);
      if (std::find(d.classes.begin(), d.classes.end(), name) != d.classes.end()) {
        loc.fail(child(ptr, i), fmt::format("expected distinct class names, got \"{}\" twice", name));
      }
      d.classes.push_back(std::move(name));
      d.classes_at.push_back(loc.where(child(ptr, i)) + ": " + child(ptr, i));
    }
  }
  if (const json* v = r.get("label_map")) {
    const std::string ptr = r.at("label_map");
    if (!v->is_object()) loc.fail(ptr, "expected an object of source class -> new class names, got " + show(*v));
    d.label_map.clear();
    d.label_map_at.clear();
    for (auto it = v->begin(); it != v->end(); ++it) {
      d.label_map[it.key()] = as_string(loc, child(ptr, it.key()), it.value(), /*non_empty=*/true);
      d.label_map_at[it.key()] = loc.where(child(ptr, it.key())) + ": " + child(ptr, it.key());
    }
  }
  read_split(r.object("split"), d.split);
  read_paired(r.object("paired"), d.paired);
  r.read_string("subject_pattern", d.subject_pattern);
  if (!d.subject_pattern.empty()) {
    const std::string regex = subject_regex(d.subject_pattern);
    unsigned groups = 0;
    std::string why;
    try {
      groups = std::regex(regex).mark_count();
    } catch (const std::regex_error& e) {
      why = fmt::format(" ({})", e.what());
    }
    if (groups < 1) {
      loc.fail(r.at("subject_pattern"),
               fmt::format("expected a preset ({}) or a regular expression with a capture group (...) for the subject, "
                           "got \"{}\"{}",
                           join(subject_pattern_presets(), ", ", true), d.subject_pattern, why));
    }
    if (std::find(kFilelessFormats.begin(), kFilelessFormats.end(), d.format) != kFilelessFormats.end()) {
      loc.fail(r.at("subject_pattern"),
               fmt::format("format \"{}\" has no file names to read subjects from; subject_pattern needs image_folder "
                           "or a paired format, got \"{}\"",
                           d.format, d.subject_pattern));
    }
  }
  r.read_int("workers", d.workers, Bounds::closed(0, 256));  // decoding threads; more only waste memory
  r.read_int("prefetch", d.prefetch, Bounds::at_least(1));
  r.finish();
}

/// Channels the model sees for a paired dataset: the modalities stacked, or the one in use.
int paired_channels(const DataConfig& d) {
  if (d.paired.use == "all") return std::accumulate(d.paired.channels.begin(), d.paired.channels.end(), 0);
  const auto it = std::find(d.paired.modalities.begin(), d.paired.modalities.end(), d.paired.use);
  return d.paired.channels[static_cast<size_t>(it - d.paired.modalities.begin())];
}

void read_preprocess(ObjectReader r, PreprocessConfig& p, const DataConfig& d) {
  const Locator& loc = r.loc();
  r.read_int("size", p.size, Bounds::closed(8, 1024));
  if (is_paired_format(d.format)) p.channels = paired_channels(d);  // implied by data.paired
  if (const json* v = r.get("channels")) {
    if (is_paired_format(d.format)) {
      if (!v->is_number_integer() || v->get<int64_t>() != p.channels) {
        loc.fail(r.at("channels"), fmt::format("expected {} (data.paired.channels {} with use \"{}\"), got {}",
                                               p.channels, show(json(d.paired.channels)), d.paired.use, show(*v)));
      }
    } else if (!v->is_number_integer() || (v->get<int64_t>() != 1 && v->get<int64_t>() != 3)) {
      loc.fail(r.at("channels"), "expected 1 or 3, got " + show(*v));
    }
    p.channels = v->get<int>();
  }
  r.read_enum("normalize", p.normalize, kNormalize);
  if (p.normalize == "imagenet" && p.channels != 3) {
    loc.fail(r.at("normalize"), fmt::format("expected channels 3 for \"imagenet\" (RGB statistics), got channels {}",
                                            p.channels));
  }
  const std::string why = " (normalize \"custom\" needs mean and std)";
  for (const char* key : {"mean", "std"}) {
    std::vector<double>& values = std::string(key) == "mean" ? p.mean : p.std;
    const Bounds b = std::string(key) == "mean" ? Bounds::any() : Bounds::above(0);
    if (p.normalize == "custom") r.require(key, why);
    r.read_numbers(key, values, b);
    if ((p.normalize == "custom" || !values.empty()) && values.size() != static_cast<size_t>(p.channels)) {
      loc.fail(r.at(key), fmt::format("expected {} numbers (one per channel), got {}", p.channels,
                                      show(*r.get(key))));
    }
  }
  r.finish();
}

void read_face(ObjectReader r, FaceConfig& f) {
  const Locator& loc = r.loc();
  r.read_enum("detector", f.detector, kDetectors);
  r.read_string("mmod_model", f.mmod_model);
  if (f.detector == "mmod" && f.mmod_model.empty()) {
    loc.fail(r.at("mmod_model"), "expected the path of dlib's mmod_human_face_detector.dat (detector \"mmod\"), got \"\"");
  }
  r.read_string("haar_cascade", f.haar_cascade, /*non_empty=*/true);
  r.read_string("landmark_model", f.landmark_model, /*non_empty=*/true);
  r.read_int("upsample", f.upsample, Bounds::closed(0, 3));
  r.read_number("min_confidence", f.min_confidence);
  r.read_int("min_face", f.min_face, Bounds::at_least(0));
  r.read_int("detect_max_side", f.detect_max_side, Bounds::at_least(0));
  if (f.detect_max_side > 0 && f.detect_max_side < 64) {
    loc.fail(r.at("detect_max_side"), fmt::format("expected 0 (the full image) or at least 64 pixels, got {}",
                                                  f.detect_max_side));
  }
  r.read_enum("align", f.align, kAlign);
  r.read_int("size", f.size, Bounds::closed(0, 1024));
  if (f.size > 0 && f.size < 8) loc.fail(r.at("size"), fmt::format("expected 0 or 8..1024, got {}", f.size));
  r.read_number("eye_x", f.eye_x, Bounds::open(0, 0.5));
  r.read_number("eye_y", f.eye_y, Bounds::open(0, 1));
  r.read_number("box_padding", f.box_padding, Bounds::closed(0, 1));
  r.finish();
}

void read_augment(ObjectReader r, AugmentConfig& a, int size) {
  r.read_int("crop", a.crop, Bounds::closed(0, size));
  r.read_number("hflip", a.hflip, Bounds::closed(0, 1));
  r.read_number("vflip", a.vflip, Bounds::closed(0, 1));
  r.read_number("rotation", a.rotation, Bounds::closed(0, 180));
  r.read_number("zoom", a.zoom, Bounds::closed(0, 0.9));
  r.read_number("shear", a.shear, Bounds::closed(0, 60));
  r.read_number("translate", a.translate, Bounds::closed(0, 0.5));
  r.read_number("perspective", a.perspective, Bounds::closed(0, 0.5));
  r.read_number("brightness", a.brightness, Bounds::closed(0, 1));
  r.read_number("contrast", a.contrast, Bounds::closed(0, 1));
  r.read_number("gaussian_noise", a.gaussian_noise, Bounds::closed(0, 255));
  r.read_number("salt_pepper", a.salt_pepper, Bounds::closed(0, 0.5));
  r.finish();
}

const std::vector<std::string> kStreamModels = {"fusion_feature", "fusion_late"};

/// model.init_streams: [] or one checkpoint / run directory per stream ("" = random).
void read_init_streams(ObjectReader& r, ModelConfig& m) {
  const json* v = r.get("init_streams");
  if (v == nullptr) return;
  const Locator& loc = r.loc();
  const std::string ptr = r.at("init_streams");
  if (!v->is_array() || (!v->empty() && v->size() != 2)) {
    loc.fail(ptr, "expected [] or 2 checkpoints or run directories (one per stream, in data.paired.modalities "
                  "order; \"\" = random), got " + show(*v));
  }
  m.init_streams.clear();
  for (size_t i = 0; i < v->size(); ++i) m.init_streams.push_back(as_string(loc, child(ptr, i), (*v)[i], false));
  if (!m.init_streams.empty() &&
      std::find(kStreamModels.begin(), kStreamModels.end(), m.name) == kStreamModels.end()) {
    loc.fail(ptr, fmt::format("expected [] for model \"{}\" (init_streams initialises the two streams of {}), got {}",
                              m.name, join(kStreamModels, " and ", true), show(*v)));
  }
}

/// model.fallback: modality name -> single-modality run, for fused models only.
void read_fallback(ObjectReader& r, ModelConfig& m, const DataConfig& d) {
  const json* v = r.get("fallback");
  if (v == nullptr) return;
  const Locator& loc = r.loc();
  const std::string ptr = r.at("fallback");
  if (!v->is_object()) {
    loc.fail(ptr, "expected an object of modality name -> run directory or checkpoint, got " + show(*v));
  }
  if (!v->empty() && (!is_paired_format(d.format) || d.paired.use != "all")) {
    loc.fail(ptr, fmt::format("expected {{}}: a fallback is only used by fused models (a paired data.format with "
                              "data.paired.use \"all\"; here format \"{}\", use \"{}\"), got {}",
                              d.format, d.paired.use, show(*v)));
  }
  m.fallback.clear();
  for (auto it = v->begin(); it != v->end(); ++it) {
    const std::string at = child(ptr, it.key());
    if (std::find(d.paired.modalities.begin(), d.paired.modalities.end(), it.key()) == d.paired.modalities.end()) {
      std::string msg = fmt::format("unknown modality \"{}\"; expected one of data.paired.modalities {}", it.key(),
                                    join(d.paired.modalities, ", ", true));
      const std::string hint = suggest(it.key(), d.paired.modalities, /*use_aliases=*/false);
      if (!hint.empty()) msg += fmt::format(" (did you mean \"{}\"?)", hint);
      loc.fail(at, msg);
    }
    m.fallback[it.key()] = as_string(loc, at, it.value(), /*non_empty=*/true);
  }
}

const std::vector<std::string> kVitModels = {"vit", "vit_se"};

/// model.vit_*: the Vision Transformer's shape. Other models only take the defaults.
void read_vit(ObjectReader& r, ModelConfig& m) {
  const Locator& loc = r.loc();
  const ModelConfig defaults;
  const bool vit = std::find(kVitModels.begin(), kVitModels.end(), m.name) != kVitModels.end();
  const std::pair<const char*, int ModelConfig::*> keys[] = {{"vit_patch", &ModelConfig::vit_patch},
                                                             {"vit_dim", &ModelConfig::vit_dim},
                                                             {"vit_depth", &ModelConfig::vit_depth},
                                                             {"vit_heads", &ModelConfig::vit_heads},
                                                             {"vit_mlp_dim", &ModelConfig::vit_mlp_dim}};
  for (const auto& [key, field] : keys) {
    r.read_int(key, m.*field, Bounds::at_least(1));
    if (!vit && m.*field != defaults.*field) {
      loc.fail(r.at(key), fmt::format("expected {} for model \"{}\" (the vit_* keys shape {}), got {}",
                                      defaults.*field, m.name, join(kVitModels, " and ", true), m.*field));
    }
  }
  if (m.vit_dim % m.vit_heads != 0) {  // reported at vit_heads unless only vit_dim was given
    if (r.get("vit_heads") != nullptr || r.get("vit_dim") == nullptr) {
      loc.fail(r.at("vit_heads"), fmt::format("expected an integer >= 1 that divides vit_dim {}, got {}",
                                              m.vit_dim, m.vit_heads));
    }
    loc.fail(r.at("vit_dim"),
             fmt::format("expected a multiple of vit_heads {}, got {}", m.vit_heads, m.vit_dim));
  }
}

/// model.attention, and the older keys se / feature_gate, which must agree with it when both
/// are given.
void read_attention(ObjectReader& r, ModelConfig& m) {
  const Locator& loc = r.loc();
  r.read_bool("se", m.se);
  r.read_bool("feature_gate", m.feature_gate);
  const json* v = r.get("attention");
  if (v == nullptr) return;
  const std::string ptr = r.at("attention");
  const std::string text = as_string(loc, ptr, *v, true);
  std::vector<std::string> allowed;
  for (const char* block : {"", "se", "cbam"}) {
    for (const char* gate : {"", "gate"}) {
      std::string a = std::string(block) + (*block && *gate ? "+" : "") + gate;
      allowed.push_back(a.empty() ? "none" : a);
    }
  }
  if (std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
    std::string msg = fmt::format("expected one of {}, got {}", join(allowed, ", ", true), show(*v));
    const std::string hint = suggest(text, allowed, /*use_aliases=*/false);
    if (!hint.empty()) msg += fmt::format(" (did you mean \"{}\"?)", hint);
    loc.fail(ptr, msg);
  }
  const bool se = text.rfind("se", 0) == 0, cbam = text.rfind("cbam", 0) == 0;
  const bool gate = text.size() >= 4 && text.compare(text.size() - 4, 4, "gate") == 0;
  if (r.get("se") != nullptr && m.se != se) {
    loc.fail(r.at("se"),
             fmt::format("expected {} (or no se key) with attention \"{}\", got {}", se, text, m.se));
  }
  if (r.get("feature_gate") != nullptr && m.feature_gate != gate) {
    loc.fail(r.at("feature_gate"),
             fmt::format("expected {} (or no feature_gate key) with attention \"{}\", got {}", gate, text,
                         m.feature_gate));
  }
  m.se = se;
  m.cbam = cbam;
  m.feature_gate = gate;
}

void read_model(ObjectReader r, ModelConfig& m, const DataConfig& d) {
  // The name is checked against the model registry (models::check_model_name, a layer up), with
  // where it was written.
  r.read_string("name", m.name, /*non_empty=*/true);
  m.name_at = r.loc().where(r.at("name")) + ": " + r.at("name");
  r.read_enum("stem", m.stem, kStems);
  r.read_enum("init", m.init, kInits);
  r.read_enum("pool", m.pool, kPools);
  read_attention(r, m);
  r.read_int("se_reduction", m.se_reduction, Bounds::at_least(1));
  r.read_number("dropout", m.dropout, Bounds::closed_open(0, 1));
  r.read_int("width", m.width, Bounds::closed(1, 1024));
  r.read_enum("head", m.head, kHeads);
  r.read_bool("importance_weighting", m.importance_weighting);
  r.read_string("pretrained", m.pretrained);
  r.read_enum("fusion_features", m.fusion_features, kFusionFeatures);
  r.read_enum("late_combine", m.late_combine, kLateCombine);
  read_vit(r, m);
  read_init_streams(r, m);
  read_fallback(r, m, d);
  r.finish();
}

void read_train(ObjectReader r, TrainConfig& t, const ModelConfig& m) {
  const Locator& loc = r.loc();

  r.read_int("epochs", t.epochs, Bounds::at_least(1));
  r.read_int("batch_size", t.batch_size, Bounds::at_least(1));
  r.read_enum("optimizer", t.optimizer, kOptimizers);
  r.read_number("lr", t.lr, Bounds::above(0));
  r.read_number("momentum", t.momentum, Bounds::closed_open(0, 1));
  r.read_bool("nesterov", t.nesterov);
  r.read_number("weight_decay", t.weight_decay, Bounds::at_least(0));
  r.read_number("beta1", t.beta1, Bounds::closed_open(0, 1));
  r.read_number("beta2", t.beta2, Bounds::closed_open(0, 1));
  r.read_enum("scheduler", t.scheduler, schedule_registry().names());
  if (const json* v = r.get("warmup_epochs")) {  // the default 0 is always below epochs
    t.warmup_epochs = as_int(loc, r.at("warmup_epochs"), *v, Bounds::closed_open(0, t.epochs), " (below epochs)");
  }
  r.read_int("step_size", t.step_size, Bounds::at_least(1));
  // The seed's learning_rate_decay_start. Not bounded by epochs: a smoke run of a recipe config
  // (--set train.epochs=1) simply keeps the full rate.
  r.read_int("decay_start", t.decay_start, Bounds::at_least(0));
  if (t.decay_start > 0 && t.scheduler != "step") {
    loc.fail(r.at("decay_start"),
             fmt::format("expected 0 unless scheduler is \"step\" (the decays it delays are "
                         "the step schedule's), got {} with scheduler \"{}\"",
                         t.decay_start, t.scheduler));
  }

  r.read_number("gamma", t.gamma, Bounds::open_closed(0, 1));
  r.read_int("plateau_patience", t.plateau_patience, Bounds::at_least(0));
  r.read_number("plateau_factor", t.plateau_factor, Bounds::open(0, 1));
  r.read_number("min_lr", t.min_lr, Bounds::at_least(0));
  r.read_number("label_smoothing", t.label_smoothing, Bounds::closed_open(0, 1));

  // class_weights: "none" | "balanced" | an array of weights | "custom" with class_weight_values.
  const json* cw = r.get("class_weights");
  const json* cwv = r.get("class_weight_values");
  const std::string cw_ptr = r.at("class_weights");
  const std::string cwv_ptr = r.at("class_weight_values");
  if (cw != nullptr && cw->is_array()) {
    if (cwv != nullptr) loc.fail(cwv_ptr, "expected no class_weight_values when class_weights is an array, got " + show(*cwv));
    if (cw->empty()) loc.fail(cw_ptr, "expected one weight >= 0 per class, got []");
    t.class_weights = "custom";
    r.read_numbers("class_weights", t.class_weight_values, Bounds::at_least(0));
    t.class_weights_at = loc.where(cw_ptr) + ": " + cw_ptr;
  } else {
    if (cw != nullptr && (!cw->is_string() || std::find(kClassWeights.begin(), kClassWeights.end(),
                                                        cw->get_ref<const std::string&>()) == kClassWeights.end())) {
      loc.fail(cw_ptr, fmt::format("expected one of {} or an array of weights, got {}", join(kClassWeights, ", ", true),
                                   show(*cw)));
    }
    if (cw != nullptr) t.class_weights = cw->get<std::string>();
    if (t.class_weights == "custom") {
      if (cwv == nullptr) loc.fail(cwv_ptr, "required key missing (class_weights \"custom\" needs one weight per class)");
      r.read_numbers("class_weight_values", t.class_weight_values, Bounds::at_least(0));
      if (t.class_weight_values.empty()) loc.fail(cwv_ptr, "expected one weight >= 0 per class, got []");
      t.class_weights_at = loc.where(cwv_ptr) + ": " + cwv_ptr;
    } else if (cwv != nullptr) {
      loc.fail(cwv_ptr, fmt::format("expected no class_weight_values with class_weights \"{}\", got {}", t.class_weights,
                                    show(*cwv)));
    }
  }

  r.read_number("grad_clip", t.grad_clip, Bounds::at_least(0));
  r.read_number("grad_clip_value", t.grad_clip_value, Bounds::at_least(0));
  r.read_enum("select_metric", t.select_metric, kSelectMetrics);
  r.read_enum("select_tiebreak", t.select_tiebreak, kSelectTiebreaks);
  r.read_enum("precision", t.precision, kPrecisions);
  r.read_int("early_stopping", t.early_stopping, Bounds::at_least(0));
  r.read_number("budget_minutes", t.budget_minutes, Bounds::closed(0, 525600));  // up to a year
  // The rank regularisation applies to the importance weights: without them only the defaults
  // (which the written config carries) are accepted, as for the vit_* keys.
  const TrainConfig defaults;
  const std::vector<std::tuple<const char*, double TrainConfig::*, Bounds>> rank_keys = {
      {"rank_margin", &TrainConfig::rank_margin, Bounds::at_least(0)},
      {"rank_high_fraction", &TrainConfig::rank_high_fraction, Bounds::open(0, 1)},
      {"rank_weight", &TrainConfig::rank_weight, Bounds::at_least(0)}};
  for (const auto& [key, field, bounds] : rank_keys) {
    r.read_number(key, t.*field, bounds);
    if (!m.importance_weighting && t.*field != defaults.*field) {
      loc.fail(r.at(key), fmt::format("expected {} while model.importance_weighting is false (the rank "
                                      "regularisation applies to the importance weights), got {}",
                                      defaults.*field, t.*field));
    }
  }
  r.finish();
}

void read_eval(ObjectReader r, EvalConfig& e, int crop) {
  r.read_bool("ten_crop", e.ten_crop);
  if (e.ten_crop && crop <= 0) {
    r.loc().fail(r.at("ten_crop"), "expected false while augment.crop is 0 (ten-crop needs a crop size), got true");
  }
  r.read_bool("flip", e.flip);
  if (e.flip && e.ten_crop) {
    r.loc().fail(r.at("flip"),
                 "expected false while ten_crop is true (the ten crops include the mirror images), got true");
  }
  r.read_int("batch_size", e.batch_size, Bounds::at_least(1));
  r.finish();
}

Config validate(const Locator& loc, const json& doc) {
  Config c;
  ObjectReader r(loc, doc, "");
  if (const json* v = r.get("name")) {
    c.name = as_string(loc, r.at("name"), *v, /*non_empty=*/false);
    if (!valid_run_name(c.name)) {
      loc.fail(r.at("name"), "expected a run name of letters, digits, '.', '_' and '-', got " + show(*v));
    }
  }
  r.read_uint64("seed", c.seed);
  if (const json* v = r.get("device")) {
    c.device = as_string(loc, r.at("device"), *v, /*non_empty=*/false);
    if (!valid_device(c.device)) loc.fail(r.at("device"), "expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\", got " + show(*v));
  }
  r.read_int("threads", c.threads, Bounds::at_least(0));
  r.read_bool("deterministic", c.deterministic);
  read_data(r.object("data"), c.data);
  read_preprocess(r.object("preprocess"), c.preprocess, c.data);
  read_face(r.object("face"), c.face);
  read_augment(r.object("augment"), c.augment, c.preprocess.size);
  read_model(r.object("model"), c.model, c.data);
  read_train(r.object("train"), c.train, c.model);
  read_eval(r.object("eval"), c.eval, c.augment.crop);
  r.finish();
  return c;
}

// ---- writing ---------------------------------------------------------------------------

}  // namespace

std::string attention_name(const ModelConfig& m) {
  std::string block = m.se ? "se" : m.cbam ? "cbam" : "";
  if (m.feature_gate) return block.empty() ? "gate" : block + "+gate";
  return block.empty() ? "none" : block;
}

namespace {

template <class Json>
Json build_face_json(const FaceConfig& f) {
  Json face = Json::object();
  face["detector"] = f.detector;
  face["mmod_model"] = f.mmod_model;
  face["haar_cascade"] = f.haar_cascade;
  face["landmark_model"] = f.landmark_model;
  face["upsample"] = f.upsample;
  face["min_confidence"] = f.min_confidence;
  face["min_face"] = f.min_face;
  face["detect_max_side"] = f.detect_max_side;
  face["align"] = f.align;
  face["size"] = f.size;
  face["eye_x"] = f.eye_x;
  face["eye_y"] = f.eye_y;
  face["box_padding"] = f.box_padding;
  return face;
}

/// Every field, in struct order (ordered_json keeps it; the schema for --set uses that).
template <class Json>
Json build_json(const Config& c) {
  Json j = Json::object();
  j["name"] = c.name;
  j["seed"] = c.seed;
  j["device"] = c.device;
  j["threads"] = c.threads;
  j["deterministic"] = c.deterministic;

  const DataConfig& d = c.data;
  Json data = Json::object();
  data["format"] = d.format;
  data["path"] = d.path;
  data["classes"] = d.classes;
  Json label_map = Json::object();
  for (const auto& [from, to] : d.label_map) label_map[from] = to;
  data["label_map"] = label_map;
  const SplitConfig& s = d.split;
  Json split = Json::object();
  split["scheme"] = s.scheme;
  split["ratios"] = s.ratios;
  split["stratified"] = s.stratified;
  split["train"] = s.train;
  split["val"] = s.val;
  split["test"] = s.test;
  split["folds"] = s.folds;
  split["fold"] = s.fold;
  split["ck_fold_sizes"] = s.ck_fold_sizes;
  split["order"] = s.order;
  split["val_fraction"] = s.val_fraction;
  split["select_on_test"] = s.select_on_test;
  data["split"] = split;
  Json paired = Json::object();
  paired["modalities"] = d.paired.modalities;
  paired["channels"] = d.paired.channels;
  paired["layout"] = d.paired.layout;
  paired["stem_patterns"] = d.paired.stem_patterns;
  paired["unpaired"] = d.paired.unpaired;
  paired["use"] = d.paired.use;
  data["paired"] = paired;
  data["subject_pattern"] = d.subject_pattern;
  data["workers"] = d.workers;
  data["prefetch"] = d.prefetch;
  j["data"] = data;

  const PreprocessConfig& p = c.preprocess;
  Json pre = Json::object();
  pre["size"] = p.size;
  pre["channels"] = p.channels;
  pre["normalize"] = p.normalize;
  pre["mean"] = p.mean;
  pre["std"] = p.std;
  j["preprocess"] = pre;
  j["face"] = build_face_json<Json>(c.face);

  const AugmentConfig& a = c.augment;
  Json aug = Json::object();
  aug["crop"] = a.crop;
  aug["hflip"] = a.hflip;
  aug["vflip"] = a.vflip;
  aug["rotation"] = a.rotation;
  aug["zoom"] = a.zoom;
  aug["shear"] = a.shear;
  aug["translate"] = a.translate;
  aug["perspective"] = a.perspective;
  aug["brightness"] = a.brightness;
  aug["contrast"] = a.contrast;
  aug["gaussian_noise"] = a.gaussian_noise;
  aug["salt_pepper"] = a.salt_pepper;
  j["augment"] = aug;

  const ModelConfig& m = c.model;
  Json model = Json::object();
  model["name"] = m.name;
  model["stem"] = m.stem;
  model["init"] = m.init;
  model["pool"] = m.pool;
  model["attention"] = attention_name(m);
  model["se_reduction"] = m.se_reduction;
  model["dropout"] = m.dropout;
  model["width"] = m.width;
  model["head"] = m.head;
  model["importance_weighting"] = m.importance_weighting;
  model["pretrained"] = m.pretrained;
  model["fusion_features"] = m.fusion_features;
  model["late_combine"] = m.late_combine;
  model["vit_patch"] = m.vit_patch;
  model["vit_dim"] = m.vit_dim;
  model["vit_depth"] = m.vit_depth;
  model["vit_heads"] = m.vit_heads;
  model["vit_mlp_dim"] = m.vit_mlp_dim;
  model["init_streams"] = m.init_streams;
  Json fallback = Json::object();
  for (const auto& [modality, run] : m.fallback) fallback[modality] = run;
  model["fallback"] = fallback;
  j["model"] = model;

  const TrainConfig& t = c.train;
  Json train = Json::object();
  train["epochs"] = t.epochs;
  train["batch_size"] = t.batch_size;
  train["optimizer"] = t.optimizer;
  train["lr"] = t.lr;
  train["momentum"] = t.momentum;
  train["nesterov"] = t.nesterov;
  train["weight_decay"] = t.weight_decay;
  train["beta1"] = t.beta1;
  train["beta2"] = t.beta2;
  train["scheduler"] = t.scheduler;
  train["warmup_epochs"] = t.warmup_epochs;
  train["step_size"] = t.step_size;
  train["decay_start"] = t.decay_start;
  train["gamma"] = t.gamma;
  train["plateau_patience"] = t.plateau_patience;
  train["plateau_factor"] = t.plateau_factor;
  train["min_lr"] = t.min_lr;
  train["label_smoothing"] = t.label_smoothing;
  train["rank_margin"] = t.rank_margin;
  train["rank_high_fraction"] = t.rank_high_fraction;
  train["rank_weight"] = t.rank_weight;
  if (t.class_weights == "custom") {
    train["class_weights"] = t.class_weight_values;
  } else {
    train["class_weights"] = t.class_weights;
  }
  train["grad_clip"] = t.grad_clip;
  train["grad_clip_value"] = t.grad_clip_value;
  train["select_metric"] = t.select_metric;
  train["select_tiebreak"] = t.select_tiebreak;
  train["precision"] = t.precision;
  train["early_stopping"] = t.early_stopping;
  train["budget_minutes"] = t.budget_minutes;
  j["train"] = train;

  Json eval = Json::object();
  eval["ten_crop"] = c.eval.ten_crop;
  eval["flip"] = c.eval.flip;
  eval["batch_size"] = c.eval.batch_size;
  j["eval"] = eval;
  return j;
}

// ---- --set overrides -------------------------------------------------------------------

struct Override {
  std::string text;               // "train.lr=0.01", for messages
  std::vector<std::string> path;  // {"train", "lr"}
  std::string ptr;                // "/train/lr"
  json value;
};

Override parse_override(const std::string& text) {
  const size_t eq = text.find('=');
  FER_CHECK(eq != std::string::npos && eq > 0, ConfigError, "--set {}: expected key=value, e.g. --set train.lr=0.01",
            text);
  Override o;
  o.text = text;
  const std::string key = text.substr(0, eq);
  size_t start = 0;
  for (;;) {
    const size_t dot = key.find('.', start);
    const std::string seg = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    FER_CHECK(!seg.empty(), ConfigError, "--set {}: empty name in the key path \"{}\"", text, key);
    o.path.push_back(seg);
    o.ptr = child(o.ptr, seg);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const std::string raw = text.substr(eq + 1);
  o.value = json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (o.value.is_discarded()) o.value = raw;
  return o;
}

/// Checks that the override names a key of the schema; a scalar given for a string key keeps
/// its text ("--set name=2024" is the name "2024", not the number).
void check_override(Override& o) {
  static const nlohmann::ordered_json schema = build_json<nlohmann::ordered_json>(Config{});
  static const nlohmann::ordered_json string_leaf = "";
  static const nlohmann::ordered_json number_array = nlohmann::ordered_json::array();
  const nlohmann::ordered_json* node = &schema;
  std::string ptr;
  auto fail = [&o](const std::string& at, const std::string& what) {
    throw ConfigError(fmt::format("--set {}: {}: {}", o.text, show_ptr(at), what));
  };
  for (const std::string& seg : o.path) {
    const std::string next = child(ptr, seg);
    if (ptr == kLabelMapPtr || ptr == kFallbackPtr) {
      node = &string_leaf;  // free-form keys: source class names, modality names
    } else if (!node->is_object()) {
      fail(next, fmt::format("unknown key ({} is a value, not an object)", show_ptr(ptr)));
    } else if (ptr == "/train" && seg == "class_weight_values") {
      node = &number_array;
    } else if (node->contains(seg)) {
      node = &node->at(seg);
    } else {
      std::vector<std::string> known;
      for (auto it = node->begin(); it != node->end(); ++it) {
        known.push_back(it.key());
        if (ptr == "/train" && it.key() == "class_weights") known.push_back("class_weight_values");
      }
      fail(next, unknown_key_message(seg, known));
    }
    ptr = next;
  }
  if (node->is_string() && (o.value.is_number() || o.value.is_boolean() || o.value.is_null())) {
    o.value = o.text.substr(o.text.find('=') + 1);
  }
}

/// Writes the override into the document, creating the objects on its path.
void apply_override(json& doc, const Override& o, const Locator& loc) {
  json* node = &doc;
  std::string ptr;
  for (size_t k = 0; k < o.path.size(); ++k) {
    if (!node->is_object()) loc.fail(ptr, "expected an object, got " + show(*node));
    const std::string& seg = o.path[k];
    if (k + 1 == o.path.size()) {
      (*node)[seg] = o.value;
    } else {
      if (!node->contains(seg)) (*node)[seg] = json::object();
      node = &(*node)[seg];
    }
    ptr = child(ptr, seg);
  }
}

/// "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." ->
/// "syntax error ...".
std::string parse_error_detail(const std::string& what) {
  const size_t column = what.find("column ");
  const size_t colon = what.find(": ", column == std::string::npos ? 0 : column);
  if (colon != std::string::npos) return what.substr(colon + 2);
  const size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

namespace {
// nlohmann's parser recurses once per nesting level: a file of 40,000 '[' overflows the stack.
// A config is a few levels deep and a few KB; refuse anything far beyond that before parsing.
constexpr size_t kMaxConfigBytes = 16u << 20;
constexpr int kMaxConfigDepth = 256;

void check_config_shape(const std::string& text, const std::string& origin) {
  FER_CHECK(text.size() <= kMaxConfigBytes, ConfigError, "{}: {} bytes; a config may hold at most {} MiB", origin,
            text.size(), kMaxConfigBytes >> 20);
  int depth = 0;
  size_t line = 1;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (c == '\n') ++line;
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      FER_CHECK(++depth <= kMaxConfigDepth, ConfigError,
                "{}:{}: objects and arrays nested more than {} levels deep; a config needs a few", origin, line,
                kMaxConfigDepth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}
}  // namespace

Config parse_config(const std::string& text, const std::string& origin, const std::vector<std::string>& overrides) {
  check_config_shape(text, origin);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based offset of the last character read (the offending one).
    const size_t pos = std::min(e.byte > 0 ? e.byte - 1 : 0, text.size());
    size_t line = 1;
    size_t line_begin = 0;
    for (size_t k = 0; k < pos; ++k) {
      if (text[k] == '\n') {
        ++line;
        line_begin = k + 1;
      }
    }
    throw ConfigError(fmt::format("{}:{}:{}: invalid JSON: {}", origin, line, pos - line_begin + 1, parse_error_detail(e.what())));
  }
  Locator loc(origin, LineScanner(text).run());
  if (!doc.is_object()) loc.fail("", "expected an object, got " + show(doc));
  for (const std::string& text_override : overrides) {
    Override o = parse_override(text_override);
    check_override(o);
    apply_override(doc, o, loc);
    loc.add_override(o.ptr, o.text);
  }
  return validate(loc, doc);
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_config(read_file(path), path, overrides);
}

nlohmann::json to_json(const Config& cfg) { return build_json<nlohmann::json>(cfg); }

std::string subject_regex(const std::string& subject_pattern) {
  for (const auto& [name, regex] : kSubjectPresets) {
    if (name == subject_pattern) return regex;
  }
  return subject_pattern;
}

std::vector<std::string> subject_pattern_presets() {
  std::vector<std::string> names;
  for (const auto& preset : kSubjectPresets) names.push_back(preset.first);
  return names;
}

const std::vector<std::string>& dataset_format_names() {
  static const std::vector<std::string> names = {"image_folder", "fer2013_csv", "fer2013_h5", "ck_plus_h5",
                                                 "paired_folder", "viri",        "nvie"};
  return names;
}

}  // namespace fer::config

namespace fer::config {

void check_class_weights(const TrainConfig& t, const std::vector<std::string>& class_names) {
  if (t.class_weights != "custom" || t.class_weight_values.size() == class_names.size()) return;
  throw ConfigError(fmt::format("{}: expected one weight per class, got {} weights for {} classes ({})",
                                t.class_weights_at.empty() ? std::string("/train/class_weights") : t.class_weights_at,
                                t.class_weight_values.size(), class_names.size(), join(class_names, ", ", false)));
}

bool is_paired_format(const std::string& f) {
  return std::find(kPairedFormats.begin(), kPairedFormats.end(), f) != kPairedFormats.end();
}

FaceConfig parse_face_config(const nlohmann::json& j, const std::string& origin) {
  Locator loc(origin, {});  // the JSON may come from anywhere: name the origin and the key, not a line
  FaceConfig f;
  read_face(ObjectReader(loc, j, ""), f);
  return f;
}

nlohmann::json face_to_json(const FaceConfig& f) { return build_face_json<nlohmann::json>(f); }

FaceConfig load_face_config(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("{}: not valid JSON ({})", path, e.what()));
  }
  FER_CHECK(j.is_object(), ConfigError, "{}: expected a JSON object with face settings", path);
  if (j.contains("face") && j["face"].is_object()) return parse_face_config(j["face"], path + " /face");
  return parse_face_config(j, path);
}

}  // namespace fer::config
