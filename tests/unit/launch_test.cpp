// The launcher's environment (fer/core/launch.hpp): torchrun's and Slurm's variables.
#include "fer/core/launch.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fer/core/error.hpp"
#include "test_util.hpp"

namespace {

fer::Launch from(const std::map<std::string, std::string>& vars) {
  return fer::launch_env_from([&vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

std::string usage_error(const std::map<std::string, std::string>& vars) {
  return fer::test::error_of<fer::UsageError>([&vars] { from(vars); });
}

}  // namespace

TEST(Launch, NoLauncherIsOneProcess) {
  const fer::Launch l = from({});
  EXPECT_EQ(l.launcher, "single");
  EXPECT_EQ(l.rank, 0);
  EXPECT_EQ(l.world_size, 1);
  EXPECT_FALSE(l.distributed());
}

TEST(Launch, TorchrunVariables) {
  const fer::Launch l = from({{"RANK", "3"},
                              {"WORLD_SIZE", "4"},
                              {"LOCAL_RANK", "1"},
                              {"LOCAL_WORLD_SIZE", "2"},
                              {"MASTER_ADDR", "node7"},
                              {"MASTER_PORT", "29400"}});
  EXPECT_EQ(l.launcher, "torchrun");
  EXPECT_EQ(l.rank, 3);
  EXPECT_EQ(l.world_size, 4);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_world_size, 2);
  EXPECT_EQ(l.master_addr, "node7");
  EXPECT_EQ(l.master_port, 29400);
  EXPECT_TRUE(l.distributed());
  EXPECT_EQ(fer::threads_per_rank(l, 16), 8);
}

TEST(Launch, BadVariablesNameTheVariableTheValueAndTheRange) {
  EXPECT_HAS(usage_error({{"RANK", "0"}, {"WORLD_SIZE", "0"}}), "WORLD_SIZE=0: expected an integer >= 1");
  EXPECT_HAS(usage_error({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}),
             "RANK=2: expected an integer in [0, 2) (WORLD_SIZE 2)");
  EXPECT_HAS(usage_error({{"RANK", "one"}, {"WORLD_SIZE", "2"}}), "RANK=one: expected an integer in [0, 2)");
  EXPECT_HAS(usage_error({{"RANK", "0"}}), "WORLD_SIZE is not set");
  EXPECT_HAS(usage_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}}), "MASTER_ADDR is not set");
  EXPECT_HAS(
      usage_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}),
      "MASTER_PORT=70000: expected a port number in [1, 65535]");
  EXPECT_HAS(usage_error({{"RANK", "0"},
                          {"WORLD_SIZE", "2"},
                          {"MASTER_ADDR", "h"},
                          {"LOCAL_RANK", "2"},
                          {"LOCAL_WORLD_SIZE", "2"}}),
             "LOCAL_RANK=2: expected an integer in [0, 2)");
  EXPECT_HAS(usage_error({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}}),
             "SLURM_PROCID=4: expected an integer in [0, 4) (SLURM_NTASKS 4)");
}

TEST(Launch, SlurmVariablesAndTheMasterFromTheNodeList) {
  const fer::Launch l = from({{"SLURM_PROCID", "5"},
                              {"SLURM_NTASKS", "8"},
                              {"SLURM_LOCALID", "1"},
                              {"SLURM_NTASKS_PER_NODE", "2(x4)"},
                              {"SLURM_JOB_NODELIST", "gpu[03-06],login1"},
                              {"SLURM_CPUS_PER_TASK", "6"}});
  EXPECT_EQ(l.launcher, "slurm");
  EXPECT_EQ(l.rank, 5);
  EXPECT_EQ(l.world_size, 8);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_world_size, 2);
  EXPECT_EQ(l.master_addr, "gpu03");
  EXPECT_EQ(l.master_port, 29500);
  EXPECT_EQ(fer::threads_per_rank(l, 64), 6);  // SLURM_CPUS_PER_TASK wins
  // MASTER_ADDR, when set, wins over the node list; torchrun's variables win over Slurm's.
  EXPECT_EQ(
      from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_NODELIST", "a1"}, {"MASTER_ADDR", "b2"}})
          .master_addr,
      "b2");
  EXPECT_EQ(from({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}, {"RANK", "0"}, {"WORLD_SIZE", "1"}}).launcher,
            "torchrun");
}

TEST(Launch, FirstSlurmHost) {
  EXPECT_EQ(fer::first_slurm_host("node01"), "node01");
  EXPECT_EQ(fer::first_slurm_host("node[03-05,9],gpu1"), "node03");
  EXPECT_EQ(fer::first_slurm_host("n[001-002]-ib"), "n001-ib");
  EXPECT_EQ(fer::first_slurm_host("rack[2-3]-n[7,9]"), "rack2-n7");
  EXPECT_EQ(fer::first_slurm_host("a,b"), "a");
  EXPECT_HAS(fer::test::error_of<fer::UsageError>([] { fer::first_slurm_host("node[01-04"); }),
             "SLURM_JOB_NODELIST=node[01-04: unbalanced brackets");
  EXPECT_HAS(fer::test::error_of<fer::UsageError>([] { fer::first_slurm_host(""); }), "expected a host name");
}
