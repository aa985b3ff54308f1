#include "fer/core/launch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <vector>

#include "fer/core/error.hpp"

namespace fer {
namespace {

using Getenv = std::function<std::optional<std::string>(const std::string&)>;

/// The integer value of `name`, checked against [lo, hi]; `range` says the bounds in words.
int read_int(const std::string& name, const std::string& value, long lo, long hi, const std::string& range) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value.c_str(), &end, 10);
  const bool whole = !value.empty() && end != nullptr && *end == '\0' && errno == 0 &&
                     !std::isspace(static_cast<unsigned char>(value.front()));
  FER_CHECK(whole && v >= lo && v <= hi, UsageError, "{}={}: expected {}", name, value, range);
  return static_cast<int>(v);
}

std::optional<int> optional_int(const Getenv& getenv, const std::string& name, long lo, long hi,
                                const std::string& range) {
  const auto v = getenv(name);
  if (!v) return std::nullopt;
  return read_int(name, *v, lo, hi, range);
}

std::string require(const Getenv& getenv, const std::string& name, const std::string& why) {
  const auto v = getenv(name);
  FER_CHECK(v.has_value(), UsageError, "{} is not set: {}", name, why);
  return *v;
}

void read_master(const Getenv& getenv, Launch& l, const std::optional<std::string>& default_addr) {
  if (const auto addr = getenv("MASTER_ADDR")) {
    FER_CHECK(!addr->empty(), UsageError,
              "MASTER_ADDR is empty: expected the host name or address of rank 0");
    l.master_addr = *addr;
  } else if (default_addr) {
    l.master_addr = *default_addr;
  } else if (l.distributed()) {
    throw UsageError(
        fmt::format("MASTER_ADDR is not set: {} processes (WORLD_SIZE {}) need the address of rank 0",
                    l.world_size, l.world_size));
  }
  if (auto port = optional_int(getenv, "MASTER_PORT", 1, 65535, "a port number in [1, 65535]"))
    l.master_port = *port;
}

/// The job's size and this process's rank from `size_var` and `rank_var`, which are set together.
void read_rank_and_size(const Getenv& getenv, const std::string& rank_var, const std::string& size_var,
                        const std::string& why, Launch& l) {
  l.world_size = read_int(size_var, require(getenv, size_var, why), 1, INT_MAX, "an integer >= 1");
  l.rank = read_int(rank_var, require(getenv, rank_var, why), 0, l.world_size - 1,
                    fmt::format("an integer in [0, {}) ({} {})", l.world_size, size_var, l.world_size));
}

void check_local(Launch& l, const std::string& rank_var, const std::string& size_var) {
  FER_CHECK(l.local_world_size <= l.world_size, UsageError,
            "{}={}: expected at most the {} processes of the job", size_var, l.local_world_size,
            l.world_size);
  FER_CHECK(l.local_rank < l.local_world_size, UsageError, "{}={}: expected an integer in [0, {}) ({} {})",
            rank_var, l.local_rank, l.local_world_size, size_var, l.local_world_size);
}

}  // namespace

Launch launch_env_from(const Getenv& getenv) {
  Launch l;
  const int max = INT_MAX;
  if (getenv("RANK") || getenv("WORLD_SIZE")) {
    l.launcher = "torchrun";
    read_rank_and_size(getenv, "RANK", "WORLD_SIZE",
                       "set RANK and WORLD_SIZE together (torchrun sets both), or neither", l);
    l.local_world_size =
        optional_int(getenv, "LOCAL_WORLD_SIZE", 1, max, "an integer >= 1").value_or(l.distributed() ? 0 : 1);
    l.local_rank = optional_int(getenv, "LOCAL_RANK", 0, max, "an integer >= 0").value_or(0);
    if (l.local_world_size == 0) l.local_world_size = l.local_rank + 1;  // unknown: at least this many here
    check_local(l, "LOCAL_RANK", "LOCAL_WORLD_SIZE");
    read_master(getenv, l, std::nullopt);
    return l;
  }
  if (getenv("SLURM_PROCID") || getenv("SLURM_NTASKS")) {
    l.launcher = "slurm";
    read_rank_and_size(getenv, "SLURM_PROCID", "SLURM_NTASKS",
                       "Slurm sets SLURM_PROCID and SLURM_NTASKS for every task of srun", l);
    l.local_rank = optional_int(getenv, "SLURM_LOCALID", 0, max, "an integer >= 0").value_or(0);
    // SLURM_NTASKS_PER_NODE is only set with --ntasks-per-node; "2(x3)" spells 2 tasks on 3 nodes.
    l.local_world_size = l.local_rank + 1;
    if (const auto per_node = getenv("SLURM_NTASKS_PER_NODE")) {
      const std::string head = per_node->substr(0, per_node->find('('));
      l.local_world_size = read_int("SLURM_NTASKS_PER_NODE", head, 1, max, "an integer >= 1 (or N(xM))");
    }
    check_local(l, "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE");
    if (auto cpus = optional_int(getenv, "SLURM_CPUS_PER_TASK", 1, max, "an integer >= 1"))
      l.cpus_per_task = *cpus;
    std::optional<std::string> host;
    for (const char* var : {"SLURM_JOB_NODELIST", "SLURM_NODELIST"}) {
      if (const auto list = getenv(var)) {
        host = first_slurm_host(*list, var);
        break;
      }
    }
    read_master(getenv, l, host);
    return l;
  }
  return l;
}

Launch launch_env() {
  return launch_env_from([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read once at start-up
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  });
}

std::string first_slurm_host(const std::string& nodelist, const std::string& variable) {
  // The first entry: up to the first comma outside brackets.
  size_t end = 0;
  int depth = 0;
  for (; end < nodelist.size(); ++end) {
    const char c = nodelist[end];
    if (c == '[') ++depth;
    if (c == ']') --depth;
    FER_CHECK(depth >= 0 && depth <= 1, UsageError, "{}={}: unbalanced brackets", variable, nodelist);
    if (c == ',' && depth == 0) break;
  }
  FER_CHECK(depth == 0, UsageError, "{}={}: unbalanced brackets", variable, nodelist);
  const std::string entry = nodelist.substr(0, end);
  FER_CHECK(!entry.empty(), UsageError, "{}={}: expected a host name or a list like node[01-04]", variable,
            nodelist);
  // Every bracket group becomes its first value: "n[001-002]-ib" -> "n001-ib".
  std::string host;
  for (size_t k = 0; k < entry.size(); ++k) {
    if (entry[k] != '[') {
      host += entry[k];
      continue;
    }
    const size_t close = entry.find(']', k);
    const std::string group = entry.substr(k + 1, close - k - 1);
    const std::string first = group.substr(0, std::min(group.find(','), group.find('-')));
    FER_CHECK(
        !first.empty() && std::all_of(first.begin(), first.end(),
                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }),
        UsageError, "{}={}: expected numbers in brackets, like node[01-04,07]", variable, nodelist);
    host += first;
    k = close;
  }
  return host;
}

int threads_per_rank(const Launch& launch, int cores) {
  if (launch.cpus_per_task > 0) return launch.cpus_per_task;
  return std::max(1, cores / std::max(1, launch.local_world_size));
}

}  // namespace fer
