#pragma once
// Internal to src/train: how checkpoint and state-dict tensors are named in messages.
#include <fmt/format.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace fer::train::detail {

/// "[64,3,7,7]"
inline std::string shape_str(const torch::Tensor& t) {
  std::string s;
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? "," : "") + std::to_string(t.size(d));
  return "[" + s + "]";
}

/// The first `cap` names, then "... (N in all)".
inline std::string capped(const std::vector<std::string>& v, size_t cap) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < cap; ++i) out += (i ? ", " : "") + v[i];
  if (v.size() > cap) out += fmt::format(", ... ({} in all)", v.size());
  return out;
}

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace fer::train::detail
