// Name suggestions for the registries and the config reader.
#include "fer/core/registry.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace fer {
namespace {

// Optimal string alignment distance (adjacent transpositions count 1).
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string closest_spelling(const std::string& word,
                             const std::vector<std::pair<std::string, std::string>>& spellings) {
  const std::string w = lower(word);
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const auto& [spelling, name] : spellings) {
    const size_t d = edit_distance(w, lower(spelling));
    const size_t limit = std::max<size_t>(1, std::max(w.size(), spelling.size()) / 3);
    if (d <= limit && d < best_d) {
      best_d = d;
      best = name;
    }
  }
  return best;
}

std::string closest_name(const std::string& word, const std::vector<std::string>& candidates) {
  std::vector<std::pair<std::string, std::string>> spellings;
  spellings.reserve(candidates.size());
  for (const auto& c : candidates) spellings.emplace_back(c, c);
  return closest_spelling(word, spellings);
}

std::string not_one_of(const std::string& got, const std::vector<std::string>& names) {
  std::string msg = "expected one of ";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) msg += ", ";
    msg.append("\"").append(names[i]).append("\"");
  }
  msg.append(", got \"").append(got).append("\"");
  const std::string hint = closest_name(got, names);
  if (!hint.empty()) msg.append(" (did you mean \"").append(hint).append("\"?)");
  return msg;
}

}  // namespace fer
