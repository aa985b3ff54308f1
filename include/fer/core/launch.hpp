#pragma once
// Where this process sits in a multi-process job, read from the launcher's environment: torchrun's
// variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) or Slurm's
// (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE, SLURM_JOB_NODELIST /
// SLURM_NODELIST, SLURM_CPUS_PER_TASK), the conventions of PyTorch's own distributed training.
// Torch-free.
//
// Contract: launch_env_from() returns a consistent Launch (0 <= rank < world_size, 0 <= local_rank
// < local_world_size) or throws UsageError naming the variable, its value and what was expected
// ("RANK=2: expected an integer in [0, 2) (WORLD_SIZE 2)"); it never connects to anything (an
// unreachable master is found when the process group starts).
#include <functional>
#include <optional>
#include <string>

namespace fer {

struct Launch {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;  ///< torch.distributed's default
  /// "single" (no launcher variables), "torchrun" (RANK and WORLD_SIZE) or "slurm".
  std::string launcher = "single";
  int cpus_per_task = 0;  ///< SLURM_CPUS_PER_TASK, 0 when not set

  bool distributed() const { return world_size > 1; }
};

/// Reads the variables through `getenv` (returns the value or std::nullopt when unset). torchrun's
/// variables win when RANK or WORLD_SIZE is set; else Slurm's when SLURM_PROCID or SLURM_NTASKS is;
/// else a single process. A partial set (RANK without WORLD_SIZE) is a UsageError.
Launch launch_env_from(const std::function<std::optional<std::string>(const std::string&)>& getenv);

/// launch_env_from() over this process's environment.
Launch launch_env();

/// The first host of a Slurm node list: "node[03-05,9],gpu1" -> "node03", "n[001-002]-ib" ->
/// "n001-ib". UsageError (naming `variable`) for an empty or malformed list.
std::string first_slurm_host(const std::string& nodelist, const std::string& variable = "SLURM_JOB_NODELIST");

/// Intra-op threads for one rank when the config says 0 (all cores): SLURM_CPUS_PER_TASK when
/// set, else the machine's cores shared out among the ranks on this machine (at least 1).
int threads_per_rank(const Launch& launch, int cores);

}  // namespace fer
