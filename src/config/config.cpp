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
//
// Every config field is declared once, in the *_fields functions below: its key, its allowed
// values, its one-line description and whether a resumed run may change it. The struct in
// config.hpp gives its type and default. Four visitors walk the same declarations: Reader (the
// validator: parse_config), Writer (to_json and the --set schema), DocWriter (field_docs, the
// docs/config_reference.md table) and the runtime / resume flags (may_change_on_resume). Checks
// that tie a field to others are v.check(...) steps between the declarations, run by the Reader
// only, in declaration order.

/// One field's declaration.
struct F {
  F(const char* key, const char* doc) : key(key), doc(doc) {}
  F& in(const Bounds& b) {
    bounds = b;
    return *this;
  }
  F& non_empty() {
    nonempty = true;
    return *this;
  }
  /// What the docs table says the values are, where the bounds depend on other fields.
  F& values(const char* text) {
    type = text;
    return *this;
  }
  /// How the run executes, not what it computes (threads, device, data workers): may change on
  /// resume and between the folds of a k-fold experiment.
  F& runtime() {
    is_runtime = true;
    return *this;
  }
  /// May change when a run resumes (more epochs, another early-stopping patience).
  F& extendable() {
    is_extendable = true;
    return *this;
  }

  const char* key;
  const char* doc;
  Bounds bounds = Bounds::any();
  bool nonempty = false;
  const char* type = nullptr;
  bool is_runtime = false;
  bool is_extendable = false;
};

// -- Reader: reads and validates one object; absent keys keep the struct's defaults.
class Reader {
 public:
  explicit Reader(ObjectReader r) : r_(std::move(r)) {}

  void operator()(const F& f, int& x) { r_.read_int(f.key, x, f.bounds); }
  void operator()(const F& f, double& x) { r_.read_number(f.key, x, f.bounds); }
  void operator()(const F& f, bool& x) { r_.read_bool(f.key, x); }
  void operator()(const F& f, uint64_t& x) { r_.read_uint64(f.key, x); }
  void operator()(const F& f, std::string& x) { r_.read_string(f.key, x, f.nonempty); }
  void operator()(const F& f, std::vector<double>& x) { r_.read_numbers(f.key, x, f.bounds); }
  void operator()(const F& f, std::vector<int>& x) { r_.read_ints(f.key, x, f.bounds); }
  template <class E>
  void operator()(const F& f, Choice<E>& x) {
    std::string word = x.name();
    r_.read_enum(f.key, word, Choice<E>::names());
    x = Choice<E>::parse(word);
  }
  /// A name from a registry (an open set, so a string, not an enum).
  void name(const F& f, std::string& x, const std::vector<std::string>& names) {
    r_.read_enum(f.key, x, names);
  }
  /// A field read by its own code (`read`); written as its value.
  template <class T, class Read>
  void custom(const F&, T&, Read&& read) {
    read(r_);
  }
  /// A key whose value is derived from fields (`write`); read by `read`.
  template <class Write, class Read>
  void derived(const F&, Write&&, Read&& read) {
    read(r_);
  }
  template <class Check>
  void check(Check&& c) {
    c(r_);
  }
  template <class Visit>
  void section(const char* key, Visit&& visit) {
    Reader child(r_.object(key));
    visit(child);
    child.r_.finish();
  }
  void finish() const { r_.finish(); }

 private:
  ObjectReader r_;
};

// -- Writer: every field as JSON (to_json, and the ordered schema that checks --set keys).
template <class Json>
class Writer {
 public:
  explicit Writer(Json& j) : j_(j) {}
  template <class T>
  void operator()(const F& f, const T& x) {
    j_[f.key] = x;
  }
  template <class E>
  void operator()(const F& f, const Choice<E>& x) {
    j_[f.key] = x.name();
  }
  void name(const F& f, const std::string& x, const std::vector<std::string>&) { j_[f.key] = x; }
  template <class T, class Read>
  void custom(const F& f, const T& x, Read&&) {
    (*this)(f, x);
  }
  template <class Write, class Read>
  void derived(const F& f, Write&& write, Read&&) {
    j_[f.key] = write();
  }
  template <class Check>
  void check(Check&&) {}
  template <class Visit>
  void section(const char* key, Visit&& visit) {
    Json child = Json::object();
    Writer w(child);
    visit(w);
    j_[key] = std::move(child);
  }

 private:
  Json& j_;
};

// -- DocWriter: one row per field, for the reference table (values written for a default Config).
class DocWriter {
 public:
  DocWriter(std::vector<FieldDoc>& rows, std::string prefix) : rows_(rows), prefix_(std::move(prefix)) {}

  void operator()(const F& f, const int& x) { add(f, f.bounds.describe("an integer"), json(x)); }
  void operator()(const F& f, const double& x) { add(f, f.bounds.describe("a number"), json(x)); }
  void operator()(const F& f, const bool& x) { add(f, "true or false", json(x)); }
  void operator()(const F& f, const uint64_t& x) { add(f, "an integer >= 0", json(x)); }
  void operator()(const F& f, const std::string& x) {
    add(f, f.nonempty ? "a non-empty string" : "a string", json(x));
  }
  void operator()(const F& f, const std::vector<double>& x) {
    add(f, "an array of " + f.bounds.describe("numbers"), json(x));
  }
  void operator()(const F& f, const std::vector<int>& x) {
    add(f, "an array of " + f.bounds.describe("integers"), json(x));
  }
  template <class E>
  void operator()(const F& f, const Choice<E>& x) {
    add(f, "one of " + join(Choice<E>::names(), ", ", true), json(x.name()));
  }
  void name(const F& f, const std::string& x, const std::vector<std::string>& names) {
    add(f, "one of " + join(names, ", ", true), json(x));
  }
  template <class T, class Read>
  void custom(const F& f, const T& x, Read&&) {
    add(f, "", json(x));
  }
  template <class Write, class Read>
  void derived(const F& f, Write&& write, Read&&) {
    add(f, "", json(write()));
  }
  template <class Check>
  void check(Check&&) {}
  template <class Visit>
  void section(const char* key, Visit&& visit) {
    DocWriter child(rows_, prefix_ + key + ".");
    visit(child);
  }

 private:
  void add(const F& f, std::string type, const json& value) {
    if (f.type != nullptr) type = f.type;
    rows_.push_back({prefix_ + f.key, std::move(type), value.dump(), f.doc, f.is_runtime, f.is_extendable});
  }
  std::vector<FieldDoc>& rows_;
  std::string prefix_;
};

// ---- the declarations --------------------------------------------------------------------

const std::vector<std::string> kPairedFormats = {"paired_folder", "viri", "nvie"};
// Formats whose samples have no file names (data.subject_pattern cannot apply).
const std::vector<std::string> kFilelessFormats = {"fer2013_csv", "fer2013_h5", "ck_plus_h5"};
const std::vector<std::string> kDetectors = {"hog", "haar", "mmod",
                                             "none"};  // the detector registry's names (a test ties them)
const std::vector<std::string> kStreamModels = {"fusion_feature", "fusion_late"};
const std::vector<std::string> kVitModels = {"vit", "vit_se"};

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

template <class V>
void paired_fields(V& v, PairedConfig& p) {
  v.custom(F("modalities", "folder name of each modality, in the order the model stacks them")
               .values("two different non-empty strings"),
           p.modalities, [&p](ObjectReader& r) {
             const json* j = r.get("modalities");
             if (j == nullptr) return;
             const Locator& loc = r.loc();
             const std::string ptr = r.at("modalities");
             if (!j->is_array() || j->size() != 2)
               loc.fail(ptr, "expected two modality folder names, got " + show(*j));
             p.modalities.clear();
             for (size_t i = 0; i < j->size(); ++i)
               p.modalities.push_back(as_string(loc, child(ptr, i), (*j)[i], true));
             if (p.modalities[0] == p.modalities[1])
               loc.fail(ptr, "expected two different folder names, got " + show(*j));
           });
  v.custom(
      F("channels", "channels of each modality (1 gray or thermal, 3 colour)").values("1 or 3 per modality"),
      p.channels, [&p](ObjectReader& r) {
        const json* j = r.get("channels");
        if (j == nullptr) return;
        const Locator& loc = r.loc();
        const std::string ptr = r.at("channels");
        if (!j->is_array() || j->size() != p.modalities.size()) {
          loc.fail(ptr, fmt::format("expected {} channel counts (1 or 3, one per modality), got {}",
                                    p.modalities.size(), show(*j)));
        }
        p.channels.clear();
        for (size_t i = 0; i < j->size(); ++i) {
          const json& c = (*j)[i];
          if (!c.is_number_integer() || (c.get<int>() != 1 && c.get<int>() != 3)) {
            loc.fail(child(ptr, i), "expected 1 or 3, got " + show(c));
          }
          p.channels.push_back(c.get<int>());
        }
      });
  v(F("layout",
      "folder layout: modality_first (ROOT/modality/class), class_first (ROOT/class/modality) or auto "
      "(either)"),
    p.layout);
  v.custom(F("stem_patterns",
             "per modality, a regex on the file stem whose group 1 is the pairing key; [] = the whole stem")
               .values("[] or one regex with a capture group per modality"),
           p.stem_patterns, [&p](ObjectReader& r) {
             const json* j = r.get("stem_patterns");
             if (j == nullptr) return;
             const Locator& loc = r.loc();
             const std::string ptr = r.at("stem_patterns");
             if (!j->is_array() || (!j->empty() && j->size() != p.modalities.size())) {
               loc.fail(ptr, fmt::format("expected [] or {} regular expressions (one per modality), got {}",
                                         p.modalities.size(), show(*j)));
             }
             p.stem_patterns.clear();
             for (size_t i = 0; i < j->size(); ++i) {
               p.stem_patterns.push_back(as_string(loc, child(ptr, i), (*j)[i], true));
               check_regex(loc, child(ptr, i), p.stem_patterns.back());
             }
           });
  v(F("unpaired", "an image without its partner: error (list them) or drop (count them)"), p.unpaired);
  v(F("use", "all (fusion) or one modality name (a single-stream model on the same pairs and split)")
        .non_empty()
        .values("\"all\" or one of modalities"),
    p.use);
  v.check([&p](ObjectReader& r) {
    if (p.use != "all" && std::find(p.modalities.begin(), p.modalities.end(), p.use) == p.modalities.end()) {
      r.loc().fail(r.at("use"), fmt::format("expected \"all\" or one of the modalities {}, got \"{}\"",
                                            join(p.modalities, ", ", true), p.use));
    }
  });
}

template <class V>
void split_fields(V& v, SplitConfig& s) {
  v(F("scheme", "how samples are split into train / val / test"), s.scheme);
  v.custom(F("ratios", "ratio: train, val and test fractions")
               .values("3 numbers >= 0 summing to 1, train and test > 0"),
           s.ratios, [&s](ObjectReader& r) {
             const json* j = r.get("ratios");
             if (j == nullptr) return;
             const Locator& loc = r.loc();
             const std::string ptr = r.at("ratios");
             if (!j->is_array() || j->size() != 3) {
               loc.fail(ptr, "expected 3 numbers >= 0 (train, val, test fractions), got " + show(*j));
             }
             s.ratios.clear();
             for (size_t i = 0; i < 3; ++i) {
               s.ratios.push_back(as_number(loc, child(ptr, i), (*j)[i], Bounds::at_least(0)));
             }
             if (s.ratios[0] <= 0)
               loc.fail(child(ptr, 0), "expected a train fraction > 0, got " + show((*j)[0]));
             if (s.ratios[2] <= 0)
               loc.fail(child(ptr, 2), "expected a test fraction > 0, got " + show((*j)[2]));
             const double sum = s.ratios[0] + s.ratios[1] + s.ratios[2];
             if (std::abs(sum - 1.0) > 1e-6) {
               loc.fail(ptr, fmt::format("expected fractions summing to 1, got {} (sum {})", show(*j), sum));
             }
           });
  v(F("stratified", "ratio: keep the class proportions in every part"), s.stratified);
  v(F("order",
      "ratio: random (seeded shuffle) or file (per class, in file-name order: video frames stay with their "
      "neighbours)"),
    s.order);
  v(F("train", "predefined: usage name of the train split").non_empty(), s.train);
  v(F("val", "predefined: usage name of the val split (\"\" = carve val from train)"), s.val);
  v(F("test", "predefined: usage name of the test split (\"\" = none in this data)"), s.test);
  v(F("folds", "k-fold schemes: number of folds").in(Bounds::at_least(2)), s.folds);
  v.custom(F("fold", "k-fold schemes: the test fold, 1-based").values("an integer in [1, folds]"), s.fold,
           [&s](ObjectReader& r) {
             if (const json* j = r.get("fold")) {  // the default fold 1 is always <= folds
               s.fold =
                   as_int(r.loc(), r.at("fold"), *j, Bounds::closed(1, s.folds), " (1 <= fold <= folds)");
             }
           });
  v(F("ck_fold_sizes",
      "ck_plus_folds: each class's block of test samples per fold (the seed code's CK+ folds)")
        .in(Bounds::above(0)),
    s.ck_fold_sizes);
  v.check([&s](ObjectReader& r) {
    if (s.ck_fold_sizes.empty())
      r.loc().fail(r.at("ck_fold_sizes"), "expected one block size per class, got []");
  });
  v(F("val_fraction", "part of train carved (stratified) as val when the scheme has no val")
        .in(Bounds::closed(0, 0.9)),
    s.val_fraction);
  v(F("select_on_test", "the seed protocol: choose the checkpoint on the TEST split (biased)"),
    s.select_on_test);
}

template <class V>
void data_fields(V& v, DataConfig& d) {
  v.name(F("format", "dataset loader (fer list datasets)"), d.format, dataset_format_names());
  v.custom(F("path", "dataset file or folder; relative paths resolve from the working directory")
               .values("a non-empty string (required)"),
           d.path, [&d](ObjectReader& r) {
             d.path =
                 as_string(r.loc(), r.at("path"), r.require("path", " (the dataset file or folder)"), true);
           });
  v.custom(F("classes", "classes to keep, in this order (after label_map); [] = all")
               .values("distinct non-empty strings"),
           d.classes, [&d](ObjectReader& r) {
             const json* j = r.get("classes");
             if (j == nullptr) return;
             const Locator& loc = r.loc();
             const std::string ptr = r.at("classes");
             if (!j->is_array()) loc.fail(ptr, "expected an array of class names, got " + show(*j));
             d.classes.clear();
             d.classes_at.clear();
             for (size_t i = 0; i < j->size(); ++i) {
               std::string name = as_string(loc, child(ptr, i), (*j)[i], /*non_empty=*/true);
               if (std::find(d.classes.begin(), d.classes.end(), name) != d.classes.end()) {
                 loc.fail(child(ptr, i),
                          fmt::format("expected distinct class names, got \"{}\" twice", name));
               }
               d.classes.push_back(std::move(name));
               d.classes_at.push_back(loc.where(child(ptr, i)) + ": " + child(ptr, i));
             }
           });
  v.custom(F("label_map", "source class name -> new class name (merges or renames classes)")
               .values("an object of non-empty strings"),
           d.label_map, [&d](ObjectReader& r) {
             const json* j = r.get("label_map");
             if (j == nullptr) return;
             const Locator& loc = r.loc();
             const std::string ptr = r.at("label_map");
             if (!j->is_object())
               loc.fail(ptr, "expected an object of source class -> new class names, got " + show(*j));
             d.label_map.clear();
             d.label_map_at.clear();
             for (auto it = j->begin(); it != j->end(); ++it) {
               d.label_map[it.key()] = as_string(loc, child(ptr, it.key()), it.value(), /*non_empty=*/true);
               d.label_map_at[it.key()] = loc.where(child(ptr, it.key())) + ": " + child(ptr, it.key());
             }
           });
  v.section("split", [&d](auto& s) { split_fields(s, d.split); });
  v.section("paired", [&d](auto& s) { paired_fields(s, d.paired); });
  v(F("subject_pattern",
      "subject of each sample for subject-grouped splits: a preset (ck_plus, jaffe) or a regex on "
      "the file name, group 1 = subject; \"\" = none")
        .values("\"\", a preset or a regex with a capture group"),
    d.subject_pattern);
  v.check([&d](ObjectReader& r) {
    if (d.subject_pattern.empty()) return;
    const Locator& loc = r.loc();
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
  });
  // Decoding threads; more than 256 only waste memory.
  v(F("workers", "decode and augment threads; 0 = all cores").in(Bounds::closed(0, 256)).runtime(),
    d.workers);
  v(F("prefetch", "batches prepared ahead of the model").in(Bounds::at_least(1)).runtime(), d.prefetch);
}

/// Channels the model sees for a paired dataset: the modalities stacked, or the one in use.
int paired_channels(const DataConfig& d) {
  if (d.paired.use == "all") return std::accumulate(d.paired.channels.begin(), d.paired.channels.end(), 0);
  const auto it = std::find(d.paired.modalities.begin(), d.paired.modalities.end(), d.paired.use);
  return d.paired.channels[static_cast<size_t>(it - d.paired.modalities.begin())];
}

template <class V>
void preprocess_fields(V& v, PreprocessConfig& p, const DataConfig& d) {
  v(F("size", "images are resized to size x size").in(Bounds::closed(8, 1024)), p.size);
  v.custom(
      F("channels", "1 (gray) or 3 (gray replicated, or BGR -> RGB); paired data: implied by data.paired")
          .values("1 or 3 (paired: the channels of data.paired in use)"),
      p.channels, [&p, &d](ObjectReader& r) {
        const Locator& loc = r.loc();
        if (is_paired_format(d.format)) p.channels = paired_channels(d);  // implied by data.paired
        const json* j = r.get("channels");
        if (j == nullptr) return;
        if (is_paired_format(d.format)) {
          if (!j->is_number_integer() || j->get<int64_t>() != p.channels) {
            loc.fail(r.at("channels"),
                     fmt::format("expected {} (data.paired.channels {} with use \"{}\"), got {}", p.channels,
                                 show(json(d.paired.channels)), d.paired.use, show(*j)));
          }
        } else if (!j->is_number_integer() || (j->get<int64_t>() != 1 && j->get<int64_t>() != 3)) {
          loc.fail(r.at("channels"), "expected 1 or 3, got " + show(*j));
        }
        p.channels = j->get<int>();
      });
  v(F("normalize",
      "dataset (the train split's mean and std), imagenet, minmax, none, or custom (mean and std)"),
    p.normalize);
  v.check([&p](ObjectReader& r) {
    if (p.normalize == Normalize::kImagenet && p.channels != 3) {
      r.loc().fail(
          r.at("normalize"),
          fmt::format("expected channels 3 for \"imagenet\" (RGB statistics), got channels {}", p.channels));
    }
  });
  const auto mean_std = [&p](const char* key, std::vector<double>& values, const Bounds& b) {
    return [&p, key, &values, b](ObjectReader& r) {
      const std::string why = " (normalize \"custom\" needs mean and std)";
      if (p.normalize == Normalize::kCustom) r.require(key, why);
      r.read_numbers(key, values, b);
      if ((p.normalize == Normalize::kCustom || !values.empty()) &&
          values.size() != static_cast<size_t>(p.channels)) {
        r.loc().fail(r.at(key), fmt::format("expected {} numbers (one per channel), got {}", p.channels,
                                            show(*r.get(key))));
      }
    };
  };
  v.custom(
      F("mean", "per channel, 0..1 scale (custom; filled in for dataset)").values("one number per channel"),
      p.mean, mean_std("mean", p.mean, Bounds::any()));
  v.custom(F("std", "per channel, 0..1 scale (custom; filled in for dataset)")
               .values("one number > 0 per channel"),
           p.std, mean_std("std", p.std, Bounds::above(0)));
}

template <class V>
void face_fields(V& v, FaceConfig& f) {
  v.name(F("detector", "hog (dlib HOG), haar (OpenCV cascade), mmod (dlib CNN) or none (fer list detectors)"),
         f.detector, kDetectors);
  v(F("mmod_model", "dlib's mmod_human_face_detector.dat (detector mmod)"), f.mmod_model);
  v.check([&f](ObjectReader& r) {
    if (f.detector == "mmod" && f.mmod_model.empty()) {
      r.loc().fail(r.at("mmod_model"),
                   "expected the path of dlib's mmod_human_face_detector.dat (detector \"mmod\"), got \"\"");
    }
  });
  v(F("haar_cascade", "OpenCV's frontal-face cascade (detector haar)").non_empty(), f.haar_cascade);
  v(F("landmark_model", "dlib's 68-point shape predictor").non_empty(), f.landmark_model);
  v(F("upsample", "image doublings before detection (finds faces under about 80 px)")
        .in(Bounds::closed(0, 3)),
    f.upsample);
  v(F("min_confidence", "drop detections scoring below this (the detector's own scale)"), f.min_confidence);
  v(F("min_face", "drop detections smaller than this many pixels").in(Bounds::at_least(0)), f.min_face);
  v(F("detect_max_side", "detect on a copy whose longer side is at most this many pixels; 0 = the full image")
        .in(Bounds::at_least(0))
        .values("0 or an integer >= 64"),
    f.detect_max_side);
  v.check([&f](ObjectReader& r) {
    if (f.detect_max_side > 0 && f.detect_max_side < 64) {
      r.loc().fail(
          r.at("detect_max_side"),
          fmt::format("expected 0 (the full image) or at least 64 pixels, got {}", f.detect_max_side));
    }
  });
  v(F("align", "eyes (similarity transform on the eye centres) or box (the padded detection box)"), f.align);
  v(F("size", "aligned crop side; 0 = preprocess.size")
        .in(Bounds::closed(0, 1024))
        .values("0 or an integer in [8, 1024]"),
    f.size);
  v.check([&f](ObjectReader& r) {
    if (f.size > 0 && f.size < 8) {
      r.loc().fail(r.at("size"), fmt::format("expected 0 or 8..1024, got {}", f.size));
    }
  });
  v(F("eye_x", "left eye centre at this fraction of the side (the right eye at 1 - eye_x)")
        .in(Bounds::open(0, 0.5)),
    f.eye_x);
  v(F("eye_y", "eye line at this fraction of the side").in(Bounds::open(0, 1)), f.eye_y);
  v(F("box_padding", "box alignment (and its fallback): margin, as a fraction of the box side")
        .in(Bounds::closed(0, 1)),
    f.box_padding);
}

template <class V>
void augment_fields(V& v, AugmentConfig& a, int size) {
  v(F("crop", "random crop side in training, centre crop at evaluation; 0 = none")
        .in(Bounds::closed(0, size))
        .values("an integer in [0, preprocess.size]"),
    a.crop);
  v(F("hflip", "probability of a horizontal flip").in(Bounds::closed(0, 1)), a.hflip);
  v(F("vflip", "probability of a vertical flip").in(Bounds::closed(0, 1)), a.vflip);
  v(F("rotation", "largest rotation in degrees, uniform in [-r, r]").in(Bounds::closed(0, 180)), a.rotation);
  v(F("zoom", "scale uniform in [1 - z, 1 + z]").in(Bounds::closed(0, 0.9)), a.zoom);
  v(F("shear", "largest shear angle in degrees").in(Bounds::closed(0, 60)), a.shear);
  v(F("translate", "largest shift, as a fraction of the side").in(Bounds::closed(0, 0.5)), a.translate);
  v(F("perspective", "largest corner displacement, as a fraction of the side").in(Bounds::closed(0, 0.5)),
    a.perspective);
  v(F("brightness", "additive, uniform in [-b, b] (a fraction of 255)").in(Bounds::closed(0, 1)),
    a.brightness);
  v(F("contrast", "multiplicative, uniform in [1 - c, 1 + c]").in(Bounds::closed(0, 1)), a.contrast);
  v(F("gaussian_noise", "noise sigma in gray levels (0..255)").in(Bounds::closed(0, 255)), a.gaussian_noise);
  v(F("salt_pepper", "fraction of pixels set to 0 or 255").in(Bounds::closed(0, 0.5)), a.salt_pepper);
}

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

template <class V>
void model_fields(V& v, ModelConfig& m, const DataConfig& d) {
  // The name is checked against the model registry (models::check_model_name, a layer up), with
  // where it was written.
  v(F("name", "model registry name (fer list models)").non_empty(), m.name);
  v.check([&m](ObjectReader& r) { m.name_at = r.loc().where(r.at("name")) + ": " + r.at("name"); });
  v(F("stem", "ResNet stem: 3x3 stride 1, 7x7 stride 2 + max-pool, or auto (3x3 below 112 px)"), m.stem);
  v(F("init",
      "weight initialisation: model (the model's published scheme) or pytorch (every layer's PyTorch "
      "default, as the seed code)"),
    m.init);
  v(F("pool", "ResNet-18 pooling: global (the whole final map) or avg4 (the seed's 4x4 window, stride 4)"),
    m.pool);
  v.derived(
      F("attention",
        "attention blocks: none, se, cbam, gate, se+gate or cbam+gate (se and feature_gate are "
        "read as older spellings)")
          .values("one of \"none\", \"gate\", \"se\", \"se+gate\", \"cbam\", \"cbam+gate\""),
      [&m] { return attention_name(m); }, [&m](ObjectReader& r) { read_attention(r, m); });
  v(F("se_reduction", "squeeze-and-excitation bottleneck reduction").in(Bounds::at_least(1)), m.se_reduction);
  v(F("dropout", "dropout before the final linear layer").in(Bounds::closed_open(0, 1)), m.dropout);
  v(F("width", "channels of the first stage (64 = the standard ResNet-18)").in(Bounds::closed(1, 1024)),
    m.width);
  v(F("head", "linear, or the visible / infrared / fused MLP heads of the visible-infrared paper"), m.head);
  v(F("importance_weighting", "self-cure importance weighting of each sample (train.rank_*)"),
    m.importance_weighting);
  v(F("pretrained", "a fer checkpoint or run directory whose weights start a fresh run; \"\" = random"),
    m.pretrained);
  v(F("fusion_features",
      "fusion_feature: concat or interleave (element by element) the two streams' features"),
    m.fusion_features);
  v(F("late_combine", "fusion_late: mean or learned (softmax-weighted) logits"), m.late_combine);
  // vit / vit_se: the Transformer's shape. Other models only take the defaults.
  const std::pair<F, int ModelConfig::*> vit_keys[] = {
      {F("vit_patch", "vit: side of the square patches, in pixels (must divide the input side)"),
       &ModelConfig::vit_patch},
      {F("vit_dim", "vit: token width"), &ModelConfig::vit_dim},
      {F("vit_depth", "vit: Transformer blocks"), &ModelConfig::vit_depth},
      {F("vit_heads", "vit: attention heads (must divide vit_dim)"), &ModelConfig::vit_heads},
      {F("vit_mlp_dim", "vit: hidden width of each block's MLP"), &ModelConfig::vit_mlp_dim}};
  for (const auto& [field, member] : vit_keys) {
    F f = field;
    v(f.in(Bounds::at_least(1)), m.*member);
    v.check([&m, key = f.key, member = member](ObjectReader& r) {
      const ModelConfig defaults;
      const bool vit = std::find(kVitModels.begin(), kVitModels.end(), m.name) != kVitModels.end();
      if (!vit && m.*member != defaults.*member) {
        r.loc().fail(r.at(key),
                     fmt::format("expected {} for model \"{}\" (the vit_* keys shape {}), got {}",
                                 defaults.*member, m.name, join(kVitModels, " and ", true), m.*member));
      }
    });
  }
  v.check([&m](ObjectReader& r) {
    if (m.vit_dim % m.vit_heads == 0) return;
    if (r.get("vit_heads") != nullptr ||
        r.get("vit_dim") == nullptr) {  // at vit_heads unless only vit_dim was given
      r.loc().fail(r.at("vit_heads"), fmt::format("expected an integer >= 1 that divides vit_dim {}, got {}",
                                                  m.vit_dim, m.vit_heads));
    }
    r.loc().fail(r.at("vit_dim"),
                 fmt::format("expected a multiple of vit_heads {}, got {}", m.vit_heads, m.vit_dim));
  });
  v.custom(F("init_streams",
             "fusion models: one checkpoint or run directory per stream to start it from (\"\" = "
             "random); [] = none")
               .values("[] or 2 strings"),
           m.init_streams, [&m](ObjectReader& r) { read_init_streams(r, m); });
  v.custom(F("fallback",
             "fused models: modality -> single-modality run that fer infer uses when only that image is "
             "present")
               .values("an object of modality -> non-empty string"),
           m.fallback, [&m, &d](ObjectReader& r) { read_fallback(r, m, d); });
}

/// train.class_weights: "none" | "balanced" | an array of weights | "custom" with class_weight_values.
void read_class_weights(ObjectReader& r, TrainConfig& t) {
  const Locator& loc = r.loc();
  const json* cw = r.get("class_weights");
  const json* cwv = r.get("class_weight_values");
  const std::string cw_ptr = r.at("class_weights");
  const std::string cwv_ptr = r.at("class_weight_values");
  if (cw != nullptr && cw->is_array()) {
    if (cwv != nullptr) loc.fail(cwv_ptr, "expected no class_weight_values when class_weights is an array, got " + show(*cwv));
    if (cw->empty()) loc.fail(cw_ptr, "expected one weight >= 0 per class, got []");
    t.class_weights = ClassWeights::kCustom;
    r.read_numbers("class_weights", t.class_weight_values, Bounds::at_least(0));
    t.class_weights_at = loc.where(cw_ptr) + ": " + cw_ptr;
    return;
  }
  const std::vector<std::string> names = Choice<ClassWeights>::names();
  if (cw != nullptr &&
      (!cw->is_string() || !Choice<ClassWeights>::find(cw->get_ref<const std::string&>()).has_value())) {
    loc.fail(cw_ptr, fmt::format("expected one of {} or an array of weights, got {}", join(names, ", ", true),
                                 show(*cw)));
  }
  if (cw != nullptr) t.class_weights = cw->get<std::string>();
  if (t.class_weights == ClassWeights::kCustom) {
    if (cwv == nullptr)
      loc.fail(cwv_ptr, "required key missing (class_weights \"custom\" needs one weight per class)");
    r.read_numbers("class_weight_values", t.class_weight_values, Bounds::at_least(0));
    if (t.class_weight_values.empty()) loc.fail(cwv_ptr, "expected one weight >= 0 per class, got []");
    t.class_weights_at = loc.where(cwv_ptr) + ": " + cwv_ptr;
  } else if (cwv != nullptr) {
    loc.fail(cwv_ptr, fmt::format("expected no class_weight_values with class_weights \"{}\", got {}",
                                  t.class_weights, show(*cwv)));
  }
}

template <class V>
void train_fields(V& v, TrainConfig& t, const ModelConfig& m) {
  v(F("epochs", "training epochs (the most that fit, with budget_minutes)")
        .in(Bounds::at_least(1))
        .extendable(),
    t.epochs);
  v(F("batch_size", "samples per step").in(Bounds::at_least(1)), t.batch_size);
  v(F("optimizer", "the optimiser"), t.optimizer);
  v(F("lr", "learning rate").in(Bounds::above(0)), t.lr);
  v(F("momentum", "sgd momentum").in(Bounds::closed_open(0, 1)), t.momentum);
  v(F("nesterov", "sgd: Nesterov momentum"), t.nesterov);
  v(F("weight_decay", "L2 penalty (adamw: decoupled)").in(Bounds::at_least(0)), t.weight_decay);
  v(F("beta1", "adam / adamw").in(Bounds::closed_open(0, 1)), t.beta1);
  v(F("beta2", "adam / adamw").in(Bounds::closed_open(0, 1)), t.beta2);
  v.name(F("scheduler", "learning-rate schedule"), t.scheduler, schedule_registry().names());
  v.custom(
      F("warmup_epochs", "linear warm-up from lr/10 before the schedule").values("an integer in [0, epochs)"),
      t.warmup_epochs, [&t](ObjectReader& r) {
        if (const json* j = r.get("warmup_epochs")) {  // the default 0 is always below epochs
          t.warmup_epochs =
              as_int(r.loc(), r.at("warmup_epochs"), *j, Bounds::closed_open(0, t.epochs), " (below epochs)");
        }
      });
  v(F("step_size", "step: epochs between decays").in(Bounds::at_least(1)), t.step_size);
  // The seed's learning_rate_decay_start. Not bounded by epochs: a smoke run of a recipe config
  // (--set train.epochs=1) simply keeps the full rate.
  v(F("decay_start", "step: epochs at the full lr (after any warm-up) before the decays begin")
        .in(Bounds::at_least(0)),
    t.decay_start);
  v.check([&t](ObjectReader& r) {
    if (t.decay_start > 0 && t.scheduler != "step") {
      r.loc().fail(r.at("decay_start"),
                   fmt::format("expected 0 unless scheduler is \"step\" (the decays it delays are "
                               "the step schedule's), got {} with scheduler \"{}\"",
                               t.decay_start, t.scheduler));
    }
  });
  v(F("gamma", "step: decay factor").in(Bounds::open_closed(0, 1)), t.gamma);
  v(F("plateau_patience", "plateau: epochs without improvement before a decay").in(Bounds::at_least(0)),
    t.plateau_patience);
  v(F("plateau_factor", "plateau: decay factor").in(Bounds::open(0, 1)), t.plateau_factor);
  v(F("min_lr", "cosine: the floor").in(Bounds::at_least(0)), t.min_lr);
  v(F("label_smoothing", "label smoothing of the cross-entropy").in(Bounds::closed_open(0, 1)),
    t.label_smoothing);
  // The rank regularisation applies to the importance weights: without them only the defaults
  // (which the written config carries) are accepted, as for the vit_* keys.
  const std::pair<F, double TrainConfig::*> rank_keys[] = {
      {F("rank_margin", "self-cure: required gap between the high and low groups' mean weights")
           .in(Bounds::at_least(0)),
       &TrainConfig::rank_margin},
      {F("rank_high_fraction", "self-cure: share of each batch in the high-weight group")
           .in(Bounds::open(0, 1)),
       &TrainConfig::rank_high_fraction},
      {F("rank_weight", "self-cure: weight of the rank term; 0 = the logit-weighted cross-entropy alone")
           .in(Bounds::at_least(0)),
       &TrainConfig::rank_weight}};
  for (const auto& [f, member] : rank_keys) {
    v(f, t.*member);
    v.check([&t, &m, key = f.key, member = member](ObjectReader& r) {
      const TrainConfig defaults;
      if (!m.importance_weighting && t.*member != defaults.*member) {
        r.loc().fail(r.at(key), fmt::format("expected {} while model.importance_weighting is false (the rank "
                                            "regularisation applies to the importance weights), got {}",
                                            defaults.*member, t.*member));
      }
    });
  }
  v.derived(
      F("class_weights",
        "loss weight of each class: none, balanced (inverse frequency) or an array of one "
        "weight >= 0 per class (also \"custom\" with class_weight_values)")
          .values("\"none\", \"balanced\" or an array of numbers >= 0"),
      [&t] {
        return t.class_weights == ClassWeights::kCustom ? json(t.class_weight_values)
                                                        : json(t.class_weights.name());
      },
      [&t](ObjectReader& r) { read_class_weights(r, t); });
  v(F("grad_clip", "largest global gradient norm; 0 = off").in(Bounds::at_least(0)), t.grad_clip);
  v(F("grad_clip_value", "clamp every gradient element to [-v, v]; 0 = off").in(Bounds::at_least(0)),
    t.grad_clip_value);
  v(F("select_metric", "what chooses the checkpoint, on the selection split"), t.select_metric);
  v(F("select_tiebreak",
      "epochs tying on accuracy or macro F1: first keeps the earliest, loss the lower loss"),
    t.select_tiebreak);
  v(F("precision",
      "fp32, or mixed precision bf16 (AVX512-BF16 / AMX CPUs, recent GPUs) or fp16 (CUDA); also what "
      "fer eval and infer use"),
    t.precision);
  v(F("early_stopping", "stop after this many epochs without improvement; 0 = off")
        .in(Bounds::at_least(0))
        .extendable(),
    t.early_stopping);
  v(F("budget_minutes", "time budget of the epoch loop, in minutes; the schedule is fitted to it; 0 = off")
        .in(Bounds::closed(0, 525600)),  // up to a year
    t.budget_minutes);
}

template <class V>
void eval_fields(V& v, EvalConfig& e, int crop) {
  v(F("ten_crop", "ten-crop test-time augmentation (needs augment.crop)"), e.ten_crop);
  v.check([&e, crop](ObjectReader& r) {
    if (e.ten_crop && crop <= 0) {
      r.loc().fail(r.at("ten_crop"),
                   "expected false while augment.crop is 0 (ten-crop needs a crop size), got true");
    }
  });
  v(F("flip", "flip test-time augmentation: the image and its mirror image (not with ten_crop)"), e.flip);
  v.check([&e](ObjectReader& r) {
    if (e.flip && e.ten_crop) {
      r.loc().fail(
          r.at("flip"),
          "expected false while ten_crop is true (the ten crops include the mirror images), got true");
    }
  });
  v(F("batch_size", "samples per evaluation batch").in(Bounds::at_least(1)), e.batch_size);
}

template <class V>
void config_fields(V& v, Config& c) {
  v(F("name", "run name (the default run directory is runs/NAME)")
        .values("letters, digits, '.', '_' and '-'"),
    c.name);
  v.check([&c](ObjectReader& r) {
    if (!valid_run_name(c.name)) {
      r.loc().fail(r.at("name"),
                   "expected a run name of letters, digits, '.', '_' and '-', got " + show(json(c.name)));
    }
  });
  v(F("seed", "drives the split, shuffle, augmentation and initialisation"), c.seed);
  v(F("device", "where the model runs (auto: CUDA when LibTorch has it and a GPU is present)")
        .values("\"auto\", \"cpu\", \"cuda\" or \"cuda:N\"")
        .runtime(),
    c.device);
  v.check([&c](ObjectReader& r) {
    if (!valid_device(c.device)) {
      r.loc().fail(r.at("device"),
                   "expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\", got " + show(json(c.device)));
    }
  });
  v(F("threads", "intra-op threads; 0 = all cores").in(Bounds::at_least(0)).runtime(), c.threads);
  v(F("deterministic", "request deterministic algorithms"), c.deterministic);
  v.section("data", [&c](auto& s) { data_fields(s, c.data); });
  v.section("preprocess", [&c](auto& s) { preprocess_fields(s, c.preprocess, c.data); });
  v.section("face", [&c](auto& s) { face_fields(s, c.face); });
  v.section("augment", [&c](auto& s) { augment_fields(s, c.augment, c.preprocess.size); });
  v.section("model", [&c](auto& s) { model_fields(s, c.model, c.data); });
  v.section("train", [&c](auto& s) { train_fields(s, c.train, c.model); });
  v.section("eval", [&c](auto& s) { eval_fields(s, c.eval, c.augment.crop); });
}

Config validate(const Locator& loc, const json& doc) {
  Config c;
  Reader r(ObjectReader(loc, doc, ""));
  config_fields(r, c);
  r.finish();
  return c;
}

}  // namespace

std::string attention_name(const ModelConfig& m) {
  std::string block = m.se ? "se" : m.cbam ? "cbam" : "";
  if (m.feature_gate) return block.empty() ? "gate" : block + "+gate";
  return block.empty() ? "none" : block;
}

namespace {

/// Every field, in declaration order (ordered_json keeps it; the schema for --set uses that).
template <class Json>
Json build_json(const Config& cfg) {
  Config c = cfg;  // the declarations take their sections by reference; writing changes nothing
  Json j = Json::object();
  Writer<Json> w(j);
  config_fields(w, c);
  return j;
}

template <class Json>
Json build_face_json(const FaceConfig& face) {
  FaceConfig f = face;
  Json j = Json::object();
  Writer<Json> w(j);
  face_fields(w, f);
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

const std::vector<FieldDoc>& field_docs() {
  static const std::vector<FieldDoc> rows = [] {
    std::vector<FieldDoc> out;
    Config c;
    DocWriter w(out, "");
    config_fields(w, c);
    return out;
  }();
  return rows;
}

std::string field_reference_markdown() {
  const auto cell = [](std::string s) {
    for (size_t k = 0; (k = s.find('|', k)) != std::string::npos; k += 2) s.replace(k, 1, "\\|");
    return s;
  };
  std::string out = "| key | values | default | what |\n|---|---|---|---|\n";
  for (const FieldDoc& f : field_docs()) {
    std::string what = f.doc;
    if (f.runtime) what += " *(runtime: may change on resume and between folds)*";
    if (f.extendable) what += " *(may change on resume)*";
    out +=
        fmt::format("| `{}` | {} | `{}` | {} |\n", f.key, cell(f.values), cell(f.default_value), cell(what));
  }
  return out;
}

namespace {
std::string pointer_of(const std::string& dotted) {
  std::string ptr = "/" + dotted;
  std::replace(ptr.begin(), ptr.end(), '.', '/');
  return ptr;
}
}  // namespace

std::vector<std::string> runtime_fields() {
  std::vector<std::string> out;
  for (const FieldDoc& f : field_docs()) {
    if (f.runtime) out.push_back(pointer_of(f.key));
  }
  return out;
}

std::vector<std::string> resume_free_fields() {
  std::vector<std::string> out;
  for (const FieldDoc& f : field_docs()) {
    if (f.runtime || f.extendable) out.push_back(pointer_of(f.key));
  }
  return out;
}

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
  Reader r(ObjectReader(loc, j, ""));
  face_fields(r, f);
  r.finish();
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
