#pragma once
// Named things a config or a command line can ask for (models, dataset formats, face detectors,
// transforms, learning-rate schedules): one entry each, with a one-line description that `fer list`
// prints, in a fixed order. Torch-free.
//
// Each registry is filled once, by an explicit list of calls in its module (static
// self-registration would be dropped from a static library by the linker), so adding a model
// is its own file and one line in that list.
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "fer/core/error.hpp"

namespace fer {

/// The candidate closest to `word` (case-insensitive edit distance, at most a third of the longer
/// spelling, at least 1), or "" when none is that close.
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);
/// The same over {spelling, name} pairs (aliases: "learning_rate" spells "lr"); returns the name.
std::string closest_spelling(const std::string& word,
                             const std::vector<std::pair<std::string, std::string>>& spellings);

/// `expected one of "a", "b", got "x" (did you mean "a"?)`: the message of a name that is not one
/// of `names` (shared with the config reader's enumerations, so both read alike).
std::string not_one_of(const std::string& got, const std::vector<std::string>& names);

template <class T>
class Registry {
 public:
  struct Entry {
    std::string name;
    std::string description;  ///< one line
    T value;
  };

  /// `what` names an entry in messages ("model", "dataset format").
  explicit Registry(std::string what) : what_(std::move(what)) {}

  /// Appends an entry. A duplicate or empty name is a programming error: std::logic_error.
  Registry& add(std::string name, std::string description, T value) {
    if (name.empty() || find(name) != nullptr) {
      throw std::logic_error("registry of " + what_ + ": empty or duplicate name \"" + name + "\"");
    }
    entries_.push_back({std::move(name), std::move(description), std::move(value)});
    return *this;
  }

  /// The entry named `name`, or nullptr.
  const Entry* find(const std::string& name) const {
    for (const auto& e : entries_) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

  /// The entry named `name`. Otherwise ConfigError "`where`: expected one of ..., got "x" (did
  /// you mean ...?)"; `where` says where the name was written ("t.json:4: /model/name").
  const Entry& get(const std::string& name, const std::string& where) const {
    if (const Entry* e = find(name)) return *e;
    throw ConfigError((where.empty() ? what_ : where) + ": " + not_one_of(name, names()));
  }

  /// The names, in registration order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }

  const std::vector<Entry>& entries() const { return entries_; }
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::vector<Entry> entries_;
};

}  // namespace fer
