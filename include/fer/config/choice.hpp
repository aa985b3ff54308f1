#pragma once
// Closed sets of named values in a config (train.optimizer, preprocess.normalize, ...): an enum
// class with one spelling per enumerator, held in a Choice. A Choice can only hold one of its
// enumerators, converts to and from its spelling (the config file's word), and compares with an
// enumerator or a spelling. Comparing with or assigning a word that is not a spelling of the enum
// ("sgdd") is a programming error, std::invalid_argument, never a silent false. Torch-free.
//
// Sets that code can extend (models, dataset formats, detectors, schedules) are registries
// (fer/core/registry.hpp), not enums: their config fields stay names checked against the registry.
#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fer/core/registry.hpp"

namespace fer::config {

/// Specialised for each enum held in a Choice:
///   template <> struct EnumNames<Optimizer> { static constexpr std::array<const char*, 3> names = {...}; };
/// names[i] spells the enumerator of value i (enumerators are 0, 1, 2, ... in declaration order).
template <class E>
struct EnumNames;

template <class E>
class Choice {
 public:
  using Enum = E;

  /// Every spelling, in enumerator order.
  static std::vector<std::string> names() {
    return std::vector<std::string>(EnumNames<E>::names.begin(), EnumNames<E>::names.end());
  }
  /// The enumerator spelled `word`, if any.
  static std::optional<E> find(const std::string& word) {
    for (size_t i = 0; i < EnumNames<E>::names.size(); ++i) {
      if (word == EnumNames<E>::names[i]) return static_cast<E>(i);
    }
    return std::nullopt;
  }
  /// The enumerator spelled `word`; std::invalid_argument (`expected one of ...`) otherwise.
  static E parse(const std::string& word) {
    if (auto e = find(word)) return *e;
    throw std::invalid_argument(not_one_of(word, names()));
  }

  constexpr Choice(E e) : e_(e) {}                      // NOLINT: an enumerator is a Choice
  Choice(const char* word) : e_(parse(word)) {}         // NOLINT: "sgd" reads as Optimizer::sgd
  Choice(const std::string& word) : e_(parse(word)) {}  // NOLINT: as above

  constexpr E value() const { return e_; }
  /// The spelling ("sgd").
  const char* c_str() const { return EnumNames<E>::names[static_cast<size_t>(e_)]; }
  std::string name() const { return c_str(); }
  operator std::string() const { return name(); }  // NOLINT: passes where a name is expected

  friend constexpr bool operator==(Choice a, Choice b) { return a.e_ == b.e_; }
  friend constexpr bool operator!=(Choice a, Choice b) { return a.e_ != b.e_; }
  friend constexpr bool operator==(Choice a, E b) { return a.e_ == b; }
  friend constexpr bool operator!=(Choice a, E b) { return a.e_ != b; }
  friend bool operator==(Choice a, const char* word) { return a.e_ == parse(word); }
  friend bool operator!=(Choice a, const char* word) { return a.e_ != parse(word); }
  friend bool operator==(Choice a, const std::string& word) { return a.e_ == parse(word); }
  friend bool operator!=(Choice a, const std::string& word) { return a.e_ != parse(word); }
  friend std::string operator+(const std::string& a, Choice b) { return a + b.c_str(); }
  friend std::string operator+(Choice a, const std::string& b) { return a.c_str() + b; }
  friend std::ostream& operator<<(std::ostream& os, Choice c) { return os << c.c_str(); }

 private:
  E e_;
};

}  // namespace fer::config

template <class E>
struct fmt::formatter<fer::config::Choice<E>> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const fer::config::Choice<E>& c, Ctx& ctx) const {
    return fmt::formatter<fmt::string_view>::format(c.c_str(), ctx);
  }
};
